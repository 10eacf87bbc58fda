/**
 * Starting a service: `bootstrapService({ service, module })` from each main.ts, or
 * `startServiceApp(...)` in tests (same path, without config loading, signals or process exit).
 */
import { Module, type DynamicModule, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, type Authenticator } from '@nats-io/transport-node';
import type { ServiceName } from '@ekm/contracts';
import { ConfigError, loadConfig, type ServiceConfig } from '@ekm/config';
import { createLogger, initTelemetry, type Logger, type Telemetry } from '@ekm/telemetry';
import { EkmCoreModule, type ServiceContext } from './core.module';
import { EkmNatsTransport } from './ekm-nats.transport';
import { HealthServer } from './health-server';
import { RequestMetrics } from './metrics';
import { NatsConnectionState } from './nats-health';
import { NestPinoLogger } from './nest-logger';
import { ReadinessRegistry } from './readiness';
import { RethrowRpcFilter } from './rethrow-rpc.filter';
import { TransportAuth } from './request-auth';
import { RequestRateLimit } from './request-rate-limit';
import { ekmVersion } from './status.service';
import { EVENT_STORE, type EventStore } from '@ekm/event-store';
import type { SharedNonceStore } from '@ekm/auth';
import { NONCE_STORE } from './tokens';
import { natsLoginOptions, readNatsCredentials } from '@ekm/auth';

/** Options of {@link startServiceApp}. */
export interface StartServiceOptions {
  readonly config: ServiceConfig;
  /** The service's root module (imports EventLogModule, declares controllers, ...). */
  readonly module: Type<unknown> | DynamicModule;
  readonly logger?: Logger;
  readonly telemetry?: Telemetry;
  /** Request authentication; default `TransportAuth.fromConfig(config)` (EKM_AUTH, EKM_AUTH_SECRET). */
  readonly auth?: TransportAuth;
}

/** A running service. */
export interface ServiceApp {
  readonly app: INestMicroservice;
  readonly transport: EkmNatsTransport;
  readonly context: ServiceContext;
  /** The transport's authentication (failure records, revocations). */
  readonly auth: TransportAuth;
  /** The bound health/metrics port (differs from config when EKM_HTTP_PORT=0). */
  readonly httpPort: number;
  /** Graceful stop: transport drain + in-flight, then background work, pools, NATS, health server. */
  close(): Promise<void>;
}

@Module({})
class EkmServiceRootModule {}

/**
 * Connects NATS, starts the health server (liveness at once; readiness when all checks pass), builds
 * the Nest microservice over {@link EkmNatsTransport} and starts listening. Throws when NATS cannot be
 * reached or a module fails to initialise (everything opened so far is closed again).
 */
export async function startServiceApp(opts: StartServiceOptions): Promise<ServiceApp> {
  const { config } = opts;
  const service = config.service as ServiceName;
  const logger = opts.logger ?? createLogger(service, { level: config.logLevel });
  const auth = opts.auth ?? TransportAuth.fromConfig(config, logger);
  const nc = await connect({ servers: [...config.natsServers], name: `ekm-${service}`, maxReconnectAttempts: -1, reconnectTimeWait: 500, ...natsLoginOf(config) });
  const readiness = new ReadinessRegistry();
  const metrics = new RequestMetrics(service);
  const health = new HealthServer(readiness, metrics);
  const natsState = new NatsConnectionState(nc);
  readiness.register('nats', () => natsState.check());
  let httpPort: number;
  try {
    await auth.start(nc);
    httpPort = await health.listen(config.httpPort);
  } catch (err) {
    await nc.close();
    throw err;
  }
  const context: ServiceContext = { config, nc, logger, readiness, metrics, health, flushAuthFailures: () => auth.flush(), ...(opts.telemetry ? { onClosed: () => opts.telemetry!.shutdown() } : {}) };
  // The core module drains the shared connection last (after the relay stopped), not the transport.
  const transport = new EkmNatsTransport({
    service, connection: nc, logger, metrics, maxRequestBytes: config.maxRequestBytes, shutdownGraceMs: config.shutdownGraceMs, drainConnectionOnClose: false, auth,
    rateLimit: RequestRateLimit.fromConfig(config, logger, metrics),
  });
  readiness.register('transport', () => (transport.isListening ? true : 'not listening'));
  let app: INestMicroservice | undefined;
  try {
    app = await NestFactory.createMicroservice(
      { module: EkmServiceRootModule, imports: [EkmCoreModule.forRoot(context), opts.module] },
      { strategy: transport, logger: new NestPinoLogger(logger), abortOnError: false },
    );
    app.useGlobalFilters(new RethrowRpcFilter());
    const built = app;
    // Authentication failures go to the service's own event log when it has one (EventLogModule).
    auth.useEventStore(() => {
      try {
        return built.get<EventStore>(EVENT_STORE, { strict: false });
      } catch {
        return null;
      }
    });
    // Nonces are claimed in the service's Postgres when it has one: replays are refused across replicas and restarts.
    auth.useNonceStore(() => {
      try {
        return built.get<SharedNonceStore>(NONCE_STORE, { strict: false });
      } catch {
        return null;
      }
    });
    await app.listen();
  } catch (err) {
    if (app) await app.close().catch(() => undefined);
    else {
      await health.close();
      await nc.close();
    }
    throw err;
  }
  const started = app;
  return { app: started, transport, context, auth, httpPort, close: () => started.close() };
}

