/** Process exit codes of `ekm` (documented in docs/cli.md). Scripts switch on these, so they never change. */
import { BusErrorCode } from '@ekm/contracts';
import { CredentialFileError } from '@ekm/auth';
import { EkmError } from '@ekm/client';
import { CliError, CliErrorCode } from './cli-error';

export const ExitCode = {
  /** Success (also: the output pipe was closed early, e.g. `ekm ... | head`). */
  Ok: 0,
  /** The service refused or failed the request (unknown key, wrong state, bad context, ...), or some items of a batch failed. */
  ServiceError: 1,
  /** Bad command line or unreadable input file; nothing was sent. */
  Usage: 2,
  /** The bus or a dependency is unreachable, or no reply in time: retrying later may succeed. */
  Unavailable: 3,
  /** The CLI is not configured to reach a stack (no NATS URL, bad credential file); nothing was sent. */
  Config: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Codes that mean "try again later" rather than "this request is wrong". */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  BusErrorCode.Unavailable, BusErrorCode.Timeout, BusErrorCode.AuditUnavailable, BusErrorCode.RootKeyUnavailable, BusErrorCode.RateLimited,
]);

/** The exit code of an error code (`EKM_CLI_USAGE` -> 2, `EKM_CLI_CONFIG` -> 4, unavailable -> 3, else 1). */
export function exitCodeOf(code: string): ExitCode {
  if (code === CliErrorCode.Usage) return ExitCode.Usage;
  if (code === CliErrorCode.Config) return ExitCode.Config;
  return UNAVAILABLE_CODES.has(code) ? ExitCode.Unavailable : ExitCode.ServiceError;
}

/** The `{code, message}` printed for a failure, and the exit code it maps to. */
export function classify(err: unknown): { code: string; message: string; exitCode: ExitCode } {
  if (err instanceof EkmError || err instanceof CliError) return { code: err.code, message: err.message, exitCode: exitCodeOf(err.code) };
  // A credential file the SDK itself read (a path in EKM_CREDENTIALS it found on its own): configuration, not a bug.
  if (err instanceof CredentialFileError) return { code: CliErrorCode.Config, message: `credential file: ${err.message}`, exitCode: ExitCode.Config };
  // A bug in the CLI itself: say so without a stack (run with EKM_DEBUG=1 for one).
  const message = err instanceof Error ? err.message : String(err);
  return { code: BusErrorCode.Internal, message: `unexpected CLI failure: ${message}`, exitCode: ExitCode.ServiceError };
}
