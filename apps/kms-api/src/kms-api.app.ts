/**
 * Starting the edge (main.ts, tests): NATS connection, health/metrics server (ready when NATS is
 * connected and the HTTPS listener is up), the Nest HTTP app with its body parser off, over HTTPS when a
 * certificate is configured.
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect } from '@nats-io/transport-node';
import { natsConnectOptions } from '@ekm/client';
import { HealthServer, NatsConnectionState, NestPinoLogger, ReadinessRegistry, RequestMetrics } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { SigV4Sessions } from './auth/sigv4-sessions';
import type { KmsApiConfig } from './kms-api.config';
import { KmsApiModule } from './kms-api.module';

export interface KmsApiApp {
  readonly port: number;
  readonly httpPort: number;
  readonly scheme: 'http' | 'https';
  close(): Promise<void>;
}

export async function startKmsApi(config: KmsApiConfig, logger: Logger): Promise<KmsApiApp> {
  // A NATS user/password (compose), else EKM_NATS_CREDENTIALS (up's nkey identity kms_api) and EKM_NATS_TLS_CA.
  const natsAuth = config.natsUser !== undefined ? { user: config.natsUser, pass: config.natsPassword ?? '', inboxPrefix: `_INBOX_${config.natsUser}` } : {};
  const nc = await connect({ name: 'ekm-kms-api', maxReconnectAttempts: -1, reconnectTimeWait: 500, ...natsConnectOptions({ servers: [...config.natsServers], ...natsAuth }) });
  const readiness = new ReadinessRegistry();
  const metrics = new RequestMetrics('kms-api');
  const health = new HealthServer(readiness, metrics);
  const natsState = new NatsConnectionState(nc);
  readiness.register('nats', () => natsState.check());
  let listening = false;
  readiness.register('https', () => (listening ? true : 'not listening'));
  let app: INestApplication | undefined;
  try {
    const httpPort = await health.listen(config.httpPort);
    const sessions = new SigV4Sessions(nc, config.sessionCacheMax, config.serviceKey);
    app = await NestFactory.create(KmsApiModule.register({ config, nc, metrics, logger, sessions }), {
      bodyParser: false, logger: new NestPinoLogger(logger), abortOnError: false,
      ...(config.tls ? { httpsOptions: { cert: config.tls.cert, key: config.tls.key } } : {}),
    });
    await app.listen(config.port, config.host);
    listening = true;
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const started = app;
    return {
      port, httpPort, scheme: config.tls ? 'https' : 'http',
      close: async () => {
        listening = false;
        await started.close();
        await health.close();
        await nc.drain();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await health.close().catch(() => undefined);
    await nc.close();
    throw err;
  }
}
