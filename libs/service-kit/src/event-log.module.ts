/**
 * EventLogModule.forService(service): the Postgres event log of one service and its outbox.
 * - PG_POOL on EKM_DATABASE_URL, every query bounded by EKM_DB_QUERY_TIMEOUT_MS (poolTimeouts); when EKM_DATABASE_ADMIN_URL is set, `migrateServiceSchema` runs first
 *   (event log + outbox relay tables; extra service migrations can be passed).
 * - EVENT_STORE = PostgresEventStore over that pool.
 * - NONCE_STORE: the request nonces shared by the service's replicas (replay guard across replicas and restarts).
 * - ACCESS_REFUSALS: `AccessDenied` / failed-login records of the service's handlers (rate-limited).
 * - OUTBOX_RELAY publishing to `EKM_<SERVICE>_EVENTS`, started at bootstrap, stopped at shutdown.
 * - Readiness checks `postgres` (select 1) and `jetstream` (`ensureStreams`: missing streams are
 *   created; drift keeps the service not ready until an operator resolves it).
 */
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Pool } from 'pg';
import type { ServiceName } from '@ekm/contracts';
import type { ServiceConfig } from '@ekm/config';
import { EVENT_STORE, EVENT_STORE_MIGRATIONS, serviceSchema, ensureStreams, eventStreamSpec, migrateServiceSchema, OutboxRelay, OutboxRelayMigration, PostgresEventStore, type OutboxRelayOptions, type ServiceMigrationClass } from '@ekm/event-store';
import type { Logger } from '@ekm/telemetry';
import type { ReadinessRegistry } from './readiness';
import { PostgresNonceStore } from './postgres-nonce-store';
import { RequestNoncesMigration } from './request-nonces.migration';
import { StatusService } from './status.service';
import { ACCESS_REFUSALS, AUTH_FAILURES_FLUSH, LOGGER, NATS_CONNECTION, NONCE_STORE, OUTBOX_RELAY, PG_POOL, READINESS, SERVICE_CONFIG } from './tokens';
import { AccessRefusals } from './access-refusals';

/** Options of {@link EventLogModule.forService}. */
export interface EventLogOptions {
  /** The service's own tables, migrated after the event store's (only with EKM_DATABASE_ADMIN_URL). */
  readonly extraMigrations?: readonly ServiceMigrationClass[];
  /** Pool size; default 16 (measured: ~5.8k commits/s at 16 connections). */
  readonly poolMax?: number;
  /** Relay sequencing and heartbeat, for services whose replicas keep caches fresh by relayed events. */
  readonly relay?: Pick<OutboxRelayOptions, 'sequenced' | 'heartbeat'>;
}

/**
 * Bounds for a partitioned or stalled Postgres (EKM_DB_QUERY_TIMEOUT_MS): without them a query on a
 * black-holed connection waits for TCP to give up (minutes) and callers only meet their own deadline.
 * query_timeout is the client-side bound (the one that fires when no byte comes back; pg-pool then
 * destroys the client); statement_timeout lets the server cancel the statement too (SQLSTATE 57014);
 * connectionTimeoutMillis bounds both a new connection and the wait for a free pooled one.
 * Long work never runs on this pool: migrations and projection rebuilds use their own admin
 * connections, and the audit verify scan reads in pages.
 */
export function poolTimeouts(ms: number): { query_timeout: number; statement_timeout: number; connectionTimeoutMillis: number } {
  return { query_timeout: ms, statement_timeout: ms, connectionTimeoutMillis: ms };
}

/** The relay's lease table, unless the event store already lists it among its own migrations. */
const relayMigration = (): ServiceMigrationClass[] => (EVENT_STORE_MIGRATIONS.includes(OutboxRelayMigration) ? [] : [OutboxRelayMigration]);

/** Describes a stream check for readiness: `true`, or why not. */
function describeStreams(r: Awaited<ReturnType<typeof ensureStreams>>): true | string {
  const drifted = r.streams.filter((s) => s.outcome === 'drifted');
  if (drifted.length === 0) return true;
  return drifted.map((s) => `stream ${s.stream} drifted (${s.outcome === 'drifted' ? s.drift.map((d) => d.field).join(', ') : ''})`).join('; ');
}

