/**
 * Replays against the keys service (EKM_AUTH=required, real NATS and Postgres): exact copies of signed
 * CreateKey, RotateKey and GenerateDataKey requests replayed 1 s and 25 s later (the services' clock is
 * controlled: no sleeping), to a second replica, and right after a restart, are all refused (REPLAYED),
 * and nothing changes: the same events and the same key versions. The same signed bytes under another
 * Ekm-Request-Id are SIGNATURE_INVALID (the request id is signed).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { NonceCache, RequestAuthenticator, RevocationList, sealedRequest, SessionSealer } from '@ekm/auth';
import { loadConfig } from '@ekm/config';
import { subject, type Reply } from '@ekm/contracts';
import { startServiceApp, TransportAuth, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { KeysModule } from '../../apps/keys/src/keys.module';
import { createTestDatabase, urlFor } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { USAGE_RECORDS } from '../support/usage-records';

const SECRET = `replay-e2e-secret-${randomUUID()}`;
const sealer = new SessionSealer(SECRET);
const silent = createLogger('keys', { level: 'silent' });

describe('replays refused across time, replicas and restarts (keys service)', () => {
  let nats: ServerHandle;
  let db: { name: string; url: string };
  let pg: Client;
  let nc: NatsConnection;
  const dataDir = mkdtempSync(join(tmpdir(), 'ekm-replay-e2e-'));
  /** The keys replicas' clock. */
  let now = Date.now();
  const running: ServiceApp[] = [];

  const startKeys = async (): Promise<ServiceApp> => {
    const config = loadConfig('keys', {
      EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_keys'), EKM_HTTP_PORT: '0',
      EKM_AUTH: 'required', EKM_AUTH_SECRET: SECRET, EKM_AUTHZ: 'allow-all', EKM_DATA_DIR: dataDir, EKM_ROOT_SECRET: 'replay-e2e-root-secret-0123456789',
    });
    const authenticator = new RequestAuthenticator({ mode: 'required', sealer, revocations: new RevocationList(11 * 60_000), nonces: new NonceCache(), clock: () => now });
    const svc = await startServiceApp({ config, module: KeysModule, logger: silent, auth: new TransportAuth(authenticator, 'keys', silent) });
    running.push(svc);
    return svc;
  };
  const stopKeys = async (svc: ServiceApp): Promise<void> => {
    await svc.close();
    running.splice(running.indexOf(svc), 1);
  };

  const session = sealer.issue({ principalId: 'service:replay-e2e', tenant: '*', roles: ['service'], ttlMs: 3_600_000 });
  // Signed AND sealed, as the SDK sends them (data-plane bodies must be sealed: EKM_SEAL_REQUIRED otherwise).
  interface Signed { readonly subject: string; readonly body: Buffer; readonly headers: Record<string, string>; readonly open: (data: Uint8Array, seal: string | undefined) => string }
  const active = { token: session.token, sessionKey: session.sessionKey, expiresAt: session.claims.expiresAt };
  const sign = (op: string, body: unknown, requestId = randomUUID()): Signed => {
    const subj = subject('keys', op as never);
    const sealed = sealedRequest(active, subj, requestId, Buffer.from(JSON.stringify(body)), now);
    return { subject: subj, body: sealed.body, headers: { ...sealed.headers }, open: (d, seal) => sealed.openReply(d, seal) };
  };
  const send = async <T>(s: Signed, override: Record<string, string> = {}): Promise<Reply<T>> => {
    const h = headers();
    for (const [k, v] of Object.entries({ ...s.headers, ...override })) h.set(k, v);
    const m = await nc.request(s.subject, s.body, { timeout: 10_000, headers: h });
    return JSON.parse(s.open(m.data, m.headers?.has('Ekm-Seal') ? m.headers.get('Ekm-Seal') : undefined)) as Reply<T>;
  };
  const reasonOf = (r: Reply<unknown>): string => (r.ok ? 'accepted' : String((r.error.details as { reason?: string } | undefined)?.reason ?? r.error.code));
  /** Everything the keys service decided (refusals at the transport are AuthenticationFailed records, not counted). */
  const stateOf = async (keyIds: string[]): Promise<{ events: number; usage: number; versions: number; keys: number }> => {
    const q = async (sql: string, p: unknown[] = []): Promise<number> => Number((await pg.query<{ n: string }>(sql, p)).rows[0]!.n);
    return {
      events: await q(`SELECT count(*) AS n FROM ekm_keys.events WHERE event_type NOT IN ('AuthenticationFailed', 'KeyUsageRecorded', 'KeyUsageBatchRecorded')`),
      usage: await q(`SELECT count(*) AS n FROM ${USAGE_RECORDS}`),
      versions: await q(`SELECT count(*) AS n FROM ekm_keys.key_material WHERE key_id = ANY($1)`, [keyIds]),
      keys: await q(`SELECT count(*) AS n FROM ekm_keys.key_material WHERE version = 1`),
    };
  };

  beforeAll(async () => {
    nats = await startNats();
    db = await createTestDatabase('ekm_keys_replay');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    nc = await connect({ servers: nats.url });
  }, 60_000);

  afterAll(async () => {
    for (const s of [...running]) await s.close().catch(() => undefined);
    await nc?.close();
    await pg?.end();
    if (nats) await stopServer(nats);
  });

  it('CreateKey, RotateKey and GenerateDataKey replayed at +1 s, +25 s, to a second replica and after a restart: all REPLAYED, nothing changes', async () => {
    const first = await startKeys();
    const t0 = Date.now();
    now = t0;
    const create = sign('create-key', { tenant: 'replay' });
    const created = await send<{ keyId: string }>(create);
    expect(created).toMatchObject({ ok: true });
    const keyId = created.ok ? created.data.keyId : '';
    const rotate = sign('rotate-key', { keyId });
    expect(await send(rotate)).toMatchObject({ ok: true, data: { primaryVersion: 2 } });
    const gdk = sign('generate-data-key', { keyId, encryptionContext: { collection: 'docs' } });
    expect(await send(gdk)).toMatchObject({ ok: true });
    const before = await stateOf([keyId]);
    expect(before.versions).toBe(2);
    const replayAll = async (): Promise<string[]> => [await send(create), await send(rotate), await send(gdk)].map(reasonOf);

    now = t0 + 1_000;
    expect(await replayAll()).toEqual(['REPLAYED', 'REPLAYED', 'REPLAYED']);
    now = t0 + 25_000;
    expect(await replayAll()).toEqual(['REPLAYED', 'REPLAYED', 'REPLAYED']);
    // The same signed bytes under a fresh request id: the signature no longer matches.
    expect(reasonOf(await send(create, { 'Ekm-Request-Id': randomUUID() }))).toBe('SIGNATURE_INVALID');

    // A second replica (fresh memory) answers alone: the nonces are in Postgres.
    const second = await startKeys();
    await stopKeys(first);
    expect(await replayAll()).toEqual(['REPLAYED', 'REPLAYED', 'REPLAYED']);
    // Restart: every replica gone, a new one right away, still inside the window.
    await stopKeys(second);
    await startKeys();
    now = t0 + 26_000;
    expect(await replayAll()).toEqual(['REPLAYED', 'REPLAYED', 'REPLAYED']);

    expect(await stateOf([keyId])).toEqual(before);
    // The keys service still works for fresh requests.
    expect(await send(sign('describe-key', { keyId }))).toMatchObject({ ok: true, data: { keyId, primaryVersion: 2 } });
  }, 120_000);
});
