/**
 * Publishes the trail to the SIEM stream EKM_AUDIT in leaf order: the trail table is the outbox.
 * One active relay among replicas (session advisory lock on a dedicated connection: released when
 * the holder dies). Each entry goes to `ekm.audit.v1.<category>` with `Nats-Msg-Id` = leaf index: one
 * message per entry, so every entry stays individually verifiable by the SIEM.
 *
 * Pipelined: up to `pipeline` batches are in flight at once (the next batch is sent while the acks of
 * the previous one are awaited); batches settle in leaf order and the position row moves after each
 * batch whose every ack arrived (compare-and-set on the position this relay holds in memory while it
 * holds the lease), so the position never passes an entry JetStream has not stored. A crash or a
 * failed publish re-publishes at most `pipeline` batches, which JetStream drops as duplicates inside
 * its window. The rows come from the appender's commits in this process when they are contiguous with
 * the position (no read back), else from the table. Checkpoints follow on `ekm.audit.v1.checkpoint`
 * (`Nats-Msg-Id` = `checkpoint-<treeSize>`) once the entries they cover are out.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { Client, type Pool } from 'pg';
import { DEFAULT_DUPLICATE_WINDOW_MS, type RelayLogger, type StreamSpec } from '@ekm/event-store';
import type { CommittedRow } from '../postgres/trail-appender';

export const AUDIT_STREAM = 'EKM_AUDIT';
export const AUDIT_SUBJECT_PREFIX = 'ekm.audit.v1';
export const CHECKPOINT_SUBJECT = `${AUDIT_SUBJECT_PREFIX}.checkpoint`;

export function auditStreamSpec(o: { maxAgeMs: number; maxBytes: number; replicas?: number }): StreamSpec {
  return {
    name: AUDIT_STREAM, subjects: [`${AUDIT_SUBJECT_PREFIX}.>`], retention: RetentionPolicy.Limits, storage: StorageType.File,
    maxAgeMs: o.maxAgeMs, maxBytes: o.maxBytes, duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS, replicas: o.replicas ?? 1, discard: DiscardPolicy.Old,
  };
}

/** The SIEM message body: the canonical entry with `integrity.hash` (hex h_i) added as its first member. */
export const siemBody = (entryText: string, hash: Buffer): string => `{"integrity":{"hash":"${hash.toString('hex')}"},${entryText.slice(1)}`;

export interface SiemRelayOptions {
  readonly pool: Pool;
  readonly databaseUrl: string;
  readonly js: JetStreamClient;
  readonly logger: RelayLogger;
  readonly schema?: string;
  readonly batch?: number;
  /** Batches in flight at once (default 4). */
  readonly pipeline?: number;
  /** Committed rows kept for publishing without a read back (default 20,000); past it, rows are read. */
  readonly maxHandedOver?: number;
  readonly pollMs?: number;
  readonly publicKey: Buffer;
}

const LOCK = 'ekm:audit:siem-relay';

interface InFlight {
  readonly from: number;
  readonly last: number;
  readonly acks: Promise<unknown>;
}

export class SiemRelay {
  private stopped = true;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private lease: Client | null = null;
  /** The stored position while this relay holds the lease (null: read it). */
  private pos: { entries: number; checkpoints: number } | null = null;
  /** Rows the appender committed in this process, ascending and contiguous. */
  private handed: CommittedRow[] = [];
  published = 0;
  /** Entries published from the appender's hand-over, and read back from the table (metrics, tests). */
  fromHandover = 0;
  fromTable = 0;

  constructor(private readonly o: SiemRelayOptions) {}

