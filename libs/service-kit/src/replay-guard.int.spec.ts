/**
 * The shared replay guard over a real nats-server and Postgres: a nonce accepted once is refused by the
 * same replica, by a second replica and by a replica started after a restart, at any time within the
 * timestamp window (the services' clocks are controlled: no 25 s sleep); the refusal is REPLAYED and an
 * AuthenticationFailed event. Postgres down: refused (REPLAY_STORE_UNAVAILABLE), never accepted unchecked.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client, Pool } from 'pg';
import { NonceCache, RequestAuthenticator, SessionSealer, signRequest } from '@ekm/auth';
import { loadConfig } from '@ekm/config';
import type { Reply } from '@ekm/contracts';
import { createLogger } from '@ekm/telemetry';
import { createTestDatabase, urlFor } from '../../../test/support/pg';
import { startNats, stopServer, type ServerHandle } from '../../../test/support/servers';
import { startServiceApp, type ServiceApp } from './bootstrap';
import { PostgresNonceStore } from './postgres-nonce-store';
import { TransportAuth } from './request-auth';
import { authProbeModule } from './request-auth.test-fixture';

const SECRET = `replay-secret-${randomBytes(16).toString('hex')}`;
const prefix = `ekm.v1.r${randomBytes(4).toString('hex')}`;
const sealer = new SessionSealer(SECRET);
const silent = createLogger('audit', { level: 'silent' });

describe('replay guard shared by replicas and restarts (real NATS, Postgres)', () => {
  let nats: ServerHandle;
  let db: { name: string; url: string };
  let admin: Client;
  let nc: NatsConnection;
  const running: ServiceApp[] = [];
  /** The services' clock: every replica reads it, so "25 s later" needs no sleep. */
  let now = Date.now();

  const start = async (): Promise<ServiceApp> => {
    const config = loadConfig('audit', {
      EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_audit'), EKM_HTTP_PORT: '0',
      EKM_AUTH: 'required', EKM_AUTH_SECRET: SECRET, EKM_DATA_DIR: mkdtempSync(join(tmpdir(), 'ekm-replay-int-')),
    });
    const authenticator = new RequestAuthenticator({ mode: 'required', sealer, nonces: new NonceCache(), clock: () => now });
    const svc = await startServiceApp({ config, module: authProbeModule(prefix), logger: silent, auth: new TransportAuth(authenticator, 'audit', silent) });
    running.push(svc);
    return svc;
  };
  const stop = async (svc: ServiceApp): Promise<void> => {
    await svc.close();
    running.splice(running.indexOf(svc), 1);
  };

  const bytes = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v), 'utf8');
  const session = sealer.issue({ principalId: 'svc-replay', tenant: 'acme', roles: ['app'], ttlMs: 3_600_000 });
  const signedAt = (op: string, body: Uint8Array, at: number) => ({ ...signRequest(session, `${prefix}.${op}`, body, { now: at, requestId: randomUUID() }) }) as Record<string, string>;
  const send = async (op: string, body: Uint8Array, auth: Record<string, string>): Promise<Reply<unknown>> => {
    const h = headers();
    for (const [k, v] of Object.entries(auth)) h.set(k, v);
    return (await nc.request(`${prefix}.${op}`, body, { timeout: 5000, headers: h })).json<Reply<unknown>>();
  };
  /** The same bytes straight into one replica's transport auth (a queue group picks the replica otherwise). */
  const checkOn = async (svc: ServiceApp, op: string, body: Uint8Array, auth: Record<string, string>) => {
    const h = headers();
    for (const [k, v] of Object.entries(auth)) h.set(k, v);
    const r = await svc.auth.check({ subject: `${prefix}.${op}`, data: body, headers: h } as never, auth['Ekm-Request-Id']!);
    return r.ok ? 'accepted' : (r.reply.error.details as { reason: string }).reason;
  };
  const refusals = async (requestId: string): Promise<number> => {
    for (const s of running) await s.auth.flush();
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ekm_audit.events WHERE event_type = 'AuthenticationFailed' AND data->>'requestId' = $1 AND data->>'reason' = 'REPLAYED'`, [requestId]);
    return (rows[0] as { n: number }).n;
  };

  beforeAll(async () => {
    nats = await startNats();
    db = await createTestDatabase('ekm_replay');
    admin = new Client({ connectionString: db.url });
    await admin.connect();
    nc = await connect({ servers: nats.url });
  }, 60_000);

  afterAll(async () => {
    for (const r of [...running]) await r.close().catch(() => undefined);
    await nc?.close();
    await admin?.end();
    if (nats) await stopServer(nats);
  });

  it('a request accepted once is refused at +1 s and +25 s by its replica, a second replica, and replicas started after a restart', async () => {
    const a = await start();
    const b = await start();
    const t0 = Date.now();
    now = t0;
    const body = bytes({ op: 'once' });
    const h = signedAt('whoami', body, t0);
    expect(await send('whoami', body, h)).toMatchObject({ ok: true });
    now = t0 + 1_000;
    expect(await checkOn(a, 'whoami', body, h)).toBe('REPLAYED');
    expect(await checkOn(b, 'whoami', body, h)).toBe('REPLAYED');
    now = t0 + 25_000;
    expect(await checkOn(a, 'whoami', body, h)).toBe('REPLAYED');
    expect(await checkOn(b, 'whoami', body, h)).toBe('REPLAYED');
    // Both replicas restart (fresh memory): the nonce is still claimed in Postgres.
    await stop(a);
    await stop(b);
    const c = await start();
    const d = await start();
    expect(await checkOn(c, 'whoami', body, h)).toBe('REPLAYED');
    expect(await checkOn(d, 'whoami', body, h)).toBe('REPLAYED');
    expect(await send('whoami', body, h)).toMatchObject({ ok: false, error: { code: 'EKM_UNAUTHENTICATED', details: { reason: 'REPLAYED' } } });
    // Past the window the timestamp check refuses it (the nonce row may then be swept).
    now = t0 + 30_001;
    expect(await checkOn(c, 'whoami', body, h)).toBe('TIMESTAMP_SKEW');
    expect(await refusals(h['Ekm-Request-Id']!)).toBe(7);
    // A fresh request of the same session still passes on every replica.
    for (const svc of [c, d]) {
      const fresh = bytes({ op: 'fresh', on: svc.auth.streamId });
      expect(await checkOn(svc, 'whoami', fresh, signedAt('whoami', fresh, now))).toBe('accepted');
    }
  }, 90_000);

  it('concurrent copies of one request sent to two replicas: exactly one is accepted', async () => {
    const [a, b] = running;
    now = Date.now();
    const body = bytes({ op: 'race' });
    const h = signedAt('whoami', body, now);
    const outcomes = await Promise.all([...Array.from({ length: 4 }, () => checkOn(a!, 'whoami', body, h)), ...Array.from({ length: 4 }, () => checkOn(b!, 'whoami', body, h))]);
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'REPLAYED')).toHaveLength(7);
  });

  it('the store refuses when Postgres cannot answer (fail closed) and sweeps expired nonces', async () => {
    const dead = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    dead.on('error', () => undefined);
    const broken = new PostgresNonceStore({ pool: dead, schema: 'ekm_audit', sweepEveryMs: 0 });
    await expect(broken.claim({ scope: 's', nonce: 'n'.repeat(22), expiresAt: Date.now() + 30_000 })).resolves.toBe('unavailable');
    await dead.end();
    const pool = new Pool({ connectionString: db.url });
    try {
      const store = new PostgresNonceStore({ pool, schema: 'ekm_audit', sweepEveryMs: 0 });
      const scope = `sweep-${randomUUID()}`;
      expect(await store.claim({ scope, nonce: 'a'.repeat(22), expiresAt: Date.now() - 60_000 })).toBe('fresh');
      expect(await store.claim({ scope, nonce: 'b'.repeat(22), expiresAt: Date.now() + 60_000 })).toBe('fresh');
      expect(await store.sweep()).toBeGreaterThanOrEqual(1);
      const { rows } = await pool.query(`SELECT nonce FROM ekm_audit.request_nonces WHERE scope = $1`, [scope]);
      expect(rows.map((r) => (r as { nonce: string }).nonce)).toEqual(['b'.repeat(22)]);
    } finally {
      await pool.end();
    }
  });
});
