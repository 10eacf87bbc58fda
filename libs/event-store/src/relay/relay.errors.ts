/** The lease row's fencing counter moved on: another relay took over; this one must stop publishing. */
export class RelayLeaseLostError extends Error {
  override readonly name = 'RelayLeaseLostError';
  readonly code = 'RELAY_LEASE_LOST';
  readonly retriable = false;
  constructor(
    readonly schema: string,
    readonly fencing: string,
    readonly currentFencing: string,
  ) {
    super(`${schema} outbox relay lease lost: our fencing token ${fencing}, current ${currentFencing}`);
  }
}

/** A checkpoint write that would not move forward: a bug or a second writer without the lease. */
export class RelayCheckpointNotForwardError extends Error {
  override readonly name = 'RelayCheckpointNotForwardError';
  readonly code = 'RELAY_CHECKPOINT_NOT_FORWARD';
  readonly retriable = false;
  constructor(
    readonly schema: string,
    readonly current: string,
    readonly proposed: string,
  ) {
    super(`${schema} outbox relay checkpoint only moves forward: at ${current}, refused ${proposed}`);
  }
}
