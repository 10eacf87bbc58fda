/**
 * Failures the CLI raises itself (bad arguments, unreadable files, missing configuration, an unreachable
 * bus), with the same `{code, message}` shape the services use so `--json` callers parse one error format.
 */
import { BusErrorCode } from '@ekm/contracts';

/** CLI-local error codes (services never send these). */
export const CliErrorCode = {
  /** Bad or missing arguments, or an input file that cannot be read. */
  Usage: 'EKM_CLI_USAGE',
  /**
   * The CLI is not set up to reach a stack: no NATS URL given or found, or a credential / NATS
   * credential file that is missing, unreadable, malformed or readable by others. Retrying cannot help.
   */
  Config: 'EKM_CLI_CONFIG',
} as const;

/** A CLI-side failure: `code` is a {@link CliErrorCode} or, for an unreachable bus, `EKM_UNAVAILABLE`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Bad invocation: exit code 2. */
export const usageError = (message: string): CliError => new CliError(CliErrorCode.Usage, message);

/** Missing or broken configuration (NATS URL, credential files): exit code 4. */
export const configError = (message: string): CliError => new CliError(CliErrorCode.Config, message);

/** The bus cannot be reached at all (connect failed): exit code 3. */
export const unreachable = (url: string, why: string): CliError =>
  new CliError(BusErrorCode.Unavailable, `cannot connect to NATS at ${url}: ${why}`);
