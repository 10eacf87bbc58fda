/**
 * TEST ONLY: starts the keys service in-process (real Postgres database, private nats-server so no
 * other suite's keys instances share the ekm-keys queue group) and calls it over the bus.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { loadConfig } from '@ekm/config';
import { subject, type Operation, type Reply } from '@ekm/contracts';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { createTestDatabase, urlFor } from '../../../../../../test/support/pg';
import { startNats, stopServer, type ServerHandle } from '../../../../../../test/support/servers';
import { KeysModule } from '../../../keys.module';

export interface Harness {
  readonly svc: ServiceApp;
  readonly nc: NatsConnection;
  readonly db: Client;
  readonly dbUrl: string;
  readonly database: { readonly name: string; readonly url: string };
  readonly dataDir: string;
  call<T = unknown>(op: Operation<'keys'>, body: unknown, opts?: { requestId?: string; principal?: string }): Promise<Reply<T>>;
  /** Events in key streams (usage records excluded). */
  keyEvents(): Promise<number>;
  close(): Promise<void>;
}

/** `reuse`: start on an existing database and data dir (a restart, or a restored backup); the caller then owns both. */
export interface HarnessReuse {
  readonly database: { readonly name: string; readonly url: string };
  readonly dataDir: string;
}

export async function startKeysHarness(env: Record<string, string> = {}, reuse?: HarnessReuse): Promise<Harness> {
  const [nats, database] = await Promise.all([startNats(), reuse ? Promise.resolve(reuse.database) : createTestDatabase('ekm_keys_admin')]);
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'ekm-keys-data-'));
  let svc: ServiceApp | undefined;
  let nc: NatsConnection | undefined;
  let db: Client | undefined;
  const stop = async (): Promise<void> => {
    await svc?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await stopServer(nats as ServerHandle);
    if (!reuse) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const config = loadConfig('keys', {
      EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: database.url, EKM_DATABASE_URL: urlFor(database.name, 'ekm_keys'),
      EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled', EKM_DATA_DIR: dataDir, EKM_DELETION_MIN_DAYS: '0', EKM_ROOT_SECRET: 'keys-admin-test-secret-0123', ...env,
    });
    svc = await startServiceApp({ config, module: KeysModule, logger: createLogger('keys', { level: 'silent' }) });
    nc = await connect({ servers: nats.url });
    db = new Client({ connectionString: database.url });
    await db.connect();
  } catch (err) {
    await stop();
    throw err;
  }
  const conn = nc;
  const client = db;
  return {
    svc, nc: conn, db: client, dbUrl: database.url, database, dataDir,
    async call<T>(op: Operation<'keys'>, body: unknown, opts: { requestId?: string; principal?: string } = {}): Promise<Reply<T>> {
      const h = headers();
      h.set('Ekm-Request-Id', opts.requestId ?? randomUUID());
      if (opts.principal !== undefined) h.set('Ekm-Principal', opts.principal);
      const m = await conn.request(subject('keys', op), JSON.stringify(body), { timeout: 20_000, headers: h });
      return m.json<Reply<T>>();
    },
    async keyEvents(): Promise<number> {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_keys.events WHERE stream_id LIKE 'key-%'`);
      return Number(rows[0].n);
    },
    close: stop,
  };
}

/** The data of an ok reply; fails the test with the error otherwise. */
export function dataOf<T>(r: Reply<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.data;
}
