/**
 * What the signer may sign. A checkpoint vouches for the trail outside Postgres, so the service signs
 * only a head it chained itself or verified itself, incrementally from its own last trusted state:
 * - at start, the anchor is the newest checkpoint it signed (published on EKM_AUDIT, or a stored row
 *   with a valid signature), never the stored head; the stored chain must reach it with the same root;
 * - after that, its own appends advance the trusted head in memory;
 * - entries it did not append (another replica's, or a superuser's) are re-chained and each is rebuilt
 *   from its source event (which must exist in the source's event log and give the same entry).
 * Anything else (an edit, a cut, a restore of an older dump, a forged entry after the head) stops
 * signing for good in this process: the trail keeps appending, verify reports the damage, and
 * `untrustedReason` says why (status, health, logs). A restart re-anchors on the published checkpoints,
 * so re-signing a forged chain needs more than a restart.
 */
import type { PoolClient } from 'pg';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import type { AuditVerifier } from '../signing/audit-signer';
import { chainHash, GENESIS_HASH, parseCheckpointPayload } from '../../application/hash-chain';
import { buildEntry } from '../../application/quarantine';
import { rowToSource } from './source-events';
import { expandSource } from '../../domain/audit-entry';

/** A checkpoint (payload + signature) as published; verified here with the service's own key. */
export interface SignedCheckpoint {
  readonly treeSize: number;
  readonly root: Buffer;
  readonly payload: string;
  readonly signature: Buffer;
}

/** Where the newest published checkpoint comes from (JetStream EKM_AUDIT in the service). */
export interface CheckpointAnchor {
  latest(): Promise<SignedCheckpoint | null>;
}

export interface ChainGuardOptions {
  readonly schema: string;
  readonly verifier: AuditVerifier;
  readonly anchor?: CheckpointAnchor;
  /** Source services whose events entries are rebuilt from; without it only the chain is re-hashed. */
  readonly sources?: readonly string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 2_000;

export class ChainGuard {
  private trusted: { index: number; hash: Buffer } | null = null;
  /** Why signing stopped, or null while the head is trusted. */
  untrustedReason: string | null = null;
  /** The first entry the guard could not vouch for (null when it is a whole-trail problem or none). */
  untrustedIndex: number | null = null;

  constructor(private readonly o: ChainGuardOptions) {}

  /** Is the stored head (read inside the trail lock) one the service may sign and chain on? */
  async check(c: PoolClient, head: { index: number; hash: Buffer }): Promise<boolean> {
    if (this.untrustedReason !== null) return false;
    if (this.trusted === null) {
      let anchored: boolean;
      try {
        anchored = await this.anchor(c, head.index);
      } catch {
        // The published copy is unreadable (NATS away): append unsigned now, anchor at the next batch.
        return false;
      }
      if (!anchored) return false;
    }
    const t = this.trusted!;
    if (head.index === t.index) {
      if (!head.hash.equals(t.hash)) return this.distrust(`the stored hash of entry ${head.index} differs from the chain this service computed`, head.index);
      return true;
    }
    if (head.index < t.index) return this.distrust(`the trail ends at entry ${head.index} but this service chained through ${t.index}: cut, or restored from an older dump`, head.index + 1);
    return this.catchUp(c, head.index);
  }

  /** After the service's own commit extended a trusted head. */
  advance(index: number, hash: Buffer): void {
    if (this.untrustedReason === null && this.trusted !== null && index >= this.trusted.index) this.trusted = { index, hash };
  }

  get trustedIndex(): number | null {
    return this.trusted?.index ?? null;
  }

  private distrust(reason: string, index: number | null = null): false {
    this.untrustedReason = reason;
    this.untrustedIndex = index;
    return false;
  }

  private async anchor(c: PoolClient, headIndex: number): Promise<boolean> {
    const candidates: SignedCheckpoint[] = [];
    // Read before any SQL of this transaction: a failure here must leave the transaction usable.
    const published = await this.o.anchor?.latest();
    if (published) candidates.push(published);
    const { rows } = await c.query<{ tree_size: string; root: Buffer; payload: string; signature: Buffer }>(
      `SELECT tree_size, root, payload, signature FROM ${this.o.schema}.checkpoints ORDER BY tree_size DESC LIMIT 1`);
    if (rows[0]) candidates.push({ treeSize: Number(rows[0].tree_size), root: rows[0].root, payload: rows[0].payload, signature: rows[0].signature });
    const valid = candidates.filter((cp) => {
      const p = parseCheckpointPayload(cp.payload);
      return p !== null && p.treeSize === cp.treeSize && p.root === cp.root.toString('hex') && this.o.verifier.verify(cp.payload, cp.signature);
    }).sort((a, b) => b.treeSize - a.treeSize);
    const best = valid[0];
    if (!best) {
      this.trusted = { index: 0, hash: GENESIS_HASH };
      return true;
    }
    if (headIndex < best.treeSize) return this.distrust(`the trail ends at entry ${headIndex} but a signed checkpoint covers ${best.treeSize}: cut, or restored from an older dump`, headIndex + 1);
    const at = await c.query<{ hash: Buffer }>(`SELECT hash FROM ${this.o.schema}.trail WHERE leaf_index = $1`, [best.treeSize]);
    if (!at.rows[0] || !at.rows[0].hash.equals(best.root)) return this.distrust(`the stored chain through entry ${best.treeSize} differs from its signed checkpoint`, best.treeSize);
    this.trusted = { index: best.treeSize, hash: best.root };
    return true;
  }

