/** The AWS KMS-compatible HTTPS edge (docs in README, "AWS KMS-compatible API"). */
import 'reflect-metadata';
import { createLogger } from '@ekm/telemetry';
import { loadKmsApiConfig, type KmsApiConfig } from './kms-api.config';
import { startKmsApi } from './kms-api.app';

async function main(): Promise<void> {
  let config: KmsApiConfig;
  try {
    config = loadKmsApiConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const logger = createLogger('kms-api', { level: config.logLevel });
  const app = await startKmsApi(config, logger).catch((err: unknown) => {
    logger.fatal({ err: err instanceof Error ? { name: err.name, message: err.message } : String(err) }, 'start failed');
    process.exit(1);
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'stopping', signal }, 'stopping');
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  logger.info({ event: 'ready', port: app.port, scheme: app.scheme, httpPort: app.httpPort, pid: process.pid }, 'ready');
}

void main();
