/**
 * Durable pull consumer with the EKM delivery rules (ARCHITECTURE §3): ack only after the handler
 * (which does its own DB commit) resolved; nak with a growing delay on a transient error; after
 * `maxDeliver` failed deliveries, a dead-letter row then term(); term() right away only for invalid
 * messages (also dead-lettered). Messages of one instance are handled one at a time, in order.
 *
 * Acks are plain `ack()` publishes, not `ackAck()` requests: a confirmed ack costs a reply message and,
 * in nats.js, an inbox subscription plus error objects per message, and buys nothing here, because
 * delivery is at-least-once anyway (a lost ack is one redelivery, and every handler is idempotent).
 * A pulled batch is worked through without per-message timers: one progress timer per consumer
 * signals `working()` for the message in hand only when a handler runs long.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos, type MsgHdrs } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import type { RelayLogger } from '../relay/relay.types';
import { InvalidMessageError, isRetriable } from './consumer.errors';
import { asEventId, recordDeadLetter, truncateRaw } from './dead-letters';
import { backoffDelay, type BackoffPolicy } from './retry-delay';

export interface MessageContext {
  readonly subject: string;
  readonly streamSeq: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly msgId: string | undefined;
  readonly headers: MsgHdrs | undefined;
}

export interface DurableConsumerOptions<T> {
  /** Owner of the `dead_letters` table (schema `ekm_<service>`). */
  readonly service: string;
  readonly pool: Pool;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly durable: string;
  /** One subject filter (nats-server 2.9 has no multi-filter consumers). */
  readonly filterSubject?: string;
  /** Failed deliveries before dead-lettering; default 5. */
  readonly maxDeliver?: number;
  /** Server redelivers an unacked message after this; the helper signals progress meanwhile. Default 30 s. */
  readonly ackWaitMs?: number;
  /** nak delay by delivery count; default 1 s doubling to 60 s. */
  readonly nakBackoff?: BackoffPolicy;
  /** Messages pulled per request; default 16. */
  readonly batch?: number;
  /** Validates the decoded JSON (e.g. a zod `parse`); throwing marks the message invalid. */
  readonly parse?: (body: unknown) => T;
  readonly handle: (message: T, ctx: MessageContext) => Promise<void>;
  readonly logger?: RelayLogger;
}

const silent: RelayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/**
 * Creates the durable if missing. `max_deliver` stays unlimited on the server on purpose: the server
 * silently stops delivering at its limit (an advisory only), which would lose the dead letter; the
 * helper enforces the bound and always leaves a row.
 */
export async function ensureDurableConsumer(jsm: JetStreamManager, o: Pick<DurableConsumerOptions<unknown>, 'stream' | 'durable' | 'filterSubject' | 'ackWaitMs'>): Promise<void> {
  try {
    await jsm.consumers.info(o.stream, o.durable);
    return;
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
  }
  await jsm.consumers.add(o.stream, {
    durable_name: o.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(o.ackWaitMs ?? 30_000),
    max_deliver: -1,
    ...(o.filterSubject ? { filter_subject: o.filterSubject } : {}),
  });
}

export class DurableConsumer<T = unknown> {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private readonly log: RelayLogger;
  /** The message whose handler runs now, and when the server last heard it is in progress. */
  private inHand: { m: JsMsg; lastWorking: number } | null = null;
  private progress: NodeJS.Timeout | null = null;

  constructor(private readonly o: DurableConsumerOptions<T>) {
    this.log = o.logger ?? silent;
  }

  get consumerName(): string {
    return `${this.o.stream}/${this.o.durable}`;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    await ensureDurableConsumer(this.o.jsm, this.o);
    const consumer = await this.o.js.consumers.get(this.o.stream, this.o.durable);
    const messages = await consumer.consume({ max_messages: this.o.batch ?? 16 });
    this.messages = messages;
    this.startProgressTimer();
    this.loop = (async () => {
      for await (const m of messages) {
        // Pulled but not started when stop() came: hand back at once for another replica.
        if (this.stopping) m.nak();
        else await this.process(m);
      }
    })();
  }

