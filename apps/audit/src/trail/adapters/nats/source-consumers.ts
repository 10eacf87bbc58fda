/**
 * Durable pull consumers (durable `ekm-audit`) on each source's `EKM_<SERVICE>_EVENTS`. Several
 * DurableConsumer instances share one durable per stream so the appender can group-commit; the order
 * they deliver in does not matter: the appender fills any position gap from the source table first.
 * A stream that does not exist yet is waited for (retried) rather than failing the start.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Pool } from 'pg';
import { DurableConsumer, eventStreamName, type EventEnvelope, type RelayLogger } from '@ekm/event-store';
import { withConsumerSpan } from '@ekm/telemetry';
import { envelopeToSource } from '../postgres/source-events';
import type { TrailAppender } from '../postgres/trail-appender';

export interface SourceConsumersOptions {
  readonly sources: readonly string[];
  readonly pool: Pool;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly appender: TrailAppender;
  readonly logger: RelayLogger;
  /** DurableConsumer instances per stream; default 16 (each handles one message at a time). */
  readonly parallel?: number;
  readonly durable?: string;
  readonly retryMs?: number;
}

const isEnvelope = (b: unknown): EventEnvelope => {
  const e = b as Partial<EventEnvelope>;
  if (typeof e?.eventId !== 'string' || typeof e.type !== 'string' || typeof e.streamId !== 'string' || !Number.isSafeInteger(e.streamPosition) || typeof e.recordedAt !== 'string' || !Number.isFinite(Date.parse(e.recordedAt))) {
    throw new TypeError('not an EKM event envelope');
  }
  return e as EventEnvelope;
};

export class SourceConsumers {
  private readonly consumers: DurableConsumer<EventEnvelope>[] = [];
  private readonly waiting = new Set<string>();
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: SourceConsumersOptions) {}

  /** Started (or still waiting for) streams. Never throws for a missing stream. */
  async start(): Promise<void> {
    this.stopped = false;
    for (const s of this.o.sources) this.waiting.add(s);
    await this.tryStartWaiting();
  }

  get pendingStreams(): readonly string[] {
    return [...this.waiting];
  }

  private async tryStartWaiting(): Promise<void> {
    for (const service of [...this.waiting]) {
      if (this.stopped) return;
      try {
        await this.startSource(service);
        this.waiting.delete(service);
      } catch (err) {
        const missing = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
        this.o.logger.warn({ stream: eventStreamName(service), err: err instanceof Error ? err.message : String(err) }, missing ? 'source stream does not exist yet; waiting' : 'source consumer start failed; retrying');
      }
    }
    if (this.waiting.size > 0 && !this.stopped) this.timer = setTimeout(() => void this.tryStartWaiting(), this.o.retryMs ?? 2_000);
  }

  private async startSource(service: string): Promise<void> {
    await this.o.jsm.streams.info(eventStreamName(service));
    const started: DurableConsumer<EventEnvelope>[] = [];
    for (let n = 0; n < (this.o.parallel ?? 16); n++) {
      const c = new DurableConsumer<EventEnvelope>({
        service: 'audit',
        pool: this.o.pool,
        js: this.o.js,
        jsm: this.o.jsm,
        stream: eventStreamName(service),
        durable: this.o.durable ?? 'ekm-audit',
        maxDeliver: 20,
        nakBackoff: { initialMs: 200, maxMs: 5_000 },
        batch: 64,
        parse: isEnvelope,
        logger: this.o.logger,
        handle: (env, ctx) => withConsumerSpan(ctx.subject, ctx.headers, async () => {
          await this.o.appender.append(envelopeToSource(service, env));
        }, { 'ekm.source': service }),
      });
      await c.start();
      started.push(c);
    }
    this.consumers.push(...started);
    this.o.logger.info({ stream: eventStreamName(service), parallel: started.length }, 'consuming source stream');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.consumers.map((c) => c.stop()));
    this.consumers.length = 0;
  }
}
