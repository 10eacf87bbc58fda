/**
 * One projection shape for both modes: inline (same transaction as the append, read-your-writes) and
 * async (AsyncProjectionRunner, checkpointed). Both must give the same state as rebuildProjection.
 */
import type { InlineProjection, RecordedEvent, TransactionContext } from '../event-store.port';

export interface Projection {
  /** Checkpoint name; unique within a service schema. */
  readonly name: string;
  /** Empties the projection's tables (called by rebuilds before replaying from START). */
  reset(tx: TransactionContext): Promise<void>;
  /**
   * Applies events in log order, inside the caller's transaction. Must not throw on a recorded event
   * it does not understand (an event is a fact): skip it. Throwing rolls the batch (or append) back.
   */
  apply(tx: TransactionContext, events: readonly RecordedEvent[]): Promise<void>;
  /**
   * Called once by a rebuild after the last batch, in the same transaction, before the checkpoint moves:
   * a projection that defers its writes during a rebuild (to write each row once) writes them here.
   */
  finish?(tx: TransactionContext): Promise<void>;
}

/** Uses a projection inline: `appendToStream(id, events, { ..., inline: [toInline(p)] })`. */
export function toInline(projection: Projection): InlineProjection {
  return (tx, events) => projection.apply(tx, events);
}