  /** SIGTERM path: stop pulling, finish the message in hand, nak the rest of the buffer. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    await this.loop;
    if (this.progress) clearInterval(this.progress);
    this.progress = null;
    this.loop = null;
    this.messages = null;
  }

  /**
   * Tells the server we are still working on a slow message, so it is not redelivered to another
   * replica: half the ack wait after the handler started, and every half ack wait after that.
   */
  private startProgressTimer(): void {
    const every = Math.max(1_000, Math.floor((this.o.ackWaitMs ?? 30_000) / 2));
    this.progress = setInterval(() => {
      const h = this.inHand;
      const now = Date.now();
      if (h && now - h.lastWorking >= every) {
        h.lastWorking = now;
        h.m.working();
      }
    }, Math.min(every, 1_000));
    this.progress.unref();
  }

  private async process(m: JsMsg): Promise<void> {
    const deliveryCount = m.info.deliveryCount;
    const maxDeliver = this.o.maxDeliver ?? 5;
    let body: T;
    try {
      body = this.decode(m);
    } catch (err) {
      await this.deadLetterThenTerm(m, errorText(err), this.payloadOf(m));
      return;
    }
    if (deliveryCount > maxDeliver) {
      // Earlier deliveries ended without ack or nak (crash, ack timeout): stop the loop here.
      await this.deadLetterThenTerm(m, `no result after ${deliveryCount - 1} deliveries (max ${maxDeliver})`, body);
      return;
    }
    const ctx: MessageContext = { subject: m.subject, streamSeq: m.seq, deliveryCount, msgId: m.headers?.get('Nats-Msg-Id') || undefined, headers: m.headers };
    try {
      await this.withProgress(m, () => this.o.handle(body, ctx));
    } catch (err) {
      if (!isRetriable(err)) await this.deadLetterThenTerm(m, errorText(err), body);
      else if (deliveryCount >= maxDeliver) await this.deadLetterThenTerm(m, `gave up after ${deliveryCount} deliveries: ${errorText(err)}`, body);
      else this.nakLater(m, deliveryCount, err);
      return;
    }
    // Unconfirmed: a lost ack means one redelivery, which the idempotent handlers absorb.
    m.ack();
  }

  private decode(m: JsMsg): T {
    let raw: unknown;
    try {
      raw = m.json<unknown>();
    } catch {
      throw new InvalidMessageError(`body of message ${m.seq} on ${m.subject} is not JSON`);
    }
    if (!this.o.parse) return raw as T;
    try {
      return this.o.parse(raw);
    } catch (err) {
      throw new InvalidMessageError(`message ${m.seq} on ${m.subject} fails the schema: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private payloadOf(m: JsMsg): unknown {
    try {
      return m.json<unknown>();
    } catch {
      return truncateRaw(m.string());
    }
  }

  private async withProgress(m: JsMsg, run: () => Promise<void>): Promise<void> {
    const now = Date.now();
    this.inHand = { m, lastWorking: now };
    try {
      await run();
    } finally {
      this.inHand = null;
    }
  }

  private nakLater(m: JsMsg, deliveryCount: number, err: unknown): void {
    const delay = backoffDelay(deliveryCount, this.o.nakBackoff ?? { initialMs: 1_000, maxMs: 60_000 });
    this.log.warn({ consumer: this.consumerName, seq: m.seq, deliveryCount, delayMs: delay, err: errorText(err) }, 'handler failed; redelivering later');
    m.nak(delay);
  }

  /** term() only once the dead letter is committed; if Postgres fails, nak: the message stays. */
  private async deadLetterThenTerm(m: JsMsg, reason: string, payload: unknown): Promise<void> {
    try {
      await recordDeadLetter(this.o.pool, this.o.service, {
        consumer: this.consumerName,
        subject: m.subject,
        streamSeq: m.seq,
        eventId: asEventId(m.headers?.get('Nats-Msg-Id')),
        error: reason,
        payload,
      });
    } catch (err) {
      this.nakLater(m, m.info.deliveryCount, err);
      return;
    }
    this.log.error({ consumer: this.consumerName, seq: m.seq, subject: m.subject, reason }, 'message dead-lettered');
    // No reason argument: nats-server 2.9 only recognises a bare "+TERM" and ignores "+TERM <reason>".
    m.term();
  }
}
