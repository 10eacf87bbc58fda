/** Process exit codes of `ekm` (documented in docs/cli.md). Scripts switch on these, so they never change. */
import { BusErrorCode } from '@ekm/contracts';
import { EkmError } from '@ekm/client';
import { CliError, CliErrorCode } from './cli-error';

export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** The service refused or failed the request (unknown key, wrong state, bad context, ...). */
  ServiceError: 1,
  /** Bad command line or unreadable input file; nothing was sent. */
  Usage: 2,
  /** The bus or a dependency is unreachable, or no reply in time: retrying later may succeed. */
  Unavailable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Codes that mean "try again later" rather than "this request is wrong". */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  BusErrorCode.Unavailable, BusErrorCode.Timeout, BusErrorCode.AuditUnavailable, BusErrorCode.RootKeyUnavailable, BusErrorCode.RateLimited,
]);

/** The `{code, message}` printed for a failure, and the exit code it maps to. */
export function classify(err: unknown): { code: string; message: string; exitCode: ExitCode } {
  if (err instanceof EkmError || err instanceof CliError) {
    const exitCode = err.code === CliErrorCode.Usage ? ExitCode.Usage : UNAVAILABLE_CODES.has(err.code) ? ExitCode.Unavailable : ExitCode.ServiceError;
    return { code: err.code, message: err.message, exitCode };
  }
  // A bug in the CLI itself: say so without a stack (run with EKM_DEBUG=1 for one).
  const message = err instanceof Error ? err.message : String(err);
  return { code: BusErrorCode.Internal, message: `unexpected CLI failure: ${message}`, exitCode: ExitCode.ServiceError };
}
