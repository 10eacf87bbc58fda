/** Stable codes of event-store errors; adapters at the edge map them to wire codes. */
export const EventStoreErrorCode = {
  ConcurrencyConflict: 'EVENT_STORE_CONCURRENCY_CONFLICT',
  InvalidAppend: 'EVENT_STORE_INVALID_APPEND',
  InvalidRead: 'EVENT_STORE_INVALID_READ',
  InvalidServiceName: 'EVENT_STORE_INVALID_SERVICE_NAME',
} as const;
export type EventStoreErrorCode = (typeof EventStoreErrorCode)[keyof typeof EventStoreErrorCode];

/** The stream's version did not match the expectation. Retriable by reloading and deciding again. */
export class ConcurrencyConflictError extends Error {
  override readonly name = 'ConcurrencyConflictError';
  readonly code = EventStoreErrorCode.ConcurrencyConflict;
  readonly retriable = true;
  constructor(
    readonly streamId: string,
    readonly expected: string,
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected version ${expected}, but it is at ${actual}`);
  }
}

/** The append was malformed (empty, bad stream id, unknown meta field, ...). Nothing was written. */
export class InvalidAppendError extends Error {
  override readonly name = 'InvalidAppendError';
  readonly code = EventStoreErrorCode.InvalidAppend;
  readonly retriable = false;
  constructor(
    readonly streamId: string,
    readonly reason: string,
  ) {
    super(`append to stream ${JSON.stringify(streamId.slice(0, 200))} rejected: ${reason}`);
  }
}

/** A read was malformed (bad limit, checkpoint or position). */
export class InvalidReadError extends Error {
  override readonly name = 'InvalidReadError';
  readonly code = EventStoreErrorCode.InvalidRead;
  readonly retriable = false;
  constructor(readonly reason: string) {
    super(`read rejected: ${reason}`);
  }
}

/** Service names become schema, role and channel names, so they are restricted to `[a-z][a-z0-9_]*`. */
export class InvalidServiceNameError extends Error {
  override readonly name = 'InvalidServiceNameError';
  readonly code = EventStoreErrorCode.InvalidServiceName;
  readonly retriable = false;
  constructor(readonly service: string) {
    super(`service name ${JSON.stringify(service.slice(0, 80))} is invalid: use 1-40 characters of [a-z0-9_], starting with a letter`);
  }
}
