/**
 * Structured JSON logs (pino). Redaction is the last line of defence: code must not log key
 * material at all, but any field whose name could hold material or secrets is censored anyway,
 * at the top level and nested (one and two levels, and in arrays).
 */
import pino, { type DestinationStream, type Logger } from 'pino';

/** Field names censored wherever they appear (camelCase and the AWS KMS PascalCase forms). */
export const SENSITIVE_FIELDS = [
  'plaintext', 'Plaintext', 'key', 'Key', 'keyMaterial', 'KeyMaterial', 'material', 'dek', 'Dek', 'DEK',
  'secret', 'Secret', 'password', 'Password', 'passphrase', 'pin', 'PIN', 'token', 'Token', 'ImportToken',
  'credential', 'Credential', 'credentials', 'ciphertextBlob', 'CiphertextBlob', 'ciphertext', 'privateKey', 'PrivateKey',
  'wrappedKey', 'wrappedMaterial', 'rootSecret', 'authorization', 'Authorization', 'apiKey', 'seed',
  'databaseUrl', 'databaseAdminUrl', 'connectionString',
] as const;

/** pino `redact` paths: every sensitive field at depth 0, 1 and 2 (`x`, `*.x`, `*.*.x`). */
export const REDACT_PATHS: readonly string[] = SENSITIVE_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

/** What replaces a redacted value. */
export const REDACTED = '[REDACTED]';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level (`EKM_LOG_LEVEL`), default `info`. */
  readonly level?: string;
  /** Where lines go (default stdout); tests pass a stream to read them. */
  readonly destination?: DestinationStream;
}

/**
 * A JSON logger for `service`: every line has `level` (label), `time` (ISO), `service`, `msg`.
 * Sensitive fields are censored as `"[REDACTED]"`.
 */
export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    opts.destination ?? pino.destination({ sync: true }),
  );
}

export type { Logger } from 'pino';
