/** Shared setup of the keys data-plane e2e specs: a keys-service app (real Postgres, NATS, software root) and bus helpers. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/transport-node';
import { loadConfig } from '@ekm/config';
import { subject, type Operation, type Reply } from '@ekm/contracts';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { KeysModule } from '../../apps/keys/src/keys.module';
import { urlFor } from '../support/pg';

export interface KeysApp {
  readonly svc: ServiceApp;
  /** Every log line the app wrote (level debug). */
  readonly logs: string[];
}

export async function startKeysApp(natsUrl: string, db: { name: string; url: string }, env: Record<string, string> = {}): Promise<KeysApp> {
  const logs: string[] = [];
  const config = loadConfig('keys', {
    EKM_NATS_URL: natsUrl,
    EKM_DATABASE_ADMIN_URL: db.url,
    EKM_DATABASE_URL: urlFor(db.name, 'ekm_keys'),
    EKM_HTTP_PORT: '0',
    EKM_AUTH: 'disabled',
    EKM_DATA_DIR: mkdtempSync(join(tmpdir(), 'ekm-keys-e2e-')),
    EKM_ROOT_SECRET: 'e2e-root-secret-0123456789',
    EKM_DELETION_MIN_DAYS: '0',
    ...env,
  });
  const logger = createLogger('keys', { level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
  const svc = await startServiceApp({ config, module: KeysModule, logger });
  return { svc, logs };
}

export async function call<T = Record<string, unknown>>(nc: NatsConnection, op: Operation<'keys'>, body: unknown, principal?: string): Promise<Reply<T>> {
  const h = headers();
  if (principal) h.set('Ekm-Principal', principal);
  const m = await nc.request(subject('keys', op), JSON.stringify(body), { timeout: 10_000, headers: h });
  return m.json<Reply<T>>();
}

/** The data of a successful reply; fails the test with the error otherwise. */
export async function okData<T = Record<string, unknown>>(nc: NatsConnection, op: Operation<'keys'>, body: unknown): Promise<T> {
  const r = await call<T>(nc, op, body);
  if (!r.ok) throw new Error(`${op} failed: ${r.error.code} ${r.error.message}`);
  return r.data;
}

export async function errorCode(nc: NatsConnection, op: Operation<'keys'>, body: unknown): Promise<string> {
  const r = await call(nc, op, body);
  if (r.ok) throw new Error(`${op} unexpectedly succeeded`);
  expect(r.error.message).not.toMatch(/[A-Za-z0-9+/]{40,}/); // no base64 blob/plaintext echoed
  return r.error.code;
}

export async function createKey(nc: NatsConnection, body: Record<string, unknown> = {}): Promise<string> {
  const info = await okData<{ keyId: string }>(nc, 'create-key', { tenant: 't-e2e', ...body });
  return info.keyId;
}

export const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
