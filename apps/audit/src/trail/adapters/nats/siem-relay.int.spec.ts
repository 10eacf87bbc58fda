/**
 * The SIEM relay against a real NATS JetStream and Postgres: pipelined batches publish every trail
 * entry once (one message per entry, `Nats-Msg-Id` = leaf index, body verifiable on its own), from
 * the appender's hand-over when it follows the position and from the table otherwise; the position
 * row never passes an entry JetStream has not acknowledged, and a relay that restarts from an older
 * position re-publishes only what JetStream then drops as duplicates.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Pool } from 'pg';
import { SoftwareRootOfTrust } from '@ekm/crypto';
import { ensureStreams, migrateServiceSchema, type RelayLogger } from '@ekm/event-store';
import { createTestDatabase } from '../../../../../../test/support/pg';
import { startNats, stopServer, type ServerHandle } from '../../../../../../test/support/servers';
import { waitFor } from '../../../../../../test/support/wait-for';
import { chainHash, GENESIS_HASH } from '../../application/hash-chain';
import type { SourceEvent } from '../../domain/audit-entry';
import { AuditSigner } from '../signing/audit-signer';
import { AuditTrailMigration } from '../postgres/audit-schema.migration';
import { AuditTrailBatchMigration } from '../postgres/trail-batch.migration';
import { TrailAppender, type CommittedRow } from '../postgres/trail-appender';
import { AUDIT_STREAM, auditStreamSpec, SiemRelay } from './siem-relay';

const quiet: RelayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

let gp = 0;
const usageBatch = (stream: string, pos: number, n: number): SourceEvent => ({
  service: 'keys', eventId: randomUUID(), type: 'KeyUsageBatchRecorded', streamId: stream, streamPosition: pos, globalPosition: String(++gp),
  recordedAt: new Date(1_700_000_000_000 + pos).toISOString(), meta: { actor: 'svc' },
  data: { records: Array.from({ length: n }, (_, i) => ({ requestId: `r-${pos}-${i}`, principal: `p-${i % 3}`, operation: 'Decrypt', keyId: 'k1', keyVersion: 1, outcome: 'ALLOWED', at: 'x' })) },
});

describe('SIEM relay (NATS JetStream + Postgres)', () => {
  let nats: ServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let db: { url: string };
  let pool: Pool;
  let signer: AuditSigner;
  let dataDir: string;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_audit_siem')]);
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, [auditStreamSpec({ maxAgeMs: 0, maxBytes: 0 })]);
    await migrateServiceSchema({ adminUrl: db.url, service: 'audit', extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration] });
    pool = new Pool({ connectionString: db.url, max: 6 });
    dataDir = mkdtempSync(join(tmpdir(), 'ekm-audit-siem-'));
    const root = SoftwareRootOfTrust.open({ dataDir, env: 'development', secret: 'audit-siem-test-secret', scrypt: { N: 1 << 14, r: 8, p: 1 } });
    signer = await AuditSigner.load(pool, root);
    await root.close();
  });
  afterAll(async () => {
    await nc?.close();
    await pool?.end();
    if (nats) await stopServer(nats);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const relayOf = (batch: number): SiemRelay => new SiemRelay({ pool, databaseUrl: db.url, js: jetstream(nc), logger: quiet, publicKey: signer.publicKeyRaw, batch, pipeline: 3, pollMs: 50 });
  const position = async (): Promise<number> => Number((await pool.query<{ p: string }>('SELECT published_through AS p FROM ekm_audit.siem_relay WHERE id = 1')).rows[0].p);
  /** Every entry message on EKM_AUDIT: leaf index and body. */
  const entryMessages = async (): Promise<{ leaf: number; body: string }[]> => {
    const info = await jsm.streams.info(AUDIT_STREAM);
    const out: { leaf: number; body: string }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(AUDIT_STREAM, { seq }).catch(() => null);
      if (m && m.subject !== 'ekm.audit.v1.checkpoint') out.push({ leaf: Number(m.header?.get('Nats-Msg-Id')), body: m.string() });
    }
    return out;
  };

  it('publishes every entry once, in leaf order, from the hand-over and from the table, each body verifiable on its own', async () => {
    // Entries committed before the relay runs are read from the table; later ones come from the hand-over.
    let relay: SiemRelay | null = null;
    const early: CommittedRow[] = [];
    const appender = new TrailAppender({ pool, signer, checkpointEvery: 50, onAppended: (_s, rows) => (relay ? relay.offer(rows) : early.push(...rows)) });
    const stream = `usage-${randomUUID()}`;
    for (let p = 1; p <= 5; p++) await appender.append(usageBatch(stream, p, 20));
    relay = relayOf(16);
    relay.start();
    try {
      for (let p = 6; p <= 12; p++) await appender.append(usageBatch(stream, p, 20));
      await waitFor(async () => (await position()) === 240, { what: 'the relay to publish 240 entries' });
      expect(relay.fromTable).toBeGreaterThanOrEqual(100);
      expect(relay.fromHandover).toBeGreaterThan(0);
      expect(relay.fromTable + relay.fromHandover).toBe(240);
      const msgs = await entryMessages();
      expect(msgs.map((m) => m.leaf)).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
      // The SIEM's own check: h_i = SHA-256(h_{i-1} || canonical(body without integrity)) equals integrity.hash.
      let h = GENESIS_HASH;
      for (const m of msgs) {
        const { integrity, ...entry } = JSON.parse(m.body) as { integrity: { hash: string }; leafIndex: number };
        const text = `{${m.body.slice(m.body.indexOf('},') + 2)}`;
        h = chainHash(h, text);
        expect(integrity.hash).toBe(h.toString('hex'));
        expect(entry.leafIndex).toBe(m.leaf);
      }
      // Checkpoints follow the entries they cover.
      await waitFor(async () => (await pool.query<{ c: string }>('SELECT checkpoints_through AS c FROM ekm_audit.siem_relay')).rows[0].c === '200', { what: 'checkpoint 200 to be published' });
    } finally {
      await relay.stop();
    }
  });

  it('a relay restarted from an older position re-publishes only duplicates JetStream drops', async () => {
    const before = (await jsm.streams.info(AUDIT_STREAM)).state.messages;
    const head = await position();
    // As after a crash between the acks and the position update: the stored position lags behind.
    await pool.query('UPDATE ekm_audit.siem_relay SET published_through = $1 WHERE id = 1', [head - 37]);
    const relay = relayOf(10);
    relay.start();
    try {
      await waitFor(async () => (await position()) === head, { what: 'the relay to catch up again' });
      expect(relay.fromTable).toBe(37);
      expect((await jsm.streams.info(AUDIT_STREAM)).state.messages).toBe(before);
      const leaves = (await entryMessages()).map((m) => m.leaf);
      expect(new Set(leaves).size).toBe(leaves.length);
    } finally {
      await relay.stop();
    }
  });
});
