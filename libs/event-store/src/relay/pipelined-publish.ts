/**
 * Pipelined JetStream publishing without a request object per message.
 *
 * `js.publish` goes through `nc.request`, which builds a RequestError and a TimeoutError (stack
 * captured) for every message even when the ack arrives: 6.8 % of the keys service's CPU under load
 * (docs/performance.md). Here one long-lived subscription per connection on `<inbox>.*` (inside the
 * connection's inbox prefix, so NATS permissions are unchanged) collects the acks, each message is a
 * plain core publish with `reply = <inbox>.<counter>`, and one timer bounds a whole batch. The message
 * itself is unchanged: same subject, body and headers, `Nats-Msg-Id` = event id per event, so
 * JetStream's duplicate window and the consumers' per-event dedupe work exactly as before.
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';

/** One message to publish; `msgId` becomes the `Nats-Msg-Id` header. */
export interface OutgoingMessage {
  readonly subject: string;
  readonly payload: string;
  readonly msgId: string;
  readonly headers: MsgHdrs;
}

export class PublishAckError extends Error {
  override readonly name = 'PublishAckError';
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

/** The connection behind a JetStreamClient made by `jetstream(nc)` (its public `nc` field), if any. */
export function connectionOf(js: JetStreamClient): NatsConnection | null {
  const nc = (js as unknown as { nc?: NatsConnection }).nc;
  return nc && typeof nc.publish === 'function' && typeof nc.subscribe === 'function' ? nc : null;
}

function inboxPrefixOf(nc: NatsConnection): string | undefined {
  return (nc as unknown as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
}

type AckHandler = (r: PromiseSettledResult<PubAck>) => void;

/** One long-lived `<inbox>.*` subscription per connection; reply tokens are a counter. */
class AckInbox {
  readonly prefix: string;
  private readonly waiting = new Map<number, AckHandler>();
  private seq = 0;

  constructor(nc: NatsConnection) {
    this.prefix = `${createInbox(inboxPrefixOf(nc))}.`;
    nc.subscribe(`${this.prefix}*`, { callback: (err, msg) => (err ? undefined : this.deliver(Number(msg.subject.slice(this.prefix.length)), msg)) });
  }

  register(h: AckHandler): number {
    const n = ++this.seq;
    this.waiting.set(n, h);
    return n;
  }

  forget(n: number): void {
    this.waiting.delete(n);
  }

  private deliver(n: number, msg: Msg): void {
    const h = this.waiting.get(n);
    if (!h) return; // late ack of a timed-out batch
    this.waiting.delete(n);
    h(parseAck(msg));
  }
}

function parseAck(msg: Msg): PromiseSettledResult<PubAck> {
  if (msg.data.length === 0 && msg.headers?.code === 503) return { status: 'rejected', reason: new PublishAckError('no JetStream stream answers this subject (no responders)', 503) };
  try {
    const ack = msg.json<{ stream?: string; seq?: number; duplicate?: boolean; domain?: string; error?: { code?: number; description?: string } }>();
    if (ack.error) return { status: 'rejected', reason: new PublishAckError(`JetStream refused the publish: ${ack.error.description ?? 'unknown error'}`, ack.error.code) };
    if (!ack.stream) return { status: 'rejected', reason: new PublishAckError('invalid ack response') };
    return { status: 'fulfilled', value: { stream: ack.stream, seq: ack.seq ?? 0, duplicate: ack.duplicate === true, domain: ack.domain ?? '' } as PubAck };
  } catch {
    return { status: 'rejected', reason: new PublishAckError('invalid ack response') };
  }
}

const inboxes = new WeakMap<NatsConnection, AckInbox>();

function ackInbox(nc: NatsConnection): AckInbox {
  let box = inboxes.get(nc);
  if (!box) inboxes.set(nc, (box = new AckInbox(nc)));
  return box;
}

/**
 * Publishes `count` messages (built one by one by `next`, after awaiting `before(i)` when given) and
 * resolves with one settled result per message once every ack arrived or the batch timed out.
 * Without `before` the loop never yields, so the client writes the whole batch to the socket at once
 * (it flushes on a microtask; an await per message would cost one socket write per message).
 */
export async function publishPipelined(
  nc: NatsConnection,
  count: number,
  next: (i: number) => OutgoingMessage,
  timeoutMs: number,
  before?: (i: number) => void | Promise<void>,
): Promise<PromiseSettledResult<PubAck>[]> {
  if (count === 0) return [];
  const box = ackInbox(nc);
  const results: (PromiseSettledResult<PubAck> | undefined)[] = new Array(count);
  const tokens: number[] = [];
  let settled = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const settle = (i: number, r: PromiseSettledResult<PubAck>): void => {
    if (results[i]) return;
    results[i] = r;
    if (++settled === count) finish();
  };
  const timer = setTimeout(finish, timeoutMs);
  try {
    for (let i = 0; i < count; i++) {
      if (before) await before(i);
      const m = next(i);
      m.headers.set('Nats-Msg-Id', m.msgId);
      const token = box.register((r) => settle(i, r));
      try {
        nc.publish(m.subject, m.payload, { reply: box.prefix + token, headers: m.headers });
      } catch (err) {
        box.forget(token);
        throw err;
      }
      tokens.push(token); // an ack cannot arrive before this turn of the event loop ends
    }
  } catch (err) {
    // A throwing hook or subject: wait for the acks of what was sent, then report the failure for the rest.
    for (let i = tokens.length; i < count; i++) settle(i, { status: 'rejected', reason: err });
  }
  await done;
  clearTimeout(timer);
  for (const t of tokens) box.forget(t);
  for (let i = 0; i < count; i++) results[i] ??= { status: 'rejected', reason: new PublishAckError(`no JetStream ack within ${timeoutMs} ms`) };
  return results as PromiseSettledResult<PubAck>[];
}
