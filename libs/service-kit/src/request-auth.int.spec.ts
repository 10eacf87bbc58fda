/**
 * Request authentication over a real nats-server and Postgres: a service app (two replicas for the
 * revocation case) with EKM_AUTH=required. Each refusal must be EKM_UNAUTHENTICATED with its reason and
 * an AuthenticationFailed event in the service's own event log.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { RevocationList, RevocationListener, SessionSealer, signRequest, type IssuedSession } from '@ekm/auth';
import { loadConfig } from '@ekm/config';
import type { Reply } from '@ekm/contracts';
import { createLogger } from '@ekm/telemetry';
import { ensureStreams, eventStreamSpec } from '@ekm/event-store';
import { createTestDatabase, urlFor } from '../../../test/support/pg';
import { startNats, stopServer, type ServerHandle } from '../../../test/support/servers';
import { waitFor } from '../../../test/support/wait-for';
import { startServiceApp, type ServiceApp } from './bootstrap';
import { authProbeModule } from './request-auth.test-fixture';

const SECRET = `int-secret-${randomBytes(16).toString('hex')}`;
const prefix = `ekm.v1.t${randomBytes(4).toString('hex')}`;
const sealer = new SessionSealer(SECRET);

describe('request authentication in the transport (real NATS, Postgres)', () => {
  let nats: ServerHandle;
  let db: { name: string; url: string };
  let admin: Client;
  let nc: NatsConnection;
  const replicas: ServiceApp[] = [];
  let session: IssuedSession;

  const start = async (): Promise<ServiceApp> => {
    const config = loadConfig('audit', {
      EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_audit'), EKM_HTTP_PORT: '0',
      EKM_AUTH: 'required', EKM_AUTH_SECRET: SECRET, EKM_DATA_DIR: mkdtempSync(join(tmpdir(), 'ekm-auth-int-')),
    });
    const svc = await startServiceApp({ config, module: authProbeModule(prefix), logger: createLogger('audit', { level: 'silent' }) });
    replicas.push(svc);
    return svc;
  };

  /** Sends raw bytes with the given auth headers (a map of header → value). */
  /** The request id is the signed one when `auth` carries it (a different one would break the signature). */
  const send = async <T>(op: string, body: Uint8Array, auth: Record<string, string>, requestId = auth['Ekm-Request-Id'] ?? randomUUID()): Promise<Reply<T>> => {
    const h = headers();
    h.set('Ekm-Request-Id', requestId);
    for (const [k, v] of Object.entries(auth)) h.set(k, v);
    return (await nc.request(`${prefix}.${op}`, body, { timeout: 5000, headers: h })).json<Reply<T>>();
  };
  const bytes = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v), 'utf8');
  const signed = (op: string, body: Uint8Array, s: { token: string; sessionKey: Uint8Array } = session, at = Date.now(), requestId: string = randomUUID()) =>
    ({ ...signRequest(s, `${prefix}.${op}`, body, { now: at, requestId }) }) as Record<string, string>;

  const expectRefused = async (r: Reply<unknown>, reason: string, requestId: string): Promise<void> => {
    expect(r).toMatchObject({ ok: false, error: { code: 'EKM_UNAUTHENTICATED', details: { reason } } });
    // The refusal is in the service's event log (group-committed after the reply).
    for (const svc of replicas) await svc.auth.flush();
    const rows = await waitFor(async () => {
      const found = (await admin.query<{ data: Record<string, unknown>; stream_id: string }>(`SELECT data, stream_id FROM ekm_audit.events WHERE event_type = 'AuthenticationFailed' AND data->>'requestId' = $1`, [requestId])).rows;
      return found.length > 0 && found;
    }, { timeoutMs: 3000, what: 'the AuthenticationFailed record' });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.stream_id).toMatch(/^auth-failures-/);
    expect(rows[0]!.data).toMatchObject({ subject: expect.stringMatching(new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.`)), reason, service: 'audit', at: expect.any(String) });
    expect(JSON.stringify(rows[0]!.data)).not.toContain(session.token);
  };

  beforeAll(async () => {
    nats = await startNats();
    db = await createTestDatabase('ekm_auth');
    admin = new Client({ connectionString: db.url });
    await admin.connect();
    await start();
    nc = await connect({ servers: nats.url });
    session = sealer.issue({ principalId: 'svc-orders', credentialId: 'cred-orders-1', tenant: 'acme', roles: ['app'] });
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) await r.close().catch(() => undefined);
    await nc?.close();
    await admin?.end();
    if (nats) await stopServer(nats);
  });

  it('a valid signed request reaches the handler with the authenticated principal', async () => {
    const body = bytes({ hello: 'world' });
    const r = await send<{ caller: unknown; body: unknown }>('whoami', body, signed('whoami', body));
    expect(r).toEqual({ ok: true, data: { caller: { principalId: 'svc-orders', tenant: 'acme', roles: ['app'], sessionId: session.claims.sessionId }, body: { hello: 'world' } } });
    const e = await send<{ principalId: string }>('echo', bytes({}), signed('echo', bytes({})));
    expect(e).toMatchObject({ ok: true, data: { principalId: 'svc-orders' } });
  });

  it('an unsigned request is refused (MISSING_CREDENTIALS) and recorded', async () => {
    const id = randomUUID();
    await expectRefused(await send('whoami', bytes({}), {}, id), 'MISSING_CREDENTIALS', id);
  });

  it('a replayed request is refused (REPLAYED)', async () => {
    const body = bytes({ n: 1 });
    const h = signed('whoami', body);
    expect((await send('whoami', body, h)).ok).toBe(true);
    await expectRefused(await send('whoami', body, h), 'REPLAYED', h['Ekm-Request-Id']!);
  });

  it('the request id is signed: the same signed bytes under another Ekm-Request-Id are refused (SIGNATURE_INVALID)', async () => {
    const body = bytes({ n: 2 });
    const h = signed('whoami', body);
    const id = randomUUID();
    await expectRefused(await send('whoami', body, { ...h, 'Ekm-Request-Id': id }), 'SIGNATURE_INVALID', id);
  });

  it.each([['stale', -31_000], ['future', 31_000]])('a %s timestamp (31 s) is refused (TIMESTAMP_SKEW)', async (_n, offset) => {
    const body = bytes({});
    const id = randomUUID();
    await expectRefused(await send('whoami', body, signed('whoami', body, session, Date.now() + offset, id)), 'TIMESTAMP_SKEW', id);
  });

  it('body swap and subject swap under a valid signature are refused (SIGNATURE_INVALID)', async () => {
    const body = bytes({ amount: 1 });
    const h1 = signed('whoami', body);
    await expectRefused(await send('whoami', bytes({ amount: 1000 }), h1), 'SIGNATURE_INVALID', h1['Ekm-Request-Id']!);
    const h2 = signed('whoami', body);
    await expectRefused(await send('echo', body, h2), 'SIGNATURE_INVALID', h2['Ekm-Request-Id']!);
  });

  it('an unknown session (another secret) is refused (SESSION_INVALID); an expired one (SESSION_EXPIRED)', async () => {
    const foreign = new SessionSealer(`${SECRET}-other`).issue({ principalId: 'svc-orders', tenant: 'acme', roles: ['admin'] });
    const id1 = randomUUID();
    await expectRefused(await send('whoami', bytes({}), signed('whoami', bytes({}), foreign, Date.now(), id1)), 'SESSION_INVALID', id1);
    const expired = sealer.issue({ principalId: 'svc-orders', tenant: 'acme', roles: [], ttlMs: 10_000, now: Date.now() - 10_001 });
    const id2 = randomUUID();
    await expectRefused(await send('whoami', bytes({}), signed('whoami', bytes({}), expired, Date.now(), id2)), 'SESSION_EXPIRED', id2);
  });

  it('a revoked principal is refused by every replica within 1 s (PRINCIPAL_REVOKED)', async () => {
    await start(); // second replica in the same queue group
    const victim = sealer.issue({ principalId: `svc-victim-${randomUUID().slice(0, 8)}`, tenant: 'acme', roles: ['app'] });
    const other = sealer.issue({ principalId: 'svc-bystander', tenant: 'acme', roles: ['app'] });
    for (let i = 0; i < 6; i++) expect((await send('whoami', bytes({ i }), signed('whoami', bytes({ i }), victim))).ok).toBe(true);
    // What the policy service's outbox relay publishes (JetStream publishes reach core subscribers too).
    const t0 = Date.now();
    nc.publish('ekm.events.policy.PrincipalRevoked', JSON.stringify({ eventId: randomUUID(), type: 'PrincipalRevoked', data: { principalId: victim.claims.principalId } }));
    // Both replicas' own authenticators refuse it within 1 s ...
    for (const svc of replicas) {
      for (;;) {
        const b = bytes({ probe: svc.auth.streamId });
        const h = signed('whoami', b, victim);
        const r = svc.auth.authenticator.authenticate({ subject: `${prefix}.whoami`, body: b, header: (n) => h[n] });
        if (!r.ok) {
          expect(r.reason).toBe('PRINCIPAL_REVOKED');
          break;
        }
        // Target < 1 s; without the push the session would stay valid for its lifetime. Slack for loaded CI.
        expect(Date.now() - t0).toBeLessThan(10_000);
        await new Promise((res) => setTimeout(res, 10));
      }
    }
    expect(Date.now() - t0).toBeLessThan(10_000);
    // ... and over the bus every request of the victim is refused, whichever replica answers; others pass.
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      const id = randomUUID();
      ids.push(id);
      const b = bytes({ after: i });
      expect(await send('whoami', b, signed('whoami', b, victim, Date.now(), id))).toMatchObject({ ok: false, error: { code: 'EKM_UNAUTHENTICATED', details: { reason: 'PRINCIPAL_REVOKED' } } });
    }
    expect((await send('whoami', bytes({}), signed('whoami', bytes({}), other))).ok).toBe(true);
    for (const svc of replicas) await svc.auth.flush();
    const { rows } = await admin.query(`SELECT DISTINCT stream_id FROM ekm_audit.events WHERE event_type = 'AuthenticationFailed' AND data->>'requestId' = ANY($1) AND data->>'principalClaimed' = $2`, [ids, victim.claims.principalId]);
    expect(rows.map((r) => r.stream_id as string).sort()).toEqual(replicas.map((s) => s.auth.streamId).sort());
  });
  it('a replica that starts after a revocation replays it from EKM_POLICY_EVENTS and refuses the session at once', async () => {
    // As the policy service's outbox relay would have published it, before this replica existed.
    await ensureStreams(await jetstreamManager(nc), [eventStreamSpec('policy')]);
    const late = sealer.issue({ principalId: `svc-late-${randomUUID().slice(0, 8)}`, tenant: 'acme', roles: ['app'] });
    const session2 = sealer.issue({ principalId: 'svc-orders', tenant: 'acme', roles: ['app'] });
    const js = jetstream(nc);
    await js.publish('ekm.events.policy.PrincipalCreated', JSON.stringify({ eventId: randomUUID(), type: 'PrincipalCreated', data: { principalId: 'someone' } }));
    await js.publish('ekm.events.policy.PrincipalRevoked', JSON.stringify({ eventId: randomUUID(), type: 'PrincipalRevoked', data: { principalId: late.claims.principalId } }));
    await js.publish('ekm.events.policy.SessionRevoked', JSON.stringify({ eventId: randomUUID(), type: 'SessionRevoked', data: { sessionId: session2.claims.sessionId } }));
    const fresh = await start();
    // Checked on the new replica's own authenticator: no live message can have told it.
    const check = (s: IssuedSession) => {
      const b = bytes({ probe: 1 });
      const h = signed('whoami', b, s);
      return fresh.auth.authenticator.authenticate({ subject: `${prefix}.whoami`, body: b, header: (n) => h[n] });
    };
    expect(check(late)).toMatchObject({ ok: false, reason: 'PRINCIPAL_REVOKED' });
    expect(check(session2)).toMatchObject({ ok: false, reason: 'SESSION_REVOKED' });
    expect(check(sealer.issue({ principalId: 'svc-orders', tenant: 'acme', roles: ['app'] })).ok).toBe(true);
  });
  it('replay from a stream that does not exist (the policy service never ran) adds nothing and does not fail', async () => {
    await expect(new RevocationListener(nc, new RevocationList(60_000)).replay('EKM_NOSUCH_EVENTS', 60_000)).resolves.toBe(0);
  });
});
