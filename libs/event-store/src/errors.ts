/** The stream's version did not match the expectation. Retriable by reloading and deciding again. */
export class ConcurrencyConflictError extends Error {
  override readonly name = 'ConcurrencyConflictError';
  readonly retriable = true;
  constructor(
    readonly streamId: string,
    readonly expected: string,
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected version ${expected}, but it is at ${actual}`);
  }
}
