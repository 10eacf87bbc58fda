/**
 * Publishes the trail to the SIEM stream EKM_AUDIT in leaf order: the trail table is the outbox.
 * One active relay among replicas (session advisory lock on a dedicated connection: released when
 * the holder dies). Each entry goes to `ekm.audit.v1.<category>` with `Nats-Msg-Id` = leaf index,
 * all acks awaited before the position row moves (compare-and-set), so a crash re-publishes at most
 * one batch, which JetStream drops as duplicates inside its window. Checkpoints follow on
 * `ekm.audit.v1.checkpoint` (`Nats-Msg-Id` = `checkpoint-<treeSize>`) once the entries they cover are out.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { Client, type Pool } from 'pg';
import { DEFAULT_DUPLICATE_WINDOW_MS, type RelayLogger, type StreamSpec } from '@ekm/event-store';

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
  readonly pollMs?: number;
  readonly publicKey: Buffer;
}

const LOCK = 'ekm:audit:siem-relay';

export class SiemRelay {
  private stopped = true;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private lease: Client | null = null;
  published = 0;

  constructor(private readonly o: SiemRelayOptions) {}

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
    return true;
  }

  private get s(): string {
    return this.o.schema ?? 'ekm_audit';
  }

  private async position(): Promise<{ entries: number; checkpoints: number }> {
    const { rows } = await this.lease!.query<{ p: string; c: string }>(`SELECT published_through AS p, checkpoints_through AS c FROM ${this.s}.siem_relay WHERE id = 1`);
    return { entries: Number(rows[0].p), checkpoints: Number(rows[0].c) };
  }

  private async publishBatch(): Promise<number> {
    const pos = await this.position();
    const { rows } = await this.lease!.query<{ leaf_index: string; entry: string; hash: Buffer; category: string }>(
      `SELECT leaf_index, entry, hash, category FROM ${this.s}.trail WHERE leaf_index > $1 ORDER BY leaf_index LIMIT $2`, [pos.entries, this.o.batch ?? 500]);
    if (rows.length === 0) return 0;
    const pending: Promise<PubAck>[] = [];
    for (const r of rows) {
      const h = headers();
      h.set('Ekm-Leaf-Index', r.leaf_index);
      pending.push(this.o.js.publish(`${AUDIT_SUBJECT_PREFIX}.${r.category}`, siemBody(r.entry, r.hash), { msgID: r.leaf_index, headers: h, timeout: 5_000 }));
    }
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    const last = Number(rows[rows.length - 1].leaf_index);
    await this.lease!.query(`UPDATE ${this.s}.siem_relay SET published_through = $1 WHERE id = 1 AND published_through = $2`, [last, pos.entries]);
    this.published += rows.length;
    return rows.length;
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
    await this.lease!.query(`UPDATE ${this.s}.siem_relay SET checkpoints_through = $1 WHERE id = 1 AND checkpoints_through = $2`, [Number(rows[rows.length - 1].tree_size), pos.checkpoints]);
    return rows.length;
  }
}