@Injectable()
class EventLogLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    @Inject(READINESS) private readonly readiness: ReadinessRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ACCESS_REFUSALS) private readonly refusals: AccessRefusals,
    @Inject(AUTH_FAILURES_FLUSH) private readonly flushAuthFailures: () => Promise<void>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const spec = eventStreamSpec(this.config.service, { replicas: this.config.jsReplicas });
    this.readiness.register('postgres', async () => {
      await this.pool.query('select 1');
    });
    this.readiness.register('jetstream', async () => describeStreams(await ensureStreams(await jetstreamManager(this.nc), [spec])));
    try {
      const r = await ensureStreams(await jetstreamManager(this.nc), [spec]);
      this.logger.info({ streams: r.streams.map((s) => ({ stream: s.stream, outcome: s.outcome })) }, 'event streams checked');
    } catch (err) {
      // Not fatal: readiness stays false and the relay retries until JetStream answers.
      this.logger.warn({ stream: spec.name, err: err instanceof Error ? err.message : String(err) }, 'event stream check failed');
    }
    this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    // The transport has stopped taking requests: commit the refusals still queued (group commit) before
    // the pool they go through ends, or a refusal made just before a restart would never reach the trail.
    // Bounded by the shutdown grace: a Postgres that does not answer cannot hold the shutdown.
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.config.shutdownGraceMs);
      timer.unref();
    });
    await Promise.race([Promise.all([this.flushAuthFailures(), this.refusals.flush()]).catch(() => undefined), grace]);
    clearTimeout(timer);
    await this.pool.end();
  }
}

@Module({})
export class EventLogModule {
  /** The event log of `service` (schema `ekm_<service>`). Needs `EkmCoreModule` (added by bootstrap). */
  static forService(service: ServiceName, opts: EventLogOptions = {}): DynamicModule {
    return {
      module: EventLogModule,
      providers: [
        {
          provide: PG_POOL,
          inject: [SERVICE_CONFIG, LOGGER],
          useFactory: async (config: ServiceConfig, logger: Logger): Promise<Pool> => {
            if (config.databaseAdminUrl) {
              const r = await migrateServiceSchema({ adminUrl: config.databaseAdminUrl, service, extraMigrations: [...relayMigration(), ...(opts.extraMigrations ?? []), RequestNoncesMigration] });
              logger.info({ schema: r.schema, applied: r.applied }, 'schema migrated');
            }
            const pool = new Pool({ connectionString: config.databaseUrl, max: opts.poolMax ?? 16, application_name: `ekm-${service}`, ...poolTimeouts(config.dbQueryTimeoutMs) });
            // An idle client's error (server restart) must not crash the process; the next query reconnects.
            pool.on('error', (err) => logger.warn({ err: err.message }, 'idle Postgres client failed'));
            // pg-pool listens for errors only while a client is idle. A checked-out client (a transaction,
            // the relay's lease connection, the audit appender) that loses its server — restart, failover,
            // pg_terminate_backend — would emit an unhandled 'error' and kill the process. With a listener
            // for its whole life, the in-flight query just rejects and the client is dropped on release.
            pool.on('connect', (client) => {
              client.on('error', (err) => logger.warn({ err: err.message }, 'Postgres connection lost'));
            });
            return pool;
          },
        },
        { provide: EVENT_STORE, inject: [PG_POOL], useFactory: (pool: Pool) => new PostgresEventStore(pool, { service }) },
        {
          provide: OUTBOX_RELAY,
          inject: [PG_POOL, EVENT_STORE, NATS_CONNECTION, LOGGER],
          useFactory: (pool: Pool, store: PostgresEventStore, nc: NatsConnection, logger: Logger) =>
            new OutboxRelay({ service, pool, store, js: jetstream(nc), logger: logger.child({ component: 'outbox-relay' }), ...opts.relay }),
        },
        // The replay guard shared by the service's replicas (the transport claims every nonce here).
        { provide: NONCE_STORE, inject: [PG_POOL, LOGGER], useFactory: (pool: Pool, logger: Logger) => new PostgresNonceStore({ pool, schema: serviceSchema(service), logger }) },
        // Handlers' refusals (AccessDenied, failed logins) into the service's log, rate-limited.
        { provide: ACCESS_REFUSALS, inject: [EVENT_STORE, LOGGER], useFactory: (store: PostgresEventStore, logger: Logger) => new AccessRefusals(store, service, logger) },
        StatusService,
        EventLogLifecycle,
      ],
      exports: [PG_POOL, EVENT_STORE, OUTBOX_RELAY, NONCE_STORE, ACCESS_REFUSALS, StatusService],
    };
  }
}
