/**
 * Wires and runs the trail: signing key (unwrapped once from the root of trust, which is then
 * closed), appender, source consumers, sweeper, SIEM relay and the checkpoint timer. Started at
 * bootstrap, stopped before shutdown (consumers first, so nothing appends while the relay drains).
 */
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import type { AuditConfig } from '@ekm/config';
import { openRootOfTrust } from '@ekm/crypto';
import { ensureStreams } from '@ekm/event-store';
import { bindRootOfTrust, LOGGER, METRICS, NATS_CONNECTION, PG_POOL, READINESS, SERVICE_CONFIG, type ReadinessRegistry, type RequestMetrics } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { SourceConsumers } from './nats/source-consumers';
import { auditStreamSpec, SiemRelay } from './nats/siem-relay';
import { publishedAnchor } from './nats/published-checkpoints';
import { TrailLag } from './postgres/trail-lag';
import { trailHealth, registerTrailMetrics, type TrailHealth } from './trail-health';
import { grantSourceReads } from './postgres/source-grants';
import { SourceSweeper } from './postgres/source-sweeper';
import { TrailAppender } from './postgres/trail-appender';
import { TrailReader } from './postgres/trail-reader';
import { AuditSigner } from './signing/audit-signer';

export const TRAIL_RUNTIME = Symbol('EKM_AUDIT_TRAIL_RUNTIME');

export class TrailRuntime {
  readonly appender: TrailAppender;
  readonly reader: TrailReader;
  readonly relay: SiemRelay;
  readonly sweeper: SourceSweeper;
  readonly consumers: SourceConsumers;
  readonly lag: TrailLag;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private grantTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly config: AuditConfig,
    readonly signer: AuditSigner,
    readonly pool: Pool,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    private readonly logger: Logger,
  ) {
    const js = jetstream(nc);
    this.reader = new TrailReader(pool);
    this.relay = new SiemRelay({ pool, databaseUrl: config.databaseUrl, js, publicKey: signer.publicKeyRaw, logger: logger.child({ component: 'siem-relay' }) });
    this.appender = new TrailAppender({
      pool, signer, checkpointEvery: config.checkpointEvery, lingerMs: config.appendLingerMs, onAppended: (_stats, rows) => this.relay.offer(rows),
      anchor: publishedAnchor(js, jsm, signer), sources: config.sources,
    });
    this.lag = new TrailLag({ pool, sources: config.sources });
    this.sweeper = new SourceSweeper({ pool, appender: this.appender, sources: config.sources, intervalMs: config.reconcileIntervalMs, logger: logger.child({ component: 'source-sweeper' }) });
    this.consumers = new SourceConsumers({ sources: config.sources, pool, js, jsm, appender: this.appender, logger: logger.child({ component: 'source-consumers' }) });
  }

  async start(): Promise<void> {
    await this.grant();
    try {
      await ensureStreams(this.jsm, [auditStreamSpec({ maxAgeMs: this.config.streamMaxAgeMs, maxBytes: this.config.streamMaxBytes, replicas: this.config.jsReplicas })]);
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'EKM_AUDIT stream check failed; the relay retries');
    }
    this.relay.start();
    await this.consumers.start();
    this.sweeper.start();
    let reported = false;
    const cp = (): void => {
      this.appender.checkpointIfBehind().then(() => {
        const why = this.appender.guard.untrustedReason;
        if (why !== null && !reported) {
          reported = true;
          this.logger.error({ reason: why, firstBadIndex: this.appender.guard.untrustedIndex }, 'audit trail altered outside the service: checkpoint signing stopped (verify reports it)');
        }
      }).catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'timed checkpoint failed'))
        .finally(() => {
          if (this.checkpointTimer !== null) this.checkpointTimer = setTimeout(cp, this.config.checkpointIntervalMs);
        });
    };
    this.checkpointTimer = setTimeout(cp, this.config.checkpointIntervalMs);
  }

  /** With an admin URL: SELECT on each source's events table (retried until every source exists). */
  private async grant(): Promise<void> {
    const admin = this.config.databaseAdminUrl;
    if (!admin) return;
    try {
      const r = await grantSourceReads(admin, this.config.sources);
      if (r.missing.length === 0) return;
      this.logger.info({ missing: r.missing }, 'source schemas not migrated yet; granting later');
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'granting source reads failed; retrying');
    }
    this.grantTimer = setTimeout(() => void this.grant(), this.config.reconcileIntervalMs);
  }

  /** Quarantined entries, lag, and whether the signer still trusts the head (status, health, metrics). */
  health(): Promise<TrailHealth> {
    return trailHealth(this);
  }

  async stop(): Promise<void> {
    if (this.grantTimer) clearTimeout(this.grantTimer);
    const t = this.checkpointTimer;
    this.checkpointTimer = null;
    if (t) clearTimeout(t);
    await this.consumers.stop();
    await this.sweeper.stop();
    await this.relay.stop();
  }
}

export const trailRuntimeProvider = {
  provide: TRAIL_RUNTIME,
  inject: [SERVICE_CONFIG, PG_POOL, NATS_CONNECTION, LOGGER],
  useFactory: async (config: AuditConfig, pool: Pool, nc: NatsConnection, logger: Logger): Promise<TrailRuntime> => {
    const root = await openRootOfTrust(config);
    const rootKind = root.describe().kind;
    let signer: AuditSigner;
    try {
      // The signing key is wrapped under the root: another root is refused by name, not "unwrap failed".
      await bindRootOfTrust({ pool, service: 'audit', root, databaseUrl: config.databaseUrl });
      signer = await AuditSigner.load(pool, root);
    } finally {
      // The seed is unwrapped once; the root is not needed again in this process.
      await root.close();
    }
    logger.info({ keyId: signer.keyId, rootOfTrust: rootKind }, 'audit signing key ready');
    return new TrailRuntime(config, signer, pool, nc, await jetstreamManager(nc), logger);
  },
};

@Injectable()
export class TrailLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(TRAIL_RUNTIME) private readonly runtime: TrailRuntime,
    @Inject(READINESS) private readonly readiness: ReadinessRegistry,
    @Inject(METRICS) private readonly metrics: RequestMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    registerTrailMetrics(this.metrics.registry, this.runtime);
    // A consumer that is up but not advancing is not ready: the trail would silently fall behind.
    this.readiness.register('audit-trail-lag', async () => {
      const h = await this.runtime.health();
      const age = h.oldestUnappendedAgeMs;
      if (age !== null && age > this.runtime.config.maxLagMs) {
        return `trail not advancing: ${h.unappended} source record(s) waiting, the oldest for ${Math.round(age / 1000)} s`;
      }
      return true;
    });
    this.readiness.register('audit-sources', () => {
      const pending = this.runtime.consumers.pendingStreams;
      return pending.length === 0 ? true : `waiting for source streams: ${pending.join(', ')}`;
    });
    await this.runtime.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}
