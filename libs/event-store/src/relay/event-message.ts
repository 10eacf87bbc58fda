/** How one recorded event becomes a JetStream message, and pipelined publishing of a batch. */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { RecordedEvent } from '../event-store.port';
import { eventSubject } from '../jetstream/event-streams';
import { connectionOf, publishPipelined } from './pipelined-publish';
import { EventHeader, type EventEnvelope } from './relay.types';

export function toEnvelope(e: RecordedEvent): EventEnvelope {
  return {
    eventId: e.eventId,
    type: e.type,
    schemaVersion: e.schemaVersion,
    streamId: e.streamId,
    streamPosition: e.streamPosition,
    globalPosition: e.globalPosition,
    transactionId: e.transactionId,
    recordedAt: e.recordedAt.toISOString(),
    data: e.data,
    meta: e.meta,
  };
}

export function toHeaders(e: RecordedEvent, relaySequence?: string): MsgHdrs {
  const h = headers();
  if (relaySequence !== undefined) h.set(EventHeader.RelaySequence, relaySequence);
  h.set(EventHeader.StreamId, e.streamId);
  h.set(EventHeader.StreamPosition, String(e.streamPosition));
  h.set(EventHeader.EventType, e.type);
  h.set(EventHeader.GlobalPosition, e.globalPosition);
  h.set(EventHeader.SchemaVersion, String(e.schemaVersion));
  if (e.meta.traceparent) h.set('traceparent', e.meta.traceparent);
  return h;
}

export interface PublishOutcome {
  readonly published: number;
  /** Acks flagged duplicate: JetStream already held that Nats-Msg-Id (a retry or a reconciler pass). */
  readonly duplicates: number;
}

/**
 * Publishes in order, pipelined, and waits for every ack. Resolves only when all were acked; otherwise
 * rejects with the first error after every publish settled (so no stray publish of this batch can land
 * after the caller's retry starts).
 */
export async function publishEvents(
  js: JetStreamClient,
  service: string,
  batch: readonly RecordedEvent[],
  opts: { timeoutMs: number; beforePublish?: (e: RecordedEvent) => void | Promise<void>; sequence?: (e: RecordedEvent) => string | undefined },
): Promise<PublishOutcome> {
  const nc = connectionOf(js);
  const settled = nc
    ? await publishPipelined(nc, batch.length, (i) => {
        const e = batch[i];
        return { subject: eventSubject(service, e.type), payload: JSON.stringify(toEnvelope(e)), msgId: e.eventId, headers: toHeaders(e, opts.sequence?.(e)) };
      }, opts.timeoutMs, opts.beforePublish ? (i) => opts.beforePublish?.(batch[i]) : undefined)
    : await publishWithRequests(js, service, batch, opts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const duplicates = settled.filter((s) => s.status === 'fulfilled' && s.value.duplicate).length;
  return { published: batch.length, duplicates };
}

/** The plain `js.publish` path, for a JetStreamClient whose connection is not reachable. */
async function publishWithRequests(
  js: JetStreamClient,
  service: string,
  batch: readonly RecordedEvent[],
  opts: { timeoutMs: number; beforePublish?: (e: RecordedEvent) => void | Promise<void>; sequence?: (e: RecordedEvent) => string | undefined },
): Promise<PromiseSettledResult<PubAck>[]> {
  const pending: Promise<PubAck>[] = [];
  try {
    for (const e of batch) {
      if (opts.beforePublish) await opts.beforePublish(e);
      const payload = JSON.stringify(toEnvelope(e));
      pending.push(js.publish(eventSubject(service, e.type), payload, { msgID: e.eventId, headers: toHeaders(e, opts.sequence?.(e)), timeout: opts.timeoutMs }));
    }
  } finally {
    // A throwing hook or subject must not leave earlier publishes unobserved.
    await Promise.allSettled(pending);
  }
  return Promise.allSettled(pending);
}
