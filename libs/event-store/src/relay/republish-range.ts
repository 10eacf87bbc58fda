/**
 * Reconciler: re-publishes the events in (from, to] — e.g. after a JetStream stream was lost or
 * purged. Inside the stream's duplicate window JetStream drops ids it already holds; outside it
 * consumers see duplicates, which they must tolerate anyway (idempotent, per-stream versions).
 * It does not touch the relay checkpoint and may run beside the active relay.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Checkpoint, EventStore } from '../event-store.port';
import { publishEvents } from './event-message';

export interface RepublishRangeOptions {
  readonly service: string;
  readonly store: Pick<EventStore, 'readAll'>;
  readonly js: JetStreamClient;
  readonly batchSize?: number;
  readonly publishTimeoutMs?: number;
}

export interface RepublishResult {
  /** Events sent, including those JetStream reported as duplicates. */
  readonly published: number;
  readonly duplicates: number;
  /** Position of the last event sent, or `from` when the range was empty. */
  readonly through: Checkpoint;
}

const compare = (a: Checkpoint, b: Checkpoint): number => {
  const tx = BigInt(a.transactionId) - BigInt(b.transactionId);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  const gp = BigInt(a.globalPosition) - BigInt(b.globalPosition);
  return gp === 0n ? 0 : gp < 0n ? -1 : 1;
};

/** Events after `from` up to and including `to`, in relay order. */
export async function republishRange(opts: RepublishRangeOptions, from: Checkpoint, to: Checkpoint): Promise<RepublishResult> {
  const batchSize = opts.batchSize ?? 256;
  let cursor = from;
  let published = 0;
  let duplicates = 0;
  for (;;) {
    const read = await opts.store.readAll(cursor, batchSize);
    const batch = read.filter((e) => compare({ transactionId: e.transactionId, globalPosition: e.globalPosition }, to) <= 0);
    if (batch.length > 0) {
      const out = await publishEvents(opts.js, opts.service, batch, { timeoutMs: opts.publishTimeoutMs ?? 5_000 });
      published += out.published;
      duplicates += out.duplicates;
      const last = batch[batch.length - 1];
      cursor = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    }
    if (batch.length < read.length || read.length < batchSize) return { published, duplicates, through: cursor };
  }
}
