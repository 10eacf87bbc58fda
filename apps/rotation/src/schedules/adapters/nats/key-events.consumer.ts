/**
 * Feeds the schedule projection from EKM_KEYS_EVENTS with one durable pull consumer shared by all
 * replicas (`rotation-schedules`, every `ekm.events.keys.>` subject: lifecycle events and usage
 * records). Usage events (one record, or a group commit's batch) are filtered before any transaction:
 * only records that wrap a named asset are written, all of one batch in one transaction, and an event
 * without such a record is acked without touching Postgres. Lifecycle events are applied each in its
 * own transaction, then acked (DurableConsumer). One consumer, not one per kind: nats-server 2.9 filters
 * on one subject per consumer, and `ekm.events.keys.>` (the lifecycle events) also matches the usage
 * subjects, so a second consumer would only deliver every usage event twice. After a
 * KeyRotated commit, a re-wrap notice goes to `ekm.rewrap.v1.<tenant>` on EKM_REWRAP_NOTICES with the
 * event id as Nats-Msg-Id, so a redelivery publishes no second notice.
 */
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import {
  DurableConsumer, ensureStreams, eventStreamName, eventStreamSpec, serviceSchema, quoteIdent, withTransaction, type EventEnvelope, type StreamSpec,
} from '@ekm/event-store';
import type { RotationConfig } from '@ekm/config';
import { LOGGER, NATS_CONNECTION, PG_POOL, SERVICE_CONFIG } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { ScheduleProjection, type RotatedNotice } from '../postgres/schedule.projection';

export const REWRAP_NOTICES_STREAM = 'EKM_REWRAP_NOTICES';
/** Subject of the re-wrap notices of one tenant (tenant ids with dots or wildcards are hex-escaped). */
export const rewrapNoticeSubject = (tenant: string): string =>
  `ekm.rewrap.v1.${/^[A-Za-z0-9_-]+$/.test(tenant) ? tenant : `x${Buffer.from(tenant, 'utf8').toString('hex')}`}`;

export const rewrapNoticesSpec: StreamSpec = {
  name: REWRAP_NOTICES_STREAM, subjects: ['ekm.rewrap.v1.>'], retention: RetentionPolicy.Limits, storage: StorageType.File,
  maxAgeMs: 30 * 86_400_000, maxBytes: -1, duplicateWindowMs: 10 * 60_000, replicas: 1, discard: DiscardPolicy.Old,
};

/** The body of a re-wrap notice: what rotated, and where to ask which assets still need ReEncrypt. */
export interface RewrapNotice extends RotatedNotice {
  readonly hint: string;
}

@Injectable()
export class KeyEventsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: DurableConsumer<EventEnvelope> | null = null;
  private starting: Promise<void> | null = null;
  private stopped = false;
  private readonly projection = new ScheduleProjection(quoteIdent(serviceSchema('rotation')));

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) private readonly config: RotationConfig,
  ) {}

  onApplicationBootstrap(): void {
    // In the background: the keys stream may not exist yet when rotation starts first.
    this.starting = this.startWithRetry();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.starting;
    await this.consumer?.stop();
  }

  private async startWithRetry(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const jsm = await jetstreamManager(this.nc);
        const replicas = this.config.jsReplicas;
        await ensureStreams(jsm, [eventStreamSpec('keys', { replicas }), { ...rewrapNoticesSpec, replicas }]);
        const js = jetstream(this.nc);
        const consumer = new DurableConsumer<EventEnvelope>({
          service: 'rotation', pool: this.pool, js, jsm, stream: eventStreamName('keys'), durable: 'rotation-schedules',
          filterSubject: 'ekm.events.keys.>', batch: 64, maxDeliver: 20, nakBackoff: { initialMs: 200, maxMs: 10_000 },
          logger: this.logger.child({ component: 'key-events-consumer' }),
          handle: async (e) => {
            const wraps = this.projection.assetWritesOf(e);
            if (wraps !== null) {
              if (wraps.length > 0) await withTransaction(this.pool, (tx) => this.projection.applyAssets(tx, wraps));
              return;
            }
            const notice = await withTransaction(this.pool, (tx) => this.projection.apply(tx, e));
            if (notice !== null) await this.publish(js, notice);
          },
        });
        if (this.stopped) return;
        await consumer.start();
        this.consumer = consumer;
        return;
      } catch (err) {
        this.logger.warn({ attempt, err: err instanceof Error ? err.message : String(err) }, 'key event consumer not started yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * attempt)));
      }
    }
  }

  private async publish(js: ReturnType<typeof jetstream>, n: RotatedNotice): Promise<void> {
    const body: RewrapNotice = { ...n, hint: `re-wrap data keys of key ${n.keyId} with ReEncrypt; ekm.v1.rotation.rewrap-status lists the assets still under older versions` };
    await js.publish(rewrapNoticeSubject(n.tenant), JSON.stringify(body), { msgID: `rewrap-${n.eventId}`, timeout: 5_000 });
  }
}
