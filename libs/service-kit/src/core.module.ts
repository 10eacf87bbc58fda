/**
 * EkmCoreModule: the process-wide pieces every service module can inject (config, NATS connection,
 * logger, readiness registry, metrics), and the end of the shutdown sequence.
 *
 * Shutdown order (both `app.close()` and SIGTERM/SIGINT): the transport stops taking requests and
 * waits for in-flight ones; other modules stop background work in `beforeApplicationShutdown`
 * (or `onModuleDestroy`); resources handlers use (pools) are released in `onApplicationShutdown`,
 * where this module also drains NATS and closes the health server. Release nothing a handler needs
 * in `onModuleDestroy`: on a signal Nest runs it before the transport has drained.
 */
import { Global, Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ServiceConfig } from '@ekm/config';
import type { Logger } from '@ekm/telemetry';
import type { HealthServer } from './health-server';
import type { RequestMetrics } from './metrics';
import type { ReadinessRegistry } from './readiness';
import { AUTH_FAILURES_FLUSH, LOGGER, METRICS, NATS_CONNECTION, READINESS, SERVICE_CONFIG } from './tokens';

/** What bootstrap builds before Nest starts (so liveness and the connection exist early). */
export interface ServiceContext {
  readonly config: ServiceConfig;
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly readiness: ReadinessRegistry;
  readonly metrics: RequestMetrics;
  readonly health: HealthServer;
  /** Extra teardown after everything else (telemetry flush). */
  readonly onClosed?: () => Promise<void>;
  /** Commits the transport's queued authentication-failure records (`TransportAuth.flush`). */
  readonly flushAuthFailures?: () => Promise<void>;
}

const CONTEXT = Symbol('EKM_SERVICE_CONTEXT');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

@Injectable()
class CoreLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(@Inject(CONTEXT) private readonly ctx: ServiceContext) {}

  beforeApplicationShutdown(): void {
    this.ctx.readiness.markShuttingDown();
  }

  async onApplicationShutdown(): Promise<void> {
    const { nc, logger } = this.ctx;
    const grace = this.ctx.config.shutdownGraceMs;
    // drain() needs the server; while NATS is unreachable it would wait for a reconnect forever.
    if (!nc.isClosed()) await Promise.race([nc.drain().catch(() => undefined), sleep(grace)]);
    if (!nc.isClosed()) await Promise.race([nc.close().catch(() => undefined), sleep(grace)]);
    await this.ctx.health.close();
    logger.info({ event: 'stopped' }, 'stopped');
    await this.ctx.onClosed?.();
  }
}

@Global()
@Module({})
export class EkmCoreModule {
  /** Global module over an already built {@link ServiceContext}. */
  static forRoot(ctx: ServiceContext): DynamicModule {
    const values = [
      { provide: CONTEXT, useValue: ctx },
      { provide: SERVICE_CONFIG, useValue: ctx.config },
      { provide: NATS_CONNECTION, useValue: ctx.nc },
      { provide: LOGGER, useValue: ctx.logger },
      { provide: READINESS, useValue: ctx.readiness },
      { provide: METRICS, useValue: ctx.metrics },
      { provide: AUTH_FAILURES_FLUSH, useValue: ctx.flushAuthFailures ?? (async () => undefined) },
    ];
    return {
      module: EkmCoreModule,
      global: true,
      providers: [...values, CoreLifecycle],
      exports: [SERVICE_CONFIG, NATS_CONNECTION, LOGGER, READINESS, METRICS, AUTH_FAILURES_FLUSH],
    };
  }
}

/** Typed injection helpers: `constructor(@InjectNats() nc: NatsConnection)`. */
export const InjectNats = (): ParameterDecorator => Inject(NATS_CONNECTION);
export const InjectConfig = (): ParameterDecorator => Inject(SERVICE_CONFIG);
export const InjectLogger = (): ParameterDecorator => Inject(LOGGER);
export const InjectReadiness = (): ParameterDecorator => Inject(READINESS);
