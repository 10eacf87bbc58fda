/**
 * Hostile input against the whole stack (keys, policy, rotation, audit on one private nats-server,
 * real Postgres): every subject's body with NUL characters, lone surrogates, overlong strings,
 * out-of-range numbers, huge key versions in blob headers and wrong types. Every reply is a typed,
 * non-retriable error; no key, policy or rotation state is written; the services stay ready; the trail
 * keeps appending; and a principal's valid Encrypts never fail while another one sends poison.
 */
import { randomUUID } from 'node:crypto';
import { connect, createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client, Pool } from 'pg';
import { ExpectedVersion, PostgresEventStore } from '@ekm/event-store';
import { loadConfig } from '@ekm/config';
import {
  AuditPageReply, AuditVerifyReply, isBusErrorCode, isRetriable, OPERATIONS, SERVICES, subject, type Reply, type ServiceName,
} from '@ekm/contracts';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { RotationModule } from '../../apps/rotation/src/rotation.module';
import { startPolicyHarness, type PolicyHarness } from '../../apps/policy/src/access/adapters/nats/policy.test-harness';
import type { TrailRuntime } from '../../apps/audit/src/trail/adapters/trail-runtime';
import { createTestDatabase, urlFor } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { startKeysApp, type KeysApp } from './keys-crypto.support';
import { auditEnv, auditMessages, startAuditApp, waitFor, waitForTrail } from './audit.support';
import { hostileBodies, poisonedBlob } from './hostile-input.support';

jest.setTimeout(300_000);

/** The refusal's code; a batch answers per item, so a batch whose every item failed with one code counts as refused. */
function refusalCode(r: Reply<unknown>): string {
  if (!r.ok) return r.error.code;
  const items = (r.data as { items?: { ok: boolean; error?: { code: string } }[] } | null)?.items;
  if (Array.isArray(items) && items.length > 0 && items.every((i) => !i.ok)) {
    const codes = [...new Set(items.map((i) => i.error?.code ?? 'OK'))];
    return codes.length === 1 ? codes[0] : codes.join(',');
  }
  return 'OK';
}

