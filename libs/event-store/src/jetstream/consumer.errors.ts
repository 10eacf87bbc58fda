/**
 * Handler failures are retriable unless they say otherwise (Novu's worker): a transient failure is
 * nak'ed with a growing delay, never terminated. Terminal means "this message can never succeed".
 */

/** Throw from a handler for a message that can never be processed: it is dead-lettered and terminated. */
export class TerminalError extends Error {
  override readonly name: string = 'TerminalError';
  readonly retriable = false;
}

/** The body is not JSON or fails the consumer's schema. */
export class InvalidMessageError extends TerminalError {
  override readonly name = 'InvalidMessageError';
  readonly code = 'INVALID_MESSAGE';
}

/** Retriable unless the error is a TerminalError or carries `retriable: false` (e.g. ConcurrencyConflictError carries `true`). */
export function isRetriable(err: unknown): boolean {
  if (err instanceof TerminalError) return false;
  if (typeof err === 'object' && err !== null && 'retriable' in err) return (err as { retriable: unknown }).retriable !== false;
  return true;
}
