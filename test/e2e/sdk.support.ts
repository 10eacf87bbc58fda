/**
 * A private stack for the SDK e2e specs: own Postgres and nats-server, and the keys service as a child
 * process (`node dist/apps/keys/src/main.js`, as deployed) that a test can SIGTERM and start again on
 * the same database and data dir. Requests are signed (EKM_AUTH=required) with a service session
 * minted from the stack's auth secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { SessionSealer, SessionSigner, serviceSessionSource } from '@ekm/auth';
import { Ekm, type EkmClientOptions } from '@ekm/client';
import { freePort, startNats, startPostgres, stopServer, type ServerHandle } from '../support/servers';

export interface SdkStack {
  readonly natsUrl: string;
  /** Starts the keys service (again) and resolves on its `ready` log line. */
  startKeys(): Promise<void>;
  /** SIGTERM to the keys service; resolves when it exited. */
  stopKeys(): Promise<void>;
  /** An SDK connection signing as `service:<name>` (operator scope). */
  connect(options?: EkmClientOptions): Promise<Ekm>;
  stop(): Promise<void>;
}

export async function startSdkStack(): Promise<SdkStack> {
  const dir = mkdtempSync(join(tmpdir(), 'ekm-sdk-e2e-'));
  const servers: ServerHandle[] = [];
  const [pg, nats] = await Promise.all([startPostgres(), startNats()]);
  servers.push(pg, nats);
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query('CREATE DATABASE ekm');
  await admin.end();
  const authSecret = randomBytes(32).toString('base64url');
  const db = (user: string): string => `postgres://${user}@127.0.0.1:${pg.port}/ekm`;
  const env = {
    ...process.env,
    EKM_ENV: 'development', EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db('postgres'), EKM_DATABASE_URL: db('ekm_keys'),
    EKM_HTTP_PORT: String(await freePort()), EKM_DATA_DIR: join(dir, 'keys-data'), EKM_ROOT_SECRET: 'sdk-e2e-root-secret-0123456789',
    EKM_AUTH: 'required', EKM_AUTH_SECRET: authSecret, EKM_AUTHZ: 'allow-all', EKM_DELETION_MIN_DAYS: '0', EKM_LOG_LEVEL: 'info',
    EKM_MAX_REQUEST_BYTES: String(256 * 1024),
  };
  const main = resolve(__dirname, '..', '..', 'dist', 'apps', 'keys', 'src', 'main.js');
  let child: ChildProcess | undefined;
  let run = 0;
  const sealer = new SessionSealer(authSecret);

  const stopKeys = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    natsUrl: nats.url,
    async startKeys() {
      const logFile = join(dir, `keys-${++run}.log`);
      const log = openSync(logFile, 'a');
      const c = spawn(process.execPath, [main], { env, cwd: dir, stdio: ['ignore', log, log] });
      child = c;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
        if (text.includes('"event":"ready"')) return;
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`keys exited before ready: ${text.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`keys not ready within 60 s: ${text.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stopKeys,
    connect: (options = {}) => Ekm.connect({ servers: nats.url, credentials: new SessionSigner(serviceSessionSource(sealer, 'sdk-e2e')), ...options }),
    async stop() {
      await stopKeys();
      for (const s of servers.reverse()) await stopServer(s);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
