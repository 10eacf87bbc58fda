/**
 * Exactly-once under SIGKILL: the audit service runs as a child process (`node dist/apps/audit/src/main.js`)
 * while a source (schema ekm_keys + its OutboxRelay) appends a stream of events; the child is killed
 * mid-stream and restarted. Every source event must be in the trail once, the chain must verify, and
 * EKM_AUDIT must hold every leaf once after dedup by Nats-Msg-Id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client, Pool } from 'pg';
import { AuditVerifyReply, subject, type Reply } from '@ekm/contracts';
import { ExpectedVersion, migrateServiceSchema, OutboxRelay, OutboxRelayMigration, PostgresEventStore } from '@ekm/event-store';
import { createTestDatabase } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { auditEnv, auditMessages, sourceIds, trailIds, waitFor, waitForTrail } from './audit.support';
import { scaled } from '../support/wait-for';

jest.setTimeout(scaled(60_000)); // scaled with the load (test/support/wait-for.ts)

function spawnAudit(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(__dirname, '../../dist/apps/audit/src/main.js')], { env: { ...process.env, ...env, EKM_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`audit child not ready: ${out.slice(-2000)}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"event":"ready"')) {
        clearTimeout(t);
        resolve(child);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`audit child exited ${code}: ${out.slice(-2000)}`)));
  });
}

const killed = (c: ChildProcess): Promise<void> => new Promise((r) => {
  c.once('exit', () => r());
  c.kill('SIGKILL');
});

describe('audit service killed with SIGKILL mid-stream', () => {
  let nats: ServerHandle;
  let db: { name: string; url: string };
  let nc: NatsConnection;
  let admin: Client;
  let pool: Pool;
  let relay: OutboxRelay;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_audit_kill')]);
    await migrateServiceSchema({ adminUrl: db.url, service: 'keys', extraMigrations: [OutboxRelayMigration] });
    pool = new Pool({ connectionString: db.url, max: 4 });
    nc = await connect({ servers: nats.url });
    const store = new PostgresEventStore(pool, { service: 'keys' });
    relay = new OutboxRelay({ service: 'keys', pool, store, js: jetstream(nc) });
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) await killed(child);
    await relay?.stop();
    await nc?.close();
    await admin?.end();
    await pool?.end();
    await stopServer(nats);
  });

  it('every source event is in the trail once and on EKM_AUDIT once after dedup', async () => {
    const env = { ...auditEnv(nats.url, db, { EKM_AUDIT_CHECKPOINT_EVERY: '50', EKM_AUDIT_RECONCILE_INTERVAL_MS: '1000' }) };
    // The source stream does not exist yet: the audit service must wait for it, not crash.
    child = await spawnAudit(env);
    relay.start();
    const store = new PostgresEventStore(pool, { service: 'keys' });
    const stream = `usage-${randomUUID()}`;
    let appended = 0;
    const produce = async (batches: number): Promise<void> => {
      for (let b = 0; b < batches; b++) {
        await store.appendToStream(stream, Array.from({ length: 20 }, (_, i) => ({
          type: 'KeyUsageRecorded',
          data: { requestId: randomUUID(), principal: 'p', operation: 'Encrypt', keyId: 'k', keyVersion: 1, outcome: 'ALLOWED', at: new Date().toISOString(), n: appended + i },
          meta: { actor: 'p' },
        })), { expectedVersion: ExpectedVersion.any });
        appended += 20;
      }
    };
    await produce(20);
    await waitFor('some trail entries', async () => (await trailIds(admin)).length >= 100);
    const producing = produce(30);
    await killed(child);
    await producing;
    child = await spawnAudit(env);
    await produce(10);
    await waitForTrail(admin, 'keys', 40_000);
    const [src, trail] = await Promise.all([sourceIds(admin), trailIds(admin)]);
    expect(src).toHaveLength(appended);
    expect(trail).toHaveLength(appended);
    expect(new Set(trail)).toEqual(new Set(src));

    const n = trail.length;
    const msgs = await waitFor('EKM_AUDIT to catch up', async () => {
      const all = (await auditMessages(nc)).filter((m) => m.subject !== 'ekm.audit.v1.checkpoint');
      return new Set(all.map((m) => m.msgId)).size >= n ? all : undefined;
    }, 30_000);
    const ids = msgs.map((m) => Number(m.msgId));
    expect(new Set(ids).size).toBe(n);
    expect([...new Set(ids)].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const bySource = new Map<string, number>();
    for (const m of msgs) {
      const id = (JSON.parse(m.body) as { source: { eventId: string } }).source.eventId;
      bySource.set(id, (bySource.get(id) ?? 0) + 1);
    }
    expect([...bySource.keys()].sort()).toEqual([...src].sort());

    const r = (await nc.request(subject('audit', 'verify'), '{}', { timeout: 20_000 })).json<Reply<unknown>>();
    expect(r).toMatchObject({ ok: true, data: { ok: true, entries: n, firstBadIndex: null } });
    if (r.ok) AuditVerifyReply.parse(r.data); // the reply contract, strict
  }, 150_000); // three audit starts and a reconcile; ~35 s alone, past 60 s on a loaded machine
});