  private async catchUp(c: PoolClient, to: number): Promise<boolean> {
    let { index, hash } = this.trusted!;
    while (index < to) {
      const { rows } = await c.query<{ leaf_index: string; entry: string; hash: Buffer }>(
        `SELECT leaf_index, entry, hash FROM ${this.o.schema}.trail WHERE leaf_index > $1 AND leaf_index <= $2 ORDER BY leaf_index LIMIT $3`, [index, to, PAGE]);
      if (rows.length === 0) return this.distrust(`entry ${index + 1} is missing`, index + 1);
      for (const r of rows) {
        const leaf = Number(r.leaf_index);
        if (leaf !== index + 1) return this.distrust(`entry ${index + 1} is missing`, index + 1);
        const h = chainHash(hash, r.entry);
        if (!h.equals(r.hash)) return this.distrust(`entry ${leaf} does not match its chain hash`, leaf);
        index = leaf;
        hash = h;
      }
      if (this.o.sources) {
        const bad = await this.firstUnsourced(c, rows.map((r) => ({ leaf: Number(r.leaf_index), entry: r.entry })));
        if (bad !== null) return this.distrust(`entry ${bad} was not appended by this service and does not match a source event`, bad);
      }
    }
    this.trusted = { index, hash };
    return true;
  }

  /** The first entry that is not what the trail would append for its source event, or null. */
  private async firstUnsourced(c: PoolClient, rows: readonly { leaf: number; entry: string }[]): Promise<number | null> {
    const parsed = rows.map((r) => {
      try {
        const e = JSON.parse(r.entry) as { category?: unknown; source?: { service?: unknown; eventId?: unknown; item?: unknown } };
        // Strings only: an edited row can hold any JSON here (an object with its own toString would make
        // a template or String() throw instead of reporting the row).
        const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
        return { ...r, category: text(e.category), service: text(e.source?.service), eventId: text(e.source?.eventId), item: e.source?.item };
      } catch {
        return { ...r, category: undefined, service: undefined, eventId: undefined, item: undefined };
      }
    });
    const found = new Map<string, ReturnType<typeof rowToSource>>();
    for (const service of new Set(parsed.map((p) => p.service))) {
      if (service === undefined || !this.o.sources!.includes(service)) continue;
      const ids = parsed.filter((p) => p.service === service && typeof p.eventId === 'string' && UUID.test(p.eventId)).map((p) => p.eventId!);
      if (ids.length === 0) continue;
      await c.query('SAVEPOINT guard_sources');
      try {
        const { rows: src } = await c.query<Parameters<typeof rowToSource>[1]>(
          `SELECT event_id::text, event_type, stream_id, stream_position, global_position::text, transaction_id::text, recorded_at, data, metadata
             FROM ${quoteIdent(serviceSchema(service))}.events WHERE event_id = ANY($1::uuid[])`, [ids]);
        await c.query('RELEASE SAVEPOINT guard_sources');
        for (const r of src) found.set(`${service}\u0000${r.event_id}`, rowToSource(service, r));
      } catch {
        await c.query('ROLLBACK TO SAVEPOINT guard_sources');
      }
    }
    for (const p of parsed) {
      const src = p.service === undefined || p.eventId === undefined ? undefined : found.get(`${p.service}\u0000${p.eventId}`);
      if (!src) return p.leaf;
      // A quarantined entry's time may be the append time: the source event existing is the check.
      if (p.category === 'quarantine') continue;
      // A record of a batch event is rebuilt from that record alone.
      const record = p.item === undefined ? src : typeof p.item === 'number' ? expandSource(src).find((x) => x.item === p.item) : undefined;
      if (!record || buildEntry(record, p.leaf, new Date()).text !== p.entry) return p.leaf;
    }
    return null;
  }
}
