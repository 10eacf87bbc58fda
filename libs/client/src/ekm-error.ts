import { RETRIABLE, type BusErrorCode, type ReplyError } from '@ekm/contracts';

/**
 * A typed failure returned by an EKM service (or raised by the client itself for timeouts and an
 * unreachable bus). `code` is one of the contract's {@link BusErrorCode}s; switch on it, not on `message`.
 */
export class EkmError extends Error {
  override readonly name = 'EkmError';
  /** Wire error code. */
  readonly code: BusErrorCode;
  /** Extra machine-readable facts from the service (never secrets). */
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(error: ReplyError) {
    super(error.message);
    this.code = error.code;
    if (error.details !== undefined) this.details = error.details;
  }

  /** Whether retrying the same request (with the same idempotency key) may succeed. */
  get retriable(): boolean {
    return RETRIABLE[this.code] ?? false;
  }
}
