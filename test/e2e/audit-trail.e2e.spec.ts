/**
 * Keys service + audit service on a private nats-server and one database: every source event enters
 * the trail once (denied, failed and authentication failures included), EKM_AUDIT carries each leaf
 * once, query/report/verify answer over the bus, a message deleted from EKM_KEYS_EVENTS is repaired
 * from Postgres, and no DEK, plaintext or blob reaches the trail or the SIEM stream.
 */
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client, Pool } from 'pg';
import type { z } from 'zod';
import { AuditPageReply, AuditVerifyReply, SignedUsageReportReply, subject, type Reply } from '@ekm/contracts';
import { ExpectedVersion, PostgresEventStore } from '@ekm/event-store';
import type { ServiceApp } from '@ekm/service-kit';
import { createTestDatabase } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { call, createKey, okData, startKeysApp } from './keys-crypto.support';
import { auditEnv, auditMessages, startAuditApp, sourceIds, trailIds, waitFor, waitForTrail } from './audit.support';
import type { TrailRuntime } from '../../apps/audit/src/trail/adapters/trail-runtime';
import { runCli } from '../../apps/cli/src/program';
import { scaled } from '../support/wait-for';

jest.setTimeout(scaled(60_000)); // scaled with the load (test/support/wait-for.ts)

