/**
 * Fail closed end to end: with the PRIVATE Postgres under the keys and audit services stopped, key
 * operations fail (EKM_AUDIT_UNAVAILABLE or EKM_UNAVAILABLE) and none succeeds unrecorded; after a
 * restart every acknowledged operation appears in the audit trail (the audit service reconnects).
 */
import { randomUUID } from 'node:crypto';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { subject, type Reply } from '@ekm/contracts';
import type { ServiceApp } from '@ekm/service-kit';
import { startNats, startPostgres, stopServer, type ServerHandle } from '../support/servers';
import { startKeysApp } from './keys-crypto.support';
import { auditEnv, startAuditApp, waitFor } from './audit.support';
import { scaled } from '../support/wait-for';

jest.setTimeout(scaled(90_000)); // scaled with the load (test/support/wait-for.ts)

describe('fail closed with the audit trail', () => {
  let nats: ServerHandle;
  let pg: ServerHandle;
  let nc: NatsConnection;
  let keys: ServiceApp | undefined;
  let audit: { svc: ServiceApp } | undefined;
  const db = { name: 'ekm_fail_closed', url: '' };

  beforeAll(async () => {
    [nats, pg] = await Promise.all([startNats(), startPostgres()]);
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    await c.query(`CREATE DATABASE ${db.name}`);
    await c.end();
    const u = new URL(pg.url);
    u.pathname = `/${db.name}`;
    db.url = u.toString();
    // urlFor() points at the run's shared test server: build the role URLs for this private one.
    const roleUrl = (role: string): string => { const x = new URL(db.url); x.username = role; return x.toString(); };
    keys = (await startKeysApp(nats.url, db, { EKM_DATABASE_URL: roleUrl('ekm_keys') })).svc;
    audit = await startAuditApp(auditEnv(nats.url, db, { EKM_DATABASE_URL: roleUrl('ekm_audit'), EKM_AUDIT_RECONCILE_INTERVAL_MS: '1000' }));
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await audit?.svc.close().catch(() => undefined);
    await keys?.close().catch(() => undefined);
    await nc?.close();
    await stopServer(nats);
    await stopServer(pg);
  });

  const gdk = async (keyId: string): Promise<{ requestId: string; reply: Reply<unknown> }> => {
    const requestId = randomUUID();
    const h = headers();
    h.set('Ekm-Request-Id', requestId);
    try {
      const m = await nc.request(subject('keys', 'generate-data-key'), JSON.stringify({ keyId, encryptionContext: { tenant: 't' } }), { timeout: 5_000, headers: h });
      return { requestId, reply: m.json<Reply<unknown>>() };
    } catch {
      return { requestId, reply: { ok: false, error: { code: 'EKM_TIMEOUT', message: 'no reply' } } as Reply<unknown> };
    }
  };

  it('refuses key operations while Postgres is down and records every acknowledged one', async () => {
    const created = await nc.request(subject('keys', 'create-key'), JSON.stringify({ tenant: 't' }), { timeout: 10_000 });
    const keyId = (created.json<Reply<{ keyId: string }>>() as { ok: true; data: { keyId: string } }).data.keyId;
    const acked: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await gdk(keyId);
      expect(r.reply.ok).toBe(true);
      acked.push(r.requestId);
    }
    // Fast shutdown: the services' pools hold connections, which a smart shutdown would wait for.
    await stopServer(pg, { keepDir: true, signal: 'SIGINT' });
    const down: Reply<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await gdk(keyId);
      down.push(r.reply);
      if (r.reply.ok) acked.push(r.requestId); // a KEK-cached op may still not succeed unrecorded: none may be ok
    }
    expect(down.every((r) => !r.ok)).toBe(true);
    expect(down.map((r) => (r.ok ? 'ok' : r.error.code)).every((c) => ['EKM_AUDIT_UNAVAILABLE', 'EKM_UNAVAILABLE', 'EKM_TIMEOUT'].includes(c))).toBe(true);
    expect(down.some((r) => !r.ok && ['EKM_AUDIT_UNAVAILABLE', 'EKM_UNAVAILABLE'].includes(r.error.code))).toBe(true);

    pg = await startPostgres({ port: pg.port, dir: pg.dir });
    let last = '';
    await waitFor('the keys service to answer again', async () => {
      const r = await gdk(keyId);
      if (r.reply.ok) acked.push(r.requestId);
      else last = `${r.reply.error.code}: ${r.reply.error.message}`;
      return r.reply.ok;
    }, 30_000).catch((err: Error) => { throw new Error(`${err.message}; last reply ${last}`); });
    for (let i = 0; i < 5; i++) {
      const r = await gdk(keyId);
      expect(r.reply.ok).toBe(true);
      acked.push(r.requestId);
    }
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await waitFor('every acknowledged op in the trail', async () => {
        const { rows } = await c.query<{ id: string }>(`SELECT entry::jsonb -> 'request' ->> 'id' AS id FROM ekm_audit.trail WHERE action = 'GenerateDataKey' AND outcome = 'success'`);
        const ids = new Set(rows.map((r) => r.id));
        return acked.every((id) => ids.has(id));
      }, 40_000);
    } finally {
      await c.end();
    }
  });
});