describe('hostile input: typed refusals, nothing written, the trail never stalls', () => {
  let nats: ServerHandle;
  let db: { name: string; url: string };
  let keys: KeysApp;
  let policy: PolicyHarness;
  let rotation: ServiceApp;
  let audit: { svc: ServiceApp; runtime: TrailRuntime };
  let nc: NatsConnection;
  let admin: Client;
  let keyId: string;
  let blob: string;

  const send = async <T = unknown>(service: ServiceName, op: string, body: unknown, principal = 'mallory'): Promise<Reply<T>> => {
    const h = headers();
    h.set('Ekm-Principal', principal);
    h.set('Ekm-Request-Id', randomUUID());
    const m = await nc.request(`ekm.v1.${service}.${op}`, typeof body === 'string' ? body : JSON.stringify(body), { timeout: 20_000, headers: h });
    return m.json<Reply<T>>();
  };
  const okData = async <T>(service: ServiceName, op: string, body: unknown, principal = 'alice'): Promise<T> => {
    const r = await send<T>(service, op, body, principal);
    if (!r.ok) throw new Error(`${service}.${op}: ${r.error.code} ${r.error.message}`);
    return r.data;
  };
  const encryptAs = (principal: string, context: Record<string, string> = { collection: 'docs' }) =>
    send('keys', 'encrypt', { keyId, plaintext: Buffer.from('vector').toString('base64'), encryptionContext: context }, principal);

  /** Rows that are state (not usage records, not the trail): must not move while only bad input arrives. */
  const stateRows = async (): Promise<Record<string, number>> => {
    const q = async (sql: string, c: Client = admin): Promise<number> => Number((await c.query<{ n: string }>(sql)).rows[0].n);
    // Refusals are recorded (AccessDenied, AuthenticationFailed: the audit trail's denied entries); any
    // other event would be state a hostile body changed.
    const refusals = `event_type NOT IN ('AccessDenied', 'AuthenticationFailed')`;
    return {
      keys: await q(`SELECT count(*) AS n FROM ekm_keys.events WHERE stream_id NOT LIKE 'usage-%' AND ${refusals}`),
      rotation: await q(`SELECT count(*) AS n FROM ekm_rotation.events WHERE ${refusals}`),
      policy: await q(`SELECT count(*) AS n FROM ekm_policy.events WHERE ${refusals}`, policy.db),
    };
  };
  const trailSize = async (): Promise<number> => Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM ekm_audit.trail')).rows[0].n);
  const ready = async (app: ServiceApp): Promise<number> => (await fetch(`http://127.0.0.1:${app.httpPort}/health/ready`)).status;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_hostile')]);
    keys = await startKeysApp(nats.url, db);
    policy = await startPolicyHarness({ natsUrl: nats.url });
    rotation = await startServiceApp({
      config: loadConfig('rotation', { EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_rotation'), EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled' }),
      module: RotationModule, logger: createLogger('rotation', { level: 'silent' }),
    });
    audit = await startAuditApp(auditEnv(nats.url, db, { EKM_AUDIT_SOURCES: 'keys,rotation', EKM_AUDIT_RECONCILE_INTERVAL_MS: '1000', EKM_AUDIT_MAX_LAG_MS: '4000' }));
    nc = await connect({ servers: nats.url });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
    keyId = (await okData<{ keyId: string }>('keys', 'create-key', { tenant: 'acme' })).keyId;
    blob = (await okData<{ ciphertextBlob: string }>('keys', 'generate-data-key', { keyId, encryptionContext: { collection: 'docs' } })).ciphertextBlob;
    await okData('policy', 'create-principal', { tenant: 'acme', roles: ['app'] });
    await waitForTrail(admin);
  });
  afterAll(async () => {
    await audit?.svc.close().catch(() => undefined);
    await rotation?.close().catch(() => undefined);
    await keys?.svc.close().catch(() => undefined);
    await policy?.close().catch(() => undefined);
    await nc?.close();
    await admin?.end();
    if (nats) await stopServer(nats);
  });

  it('every subject of every service refuses every hostile body with a typed, non-retriable error, and writes nothing', async () => {
    const before = await stateRows();
    const trailBefore = await trailSize();
    const bodies = hostileBodies({ keyId, blob });
    const covered = new Set(bodies.map((b) => `${b.service}.${b.op}`));
    for (const s of SERVICES) for (const op of OPERATIONS[s]) if (op !== 'status') expect(covered).toContain(`${s}.${op}`);
    const bad: string[] = [];
    // 8 in flight: a flood, without turning the 2-core test machine into the bottleneck.
    for (let i = 0; i < bodies.length; i += 8) {
      await Promise.all(bodies.slice(i, i + 8).map(async (b) => {
        const r = await send(b.service, b.op, b.body);
        const code = refusalCode(r);
        if (code === 'OK' || !isBusErrorCode(code) || isRetriable(code) || code === 'EKM_INTERNAL') bad.push(`${b.service}.${b.op} ${b.what}: ${code} ${r.ok ? '' : r.error.message}`);
        if (code !== 'OK' && b.expect) expect(`${b.service}.${b.op} ${b.what}: ${code}`).toBe(`${b.service}.${b.op} ${b.what}: ${b.expect}`);
      }));
    }
    expect(bad).toEqual([]);
    expect(bodies.length).toBeGreaterThan(1000);
    expect(await stateRows()).toEqual(before);
    // Refusals are audited too: the trail grew and holds every source record.
    await waitForTrail(admin);
    expect(await trailSize()).toBeGreaterThan(trailBefore);
    for (const app of [keys.svc, policy.svc, rotation, audit.svc]) expect(await ready(app)).toBe(200);
    const status = await okData<{ trail: { quarantined: number; unappended: number; signing: { trusted: boolean } } }>('audit', 'status', {});
    expect(status.trail).toMatchObject({ quarantined: 0, signing: { trusted: true } });
  });

  it.each([
    ['Decrypt of a blob whose header claims version 2^31+1', () => send('keys', 'decrypt', { ciphertextBlob: poisonedBlob(blob, 2 ** 31 + 1), encryptionContext: { collection: 'docs' } }), 'EKM_INVALID_CIPHERTEXT'],
    ['ReEncrypt of a blob with byte 21 bit-flipped', () => send('keys', 're-encrypt', { ciphertextBlob: poisonedBlob(blob, 'flip21'), sourceEncryptionContext: { collection: 'docs' } }), 'EKM_INVALID_CIPHERTEXT'],
    ['Encrypt with a NUL in the context', () => encryptAs('mallory', { x: 'a\u0000' }), 'EKM_VALIDATION'],
    ['Encrypt with a lone surrogate in the context', () => encryptAs('mallory', { x: 'a\ud800' }), 'EKM_VALIDATION'],
  ])('%s, sent during a stream of valid Encrypts of another principal: 0 valid calls fail, the trail advances', async (_what, poison, code) => {
    const trailBefore = await trailSize();
    const good: Promise<Reply<unknown>>[] = [];
    const evil: Promise<Reply<unknown>>[] = [];
    for (let i = 0; i < 300; i++) {
      good.push(encryptAs('alice'));
      if (i % 2 === 0) evil.push(poison());
      if (i % 16 === 15) await Promise.all([...good.slice(-16), ...evil.slice(-8)]);
    }
    const [g, e] = [await Promise.all(good), await Promise.all(evil)];
    expect(g.filter((r) => !r.ok)).toEqual([]);
    expect(e.every((r) => !r.ok && r.error.code === code && !isRetriable(r.error.code))).toBe(true);
    await waitForTrail(admin);
    // Every valid call is on record (a refused blob is too; a body refused by its schema never got that far).
    expect(await trailSize()).toBeGreaterThanOrEqual(trailBefore + 300);
    expect(await ready(audit.svc)).toBe(200);
  });

  it('verify-progress hijack: a service subject or a foreign inbox is refused; the checkpoint subject holds only signed checkpoints', async () => {
    for (const progressSubject of ['ekm.audit.v1.checkpoint', 'ekm.v1.keys.encrypt', '_INBOX_other.x', '_INBOX.>', 'a\u0000']) {
      const r = await send('audit', 'verify', { progressSubject });
      expect(r).toMatchObject({ ok: false, error: { code: 'EKM_VALIDATION' } });
    }
    // The caller's own inbox (same prefix as its replies) still gets its progress.
    const inbox = createInbox();
    const progress: unknown[] = [];
    const sub = nc.subscribe(inbox, { callback: (_e, m) => { progress.push(m.json()); } });
    const r = await send<{ ok: boolean; published: { checkpoints: number; rejected: number } }>('audit', 'verify', { progressSubject: inbox });
    expect(r).toMatchObject({ ok: true, data: { ok: true } });
    await waitFor('a progress message', async () => progress.length > 0);
    sub.unsubscribe();
    await waitFor('a published checkpoint', async () => (await auditMessages(nc)).some((m) => m.subject === 'ekm.audit.v1.checkpoint'));
    const cps = (await auditMessages(nc)).filter((m) => m.subject === 'ekm.audit.v1.checkpoint');
    for (const m of cps) expect(JSON.parse(m.body)).toMatchObject({ treeSize: expect.any(Number), signature: expect.any(String), algorithm: 'Ed25519' });
    // A forged message there (only NATS permissions can stop the publish) is ignored by verify, not fatal.
    nc.publish('ekm.audit.v1.checkpoint', JSON.stringify({ done: 1, total: 1 }));
    await nc.flush();
    await waitFor('the forged message in EKM_AUDIT', async () => (await auditMessages(nc)).filter((m) => m.subject === 'ekm.audit.v1.checkpoint').length > cps.length);
    const after = await send<{ ok: boolean; published: { checkpoints: number; rejected: number } }>('audit', 'verify', {});
    expect(after).toMatchObject({ ok: true, data: { ok: true, published: { rejected: 1 } } });
    expect(after.ok && after.data.published.checkpoints).toBeGreaterThan(0);
  });

  it('a consumer that is up but not advancing makes audit not ready, and health shows the lag', async () => {
    await audit.runtime.consumers.stop();
    await audit.runtime.sweeper.stop();
    try {
      for (let i = 0; i < 5; i++) expect((await encryptAs('alice')).ok).toBe(true);
      const waiting = await waitFor('audit not ready', async () => {
        const res = await fetch(`http://127.0.0.1:${audit.svc.httpPort}/health/ready`);
        const text = await res.text();
        return res.status !== 200 && /trail not advancing/.test(text) ? text : false;
      }, 30_000);
      expect(waiting).toMatch(/record\(s\) waiting/);
      const s = await okData<{ trail: { unappended: number; oldestUnappendedAgeMs: number } }>('audit', 'status', {});
      expect(s.trail.unappended).toBeGreaterThanOrEqual(5);
      expect(s.trail.oldestUnappendedAgeMs).toBeGreaterThan(4000);
    } finally {
      await audit.runtime.consumers.start();
      audit.runtime.sweeper.start();
    }
    await waitForTrail(admin);
    await waitFor('audit ready again', async () => (await ready(audit.svc)) === 200, 30_000);
  });

  it('a record that slipped past validation is appended as a quarantined entry: counted by verify, status and metrics; the trail moves on', async () => {
    // Written straight into the keys log, as a bug or a forged relay message would: version 2^31+1.
    const pool = new Pool({ connectionString: db.url, max: 1 });
    try {
      await new PostgresEventStore(pool, { service: 'keys' }).appendToStream(`usage-slipped-${randomUUID()}`, [
        { type: 'KeyUsageRecorded', data: { requestId: randomUUID(), principal: 'mallory', operation: 'Decrypt', keyId, keyVersion: 2 ** 31 + 1, outcome: 'DENIED', at: new Date().toISOString() }, meta: { actor: 'mallory' } },
      ], { expectedVersion: ExpectedVersion.noStream });
    } finally {
      await pool.end();
    }
    for (let i = 0; i < 5; i++) expect((await encryptAs('alice')).ok).toBe(true);
    await waitForTrail(admin);
    const { rows } = await admin.query<{ entry: string }>(`SELECT entry FROM ekm_audit.trail WHERE category = 'quarantine'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].entry).not.toMatch(/2147483649|mallory/);
    const v = AuditVerifyReply.parse(await okData('audit', 'verify', {}));
    expect(v).toMatchObject({ ok: true, quarantined: 1 });
    // The quarantined stand-in as query returns it, through the strict entry schema (its source has no streamPosition to trust).
    const q = AuditPageReply.parse(await okData('audit', 'query', { category: 'quarantine' }));
    expect(q.entries).toEqual([expect.objectContaining({ category: 'quarantine', outcome: 'failure', quarantine: expect.objectContaining({ sha256: expect.any(String) }) })]);
    const s = await okData<{ trail: { quarantined: number } }>('audit', 'status', {});
    expect(s.trail.quarantined).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${audit.svc.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^ekm_audit_quarantined_entries\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^ekm_audit_signing_trusted\{[^}]*\} 1$/m);
    await waitFor('the quarantined entry on the SIEM stream', async () => (await auditMessages(nc)).some((m) => m.subject === 'ekm.audit.v1.quarantine'));
    expect(await ready(audit.svc)).toBe(200);
  });
});