  /** Rows just committed (in leaf order): published from memory when they follow the position. */
  offer(rows: readonly CommittedRow[]): void {
    if (rows.length > 0) {
      const tail = this.handed[this.handed.length - 1];
      // Not contiguous (another replica appended between): start over; the gap is read from the table.
      if (tail !== undefined && rows[0].leafIndex !== tail.leafIndex + 1) this.handed = [];
      this.handed.push(...rows);
      const max = this.o.maxHandedOver ?? 20_000;
      if (this.handed.length > max) this.handed = this.handed.slice(this.handed.length - max);
    }
    this.notify();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Something was appended: publish now rather than at the next poll. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.lease?.end().catch(() => undefined);
    this.lease = null;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => { this.wake = null; r(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; r(); };
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!(await this.holdLease())) {
          await this.sleep(1_000);
          continue;
        }
        const moved = await this.publishBatch();
        const cps = await this.publishCheckpoints();
        if (moved === 0 && cps === 0) await this.sleep(this.o.pollMs ?? 250);
      } catch (err) {
        this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'SIEM relay attempt failed; retrying');
        await this.lease?.end().catch(() => undefined);
        this.lease = null;
        this.pos = null;
        await this.sleep(500);
      }
    }
  }

  private async holdLease(): Promise<boolean> {
    if (this.lease) return true;
    const c = new Client({ connectionString: this.o.databaseUrl });
    c.on('error', () => undefined);
    await c.connect();
    const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [LOCK]);
    if (!rows[0].ok) {
      await c.end();
      return false;
    }
    this.lease = c;
    this.pos = null;
    return true;
  }

  private get s(): string {
    return this.o.schema ?? 'ekm_audit';
  }

  private async position(): Promise<{ entries: number; checkpoints: number }> {
    if (this.pos) return this.pos;
    const { rows } = await this.lease!.query<{ p: string; c: string }>(`SELECT published_through AS p, checkpoints_through AS c FROM ${this.s}.siem_relay WHERE id = 1`);
    this.pos = { entries: Number(rows[0].p), checkpoints: Number(rows[0].c) };
    return this.pos;
  }

  /** Up to `batch` rows after `after`: from the hand-over when it holds `after + 1`, else from the table. */
  private async rowsAfter(after: number): Promise<CommittedRow[]> {
    const limit = this.o.batch ?? 1_000;
    let drop = 0;
    while (drop < this.handed.length && this.handed[drop].leafIndex <= after) drop++;
    if (drop > 0) this.handed = this.handed.slice(drop);
    if (this.handed.length > 0 && this.handed[0].leafIndex === after + 1) {
      const rows = this.handed.slice(0, limit);
      this.fromHandover += rows.length;
      return rows;
    }
    const first = this.handed[0]?.leafIndex;
    // Read only up to where the hand-over takes over.
    const upTo = first !== undefined ? Math.min(limit, first - after - 1) : limit;
    const { rows } = await this.lease!.query<{ leaf_index: string; entry: string; hash: Buffer; category: string }>(
      `SELECT leaf_index, entry, hash, category FROM ${this.s}.trail WHERE leaf_index > $1 ORDER BY leaf_index LIMIT $2`, [after, upTo]);
    this.fromTable += rows.length;
    return rows.map((r) => ({ leafIndex: Number(r.leaf_index), entry: r.entry, hash: r.hash, category: r.category }));
  }

  private publishRows(rows: readonly CommittedRow[]): Promise<unknown> {
    const pending: Promise<PubAck>[] = [];
    for (const r of rows) {
      const h = headers();
      h.set('Ekm-Leaf-Index', String(r.leafIndex));
      pending.push(this.o.js.publish(`${AUDIT_SUBJECT_PREFIX}.${r.category}`, siemBody(r.entry, r.hash), { msgID: String(r.leafIndex), headers: h, timeout: 5_000 }));
    }
    const all = Promise.all(pending);
    // Settled in order by publishBatch; a rejection seen only after an earlier failure must not go unhandled.
    all.catch(() => undefined);
    return all;
  }

  /** Moves the stored position to `last` once every ack of the batch (from..last) arrived. */
  private async settle(f: InFlight): Promise<void> {
    await f.acks;
    const pos = await this.position();
    const r = await this.lease!.query(`UPDATE ${this.s}.siem_relay SET published_through = $1 WHERE id = 1 AND published_through = $2`, [f.last, pos.entries]);
    if (r.rowCount !== 1) throw new Error(`the SIEM relay position moved under this relay (expected ${pos.entries}); re-reading it`);
    this.pos = { ...pos, entries: f.last };
    this.published += f.last - f.from + 1;
  }

  private async publishBatch(): Promise<number> {
    const start = (await this.position()).entries;
    const inflight: InFlight[] = [];
    let next = start;
    try {
      for (;;) {
        const rows = await this.rowsAfter(next);
        if (rows.length === 0) break;
        const last = rows[rows.length - 1].leafIndex;
        inflight.push({ from: next + 1, last, acks: this.publishRows(rows) });
        next = last;
        if (inflight.length >= (this.o.pipeline ?? 4)) await this.settle(inflight.shift()!);
      }
      while (inflight.length > 0) await this.settle(inflight.shift()!);
    } catch (err) {
      // Re-read the position: whatever was not settled is published again (JetStream drops the duplicates).
      this.pos = null;
      throw err;
    }
    return next - start;
  }

  private async publishCheckpoints(): Promise<number> {
    const pos = await this.position();
    const { rows } = await this.lease!.query<{ tree_size: string; root: Buffer; signed_at: Date; key_id: string; payload: string; signature: Buffer }>(
      `SELECT tree_size, root, signed_at, key_id, payload, signature FROM ${this.s}.checkpoints WHERE tree_size > $1 AND tree_size <= $2 ORDER BY tree_size`, [pos.checkpoints, pos.entries]);
    if (rows.length === 0) return 0;
    for (const r of rows) {
      const body = JSON.stringify({
        treeSize: Number(r.tree_size), root: r.root.toString('hex'), signedAt: r.signed_at.toISOString(), keyId: r.key_id,
        payload: r.payload, signature: r.signature.toString('base64'), publicKey: this.o.publicKey.toString('base64'), algorithm: 'Ed25519',
      });
      await this.o.js.publish(CHECKPOINT_SUBJECT, body, { msgID: `checkpoint-${r.tree_size}`, timeout: 5_000 });
    }
    const through = Number(rows[rows.length - 1].tree_size);
    const r = await this.lease!.query(`UPDATE ${this.s}.siem_relay SET checkpoints_through = $1 WHERE id = 1 AND checkpoints_through = $2`, [through, pos.checkpoints]);
    if (r.rowCount !== 1) {
      this.pos = null;
      throw new Error('the SIEM relay checkpoint position moved under this relay; re-reading it');
    }
    this.pos = { ...pos, checkpoints: through };
    return rows.length;
  }
}