/** Options of {@link bootstrapService}. */
export interface BootstrapOptions {
  readonly service: ServiceName;
  readonly module: Type<unknown> | DynamicModule;
  /** Default `process.env`. */
  readonly env?: Record<string, string | undefined>;
}

/**
 * The whole `main`: load config (print the ConfigError and exit 1), init telemetry, start the app,
 * close gracefully on SIGTERM/SIGINT (then exit 0), and log one JSON `ready` line.
 */
export async function bootstrapService(opts: BootstrapOptions): Promise<ServiceApp> {
  let config: ServiceConfig;
  try {
    config = loadConfig(opts.service, opts.env ?? process.env);
  } catch (err) {
    // ConfigError messages name variables and rules only, never values.
    process.stderr.write(`${err instanceof ConfigError ? err.message : `cannot load configuration: ${(err as Error).message}`}\n`);
    process.exit(1);
  }
  const telemetry = initTelemetry({ serviceName: `ekm-${opts.service}`, ...(config.otlpEndpoint ? { otlpEndpoint: config.otlpEndpoint } : {}) });
  const logger = createLogger(opts.service, { level: config.logLevel });
  let svc: ServiceApp;
  try {
    svc = await startServiceApp({ config, module: opts.module, logger, telemetry });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? { name: err.name, message: err.message } : String(err) }, 'start failed');
    await telemetry.shutdown().catch(() => undefined);
    process.exit(1);
  }
  // Own signal handling rather than Nest's enableShutdownHooks: on a signal Nest runs onModuleDestroy
  // before the transport drains, while app.close() drains the transport first (see core.module.ts).
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'stopping', signal }, 'stopping');
    svc.close().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  logger.info({
    event: 'ready', version: ekmVersion(), httpPort: svc.httpPort, subjects: [...svc.transport.getHandlers().keys()], pid: process.pid,
  }, 'ready');
  return svc;
}

/**
 * The service's NATS identity: its credentials file (EKM_NATS_CREDENTIALS) or EKM_NATS_USER/PASSWORD
 * (or the URL's userinfo); replies then come to the identity's own inbox prefix only. TLS when a CA is set.
 */
export function natsLoginOf(config: ServiceConfig): { user?: string; pass?: string; authenticator?: Authenticator; inboxPrefix?: string; tls?: { caFile: string; certFile?: string; keyFile?: string } } {
  const tls = config.natsTls ? { tls: { ...config.natsTls } } : {};
  if (config.natsCredentialsFile !== undefined) return { ...natsLoginOptions(readNatsCredentials(config.natsCredentialsFile)), ...tls };
  if (config.natsUser !== undefined) return { user: config.natsUser, pass: config.natsPassword ?? '', inboxPrefix: `_INBOX_${config.natsUser}`, ...tls };
  return tls;
}