describe('audit trail end to end', () => {
  let nats: ServerHandle;
  let db: { name: string; url: string };
  let nc: NatsConnection;
  let admin: Client;
  let keys: ServiceApp;
  let audit: { svc: ServiceApp; runtime: TrailRuntime } | undefined;
  let env: Record<string, string>;
  const secrets: Buffer[] = [];
  let keyId: string;

  // Every success reply is parsed with its reply contract (strict): a handler drifting from its schema fails here.
  const REPLY = { query: AuditPageReply, verify: AuditVerifyReply, report: SignedUsageReportReply } as const;
  const auditCall = async <O extends keyof typeof REPLY>(op: O, body: unknown): Promise<z.infer<(typeof REPLY)[O]>> => {
    const m = await nc.request(subject('audit', op), JSON.stringify(body), { timeout: 20_000 });
    const r = m.json<Reply<unknown>>();
    if (!r.ok) throw new Error(`${op}: ${r.error.code} ${r.error.message}`);
    return REPLY[op].parse(r.data) as z.infer<(typeof REPLY)[O]>;
  };

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_audit_e2e')]);
    keys = (await startKeysApp(nats.url, db)).svc;
    // Sweeper effectively off: gap repair must come from position tracking, not the safety net.
    env = auditEnv(nats.url, db, { EKM_AUDIT_RECONCILE_INTERVAL_MS: '3600000' });
    audit = await startAuditApp(env);
    nc = await connect({ servers: nats.url });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await audit?.svc.close().catch(() => undefined);
    await keys?.close().catch(() => undefined);
    await nc?.close();
    await admin?.end();
    await stopServer(nats);
  });

  it('records lifecycle events and allowed, failed, denied and unauthenticated usage exactly once', async () => {
    keyId = await createKey(nc, { tenant: 'acme' });
    const context = { tenant: 'acme', collection: 'docs', asset: 'vectors-1' };
    for (let i = 0; i < 5; i++) {
      const dk = await okData<{ plaintext: string; ciphertextBlob: string }>(nc, 'generate-data-key', { keyId, encryptionContext: context });
      secrets.push(Buffer.from(dk.plaintext, 'base64'), Buffer.from(dk.ciphertextBlob, 'base64'));
      if (i === 0) {
        const bad = await call(nc, 'decrypt', { ciphertextBlob: dk.ciphertextBlob, encryptionContext: { ...context, collection: 'other' } });
        expect(bad.ok).toBe(false);
      }
    }
    expect((await call(nc, 'encrypt', { keyId: randomUUID(), plaintext: Buffer.from('x').toString('base64') })).ok).toBe(false);
    // A denied record and an authentication failure, appended to the keys log as their emitters would.
    const pool = new Pool({ connectionString: db.url, max: 1 });
    const store = new PostgresEventStore(pool, { service: 'keys' });
    await store.appendToStream(`usage-synthetic-${randomUUID()}`, [
      { type: 'KeyUsageRecorded', data: { requestId: randomUUID(), principal: 'eve', tenant: 'acme', operation: 'Decrypt', keyId, outcome: 'DENIED', errorCode: 'EKM_FORBIDDEN', reason: 'explicit deny', at: new Date().toISOString() }, meta: { actor: 'eve' } },
      { type: 'AuthenticationFailed', data: { principalId: 'mallory', reason: 'SIGNATURE_INVALID', subject: 'ekm.v1.keys.decrypt' }, meta: { actor: 'mallory' } },
    ], { expectedVersion: ExpectedVersion.noStream });
    await pool.end();

    await waitForTrail(admin);
    const trail = await trailIds(admin);
    expect(new Set(trail).size).toBe(trail.length);
    expect(new Set(trail)).toEqual(new Set(await sourceIds(admin)));

    const outcomes = await admin.query(`SELECT category, action, outcome, principal FROM ekm_audit.trail`);
    const has = (o: object): boolean => outcomes.rows.some((r) => Object.entries(o).every(([k, v]) => r[k] === v));
    expect(has({ category: 'key_lifecycle', action: 'KeyCreated', outcome: 'success' })).toBe(true);
    expect(has({ category: 'key_usage', action: 'GenerateDataKey', outcome: 'success' })).toBe(true);
    expect(has({ category: 'key_usage', action: 'Decrypt', outcome: 'failure' })).toBe(true);
    expect(has({ category: 'key_usage', action: 'Decrypt', outcome: 'denied', principal: 'eve' })).toBe(true);
    expect(has({ category: 'authentication', outcome: 'denied', principal: 'mallory' })).toBe(true);
  });

  it('publishes every leaf once on EKM_AUDIT (msg id = leaf index) and the signed checkpoints', async () => {
    const { rows } = await admin.query<{ n: string }>(`SELECT max(leaf_index) AS n FROM ekm_audit.trail`);
    const n = Number(rows[0].n);
    const msgs = await waitFor('EKM_AUDIT to catch up', async () => {
      const all = await auditMessages(nc);
      return all.filter((m) => m.subject !== 'ekm.audit.v1.checkpoint').length >= n ? all : undefined;
    });
    const entries = msgs.filter((m) => m.subject !== 'ekm.audit.v1.checkpoint');
    expect(entries.map((m) => m.msgId)).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));
    const first = JSON.parse(entries[0].body) as { leafIndex: number; integrity: { hash: string }; schema: string };
    expect(first).toMatchObject({ leafIndex: 1, schema: 'ekm.audit.v1' });
    expect(entries.every((m) => /^ekm\.audit\.v1\.(key_usage|key_lifecycle|authentication)$/.test(m.subject))).toBe(true);
    await waitFor('a checkpoint on EKM_AUDIT', async () => (await auditMessages(nc)).some((m) => m.subject === 'ekm.audit.v1.checkpoint'));
  });

  it('answers query (filters, cursor pages), report (signed) and verify over the bus', async () => {
    const p1 = await auditCall('query', { keyId, limit: 3 });
    expect(p1.entries).toHaveLength(3);
    expect(p1.entries.every((e) => e.keyId === keyId)).toBe(true);
    const p2 = await auditCall('query', { keyId, limit: 3, cursor: p1.nextCursor });
    expect(p2.entries[0].leafIndex).toBeGreaterThan(p1.entries[2].leafIndex);
    const denied = await auditCall('query', { outcome: 'denied' });
    // The refused decrypt and the refused authentication: both are refusals (`denied`).
    expect(denied.entries.map((e) => e.actor.principal)).toEqual(['eve', 'mallory']);
    const bad = await nc.request(subject('audit', 'query'), JSON.stringify({ limit: 0 }), { timeout: 5_000 });
    expect(bad.json<Reply<unknown>>()).toMatchObject({ ok: false, error: { code: 'EKM_VALIDATION' } });

    const rep = await auditCall(
      'report', { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), tenant: 'acme' });
    expect(rep.report.rows).toEqual([expect.objectContaining({ keyId, keyVersion: 1, collection: 'docs', asset: 'vectors-1', operations: 5 })]);
    const { createPublicKey, verify } = await import('node:crypto');
    const pub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(rep.publicKey, 'base64')]), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(rep.payload), pub, Buffer.from(rep.signature, 'base64'))).toBe(true);
    expect(verify(null, Buffer.from(rep.payload.replace('vectors-1', 'vectors-2')), pub, Buffer.from(rep.signature, 'base64'))).toBe(false);

    const v = await auditCall('verify', {});
    expect(v).toMatchObject({ ok: true, firstBadIndex: null, quarantined: 0, signerDistrust: null });

    // The whole trail (usage, lifecycle, refusals, authentication) through the strict entry schema.
    const all = await auditCall('query', { limit: 1000 });
    expect(new Set(all.entries.map((e) => e.category))).toEqual(new Set(['key_usage', 'key_lifecycle', 'authentication']));
  });

  it('ekm audit verify|query|report|tail --json / --format cef', async () => {
    const run = async (...argv: string[]): Promise<{ code: number; out: string }> => {
      let out = '';
      const code = await runCli(['--nats', nats.url, ...argv], { io: { stdout: (c) => void (out += c.toString()), stderr: (c) => void (out += c) }, env: {}, cwd: '/' });
      return { code, out };
    };
    const v = await run('--json', 'audit', 'verify');
    expect(v.code).toBe(0);
    expect(JSON.parse(v.out)).toEqual({
      ok: true, entries: expect.any(Number), firstBadIndex: null, reason: expect.any(String),
      published: expect.objectContaining({ checkpoints: expect.any(Number), rejected: 0 }), quarantined: 0, signerDistrust: null,
    });
    const q = await run('--json', 'audit', 'query', '--outcome', 'denied');
    expect(JSON.parse(q.out).entries).toHaveLength(2);
    const t = await run('audit', 'tail', '-n', '3', '--format', 'cef');
    expect(t.code).toBe(0);
    expect(t.out.trim().split('\n')).toHaveLength(3);
    expect(t.out.trim().split('\n').every((l) => l.startsWith('CEF:0|EKM|ekm-audit|1|'))).toBe(true);
    const tj = await run('audit', 'tail', '-n', '4', '--format', 'json');
    const leaves = tj.out.trim().split('\n').map((l) => (JSON.parse(l) as { leafIndex: number }).leafIndex);
    expect(leaves).toHaveLength(4);
    expect(leaves).toEqual([...leaves].sort((x, y) => x - y));
    const r = await run('audit', 'report', '--from', '2020-01-01T00:00:00Z', '--to', '2100-01-01T00:00:00Z');
    expect(r.out).toContain('vectors-1');
    expect((await run('audit', 'query', '--outcome', 'maybe')).code).toBe(2);
  });

  it('canary: no DEK plaintext or blob in trail rows or EKM_AUDIT messages (raw, hex, base64)', async () => {
    const { rows } = await admin.query<{ entry: string }>(`SELECT entry FROM ekm_audit.trail`);
    const haystacks = [...rows.map((r) => Buffer.from(r.entry)), ...(await auditMessages(nc)).map((m) => Buffer.from(m.raw))];
    expect(secrets.length).toBe(10);
    for (const s of secrets) {
      const needles = [s, Buffer.from(s.toString('hex')), Buffer.from(s.toString('base64')), Buffer.from(s.toString('base64url'))];
      for (const h of haystacks) for (const n of needles) expect(h.includes(n)).toBe(false);
    }
  });

  it('repairs a message deleted from EKM_KEYS_EVENTS from the source table (no gap, no duplicate)', async () => {
    await audit!.svc.close();
    audit = undefined;
    await okData(nc, 'rotate-key', { keyId });
    await okData(nc, 'tag-key', { keyId, tags: { team: 'search' } });
    const { rows } = await admin.query<{ id: string }>(`SELECT event_id::text AS id FROM ekm_keys.events WHERE stream_id = $1 AND event_type = 'KeyVersionAdded' ORDER BY stream_position DESC LIMIT 1`, [`key-${keyId}`]);
    const lostId = rows[0].id;
    const jsm = await jetstreamManager(nc);
    const seq = await waitFor('the rotation to be relayed', async () => {
      const info = await jsm.streams.info('EKM_KEYS_EVENTS');
      for (let s = info.state.last_seq; s >= info.state.first_seq; s--) {
        const m = await jsm.streams.getMessage('EKM_KEYS_EVENTS', { seq: s }).catch(() => null);
        if (m?.header?.get('Nats-Msg-Id') === lostId) return s;
      }
      return undefined;
    });
    expect(await jsm.streams.deleteMessage('EKM_KEYS_EVENTS', seq)).toBe(true);
    audit = await startAuditApp(env);
    await waitForTrail(admin);
    expect(audit.runtime.appender.gapFilledTotal).toBeGreaterThanOrEqual(1);
    const trail = await trailIds(admin);
    expect(trail.filter((id) => id === lostId)).toHaveLength(1);
    expect(new Set(trail).size).toBe(trail.length);
    const pos = await admin.query<{ p: number }>(`SELECT source_stream_position AS p FROM ekm_audit.trail WHERE source_stream_id = $1 ORDER BY leaf_index`, [`key-${keyId}`]);
    expect(pos.rows.map((r) => r.p)).toEqual(pos.rows.map((_, i) => i + 1)); // stream order kept in the trail
    expect(await auditCall('verify', {})).toMatchObject({ ok: true });
  });
});
