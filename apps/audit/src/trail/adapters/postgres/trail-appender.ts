/**
 * The single writer of the trail. Appends are serialized across every replica by a transaction-scoped
 * advisory lock (`ekm:audit:trail`): the chain needs h_{i-1} before h_i, so exactly one transaction
 * may extend it at a time; the lock is released by commit/rollback, so a crashed replica never holds
 * it (a lease would need expiry and fencing for the same guarantee). Concurrent callers in one process
 * are group-committed (one transaction per batch), so the lock is taken once per batch, not per event.
 *
 * Per batch: dedupe by source event id; per source stream, fill any gap in stream positions from the
 * source's own events table before appending past it (a stream that cannot be repaired is refused with
 * a retriable GapNotRepairedError and the rest of the batch proceeds); number, hash (the chain is built
 * in memory) and insert with one statement; sign a checkpoint when `checkpointEvery` entries have
 * accumulated since the last one, if the ChainGuard trusts the head the batch chained on.
 *
 * No member can fail the batch: an entry the trail cannot store as is becomes a quarantined entry
 * before the insert (application/quarantine.ts), and if Postgres still refuses the statement with a
 * data or integrity error, the batch is inserted again row by row, each refused row replaced by its
 * quarantined stand-in (or, for a unique violation, reported as a duplicate).
 */
import type { Pool, PoolClient } from 'pg';
import { expandSource, type SourceEvent } from '../../domain/audit-entry';
import { checkpointPayload, GENESIS_HASH } from '../../application/hash-chain';
import type { AuditSigner } from '../signing/audit-signer';
import { ChainGuard, type CheckpointAnchor } from './chain-guard';
import { readStreamRange } from './source-events';
import { insertChained } from './trail-insert';

export class GapNotRepairedError extends Error {
  override readonly name = 'GapNotRepairedError';
  readonly retriable = true;
  constructor(service: string, streamId: string, from: number, to: number, cause: string) {
    super(`source ${service} stream ${streamId} positions ${from}..${to} are missing from the trail and could not be read from ekm_${service}.events (${cause}); not appending past the gap`);
  }
}

export type AppendOutcome = 'appended' | 'duplicate';

export interface AppendStats {
  readonly appended: number;
  readonly gapFilled: number;
  readonly quarantined: number;
  readonly head: number;
}

/** A committed trail row as the SIEM relay publishes it (handed over so it need not read it back). */
export interface CommittedRow {
  readonly leafIndex: number;
  readonly entry: string;
  readonly hash: Buffer;
  readonly category: string;
}

export interface TrailAppenderOptions {
  readonly pool: Pool;
  readonly signer: AuditSigner;
  readonly checkpointEvery: number;
  readonly schema?: string;
  /** Called after each commit that appended entries (wakes the SIEM relay). */
  readonly onAppended?: (stats: AppendStats, rows: readonly CommittedRow[]) => void;
  readonly maxBatch?: number;
  /**
   * Low-load batching (EKM_AUDIT_APPEND_LINGER_MS): an append that arrives less than this many ms after
   * the previous transaction started waits for the rest of that window, so a trickle of events (one
   * request at a time) is appended a few per transaction instead of one each. An append after a quiet
   * spell, and any backlog, is flushed at once; a full batch never waits. Nothing waits on the trail
   * for its reply (the source's own event log is the durable record), so only the trail's lag grows,
   * by at most this. 0 = every append starts a transaction at once.
   */
  readonly lingerMs?: number;
  /** The newest published checkpoint (the signer's anchor at start; see ChainGuard). */
  readonly anchor?: CheckpointAnchor;
  /** Source services whose events unchained entries are rebuilt from before they are signed. */
  readonly sources?: readonly string[];
  readonly clock?: () => Date;
}

interface Pending {
  /** The event's trail records: itself, or one per record of a usage batch. */
  readonly items: readonly SourceEvent[];
  readonly resolve: (o: AppendOutcome) => void;
  readonly reject: (e: Error) => void;
  readonly queuedAt: number;
}

const LOCK_KEY = 'ekm:audit:trail';
const keyOf = (service: string, streamId: string): string => `${service}\u0000${streamId}`;
const recordKey = (service: string, streamId: string, pos: number, item: number): string => `${service}\u0000${streamId}\u0000${pos}\u0000${item}`;

/** The newest trail entry of a source stream: its position and the event id that holds it. */
interface StreamHead {
  readonly pos: number;
  readonly eventId: string | null;
}
const NO_HEAD: StreamHead = { pos: 0, eventId: null };
/** Stream heads kept in memory (one per key for lifecycle streams): past this, the map starts over. */
const MAX_KNOWN_STREAMS = 100_000;

interface BatchResult {
  readonly outcomes: (AppendOutcome | Error)[];
  readonly stats: AppendStats;
  readonly chained: { index: number; hash: Buffer } | null;
  readonly committed: () => void;
  readonly rows: readonly CommittedRow[];
}

export class TrailAppender {
  private queue: Pending[] = [];
  /** The trail head as this process left it after its last commit (null: unknown, reload). */
  private known: { index: number; hash: Buffer } | null = null;
  /** Last trail position per source stream, valid while the stored head is `known`. */
  private readonly streams = new Map<string, StreamHead>();
  private flushing = false;
  private readonly s: string;
  readonly guard: ChainGuard;
  gapFilledTotal = 0;
  /** Entries appended as quarantined stand-ins by this process (the metric). */
  quarantinedTotal = 0;

  constructor(private readonly o: TrailAppenderOptions) {
    this.s = o.schema ?? 'ekm_audit';
    this.guard = new ChainGuard({ schema: this.s, verifier: o.signer, ...(o.anchor ? { anchor: o.anchor } : {}), ...(o.sources ? { sources: o.sources } : {}) });
  }

  /** Oldest append still waiting in this process, as a timestamp (readiness: a consumer not advancing). */
  get oldestQueuedAt(): number | null {
    return this.queue[0]?.queuedAt ?? (this.flushingSince ?? null);
  }

  /** Resolves once `event` is committed in the trail (or was already there). */
  append(event: SourceEvent): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      const items = expandSource(event);
      this.queue.push({ items, resolve, reject, queuedAt: Date.now() });
      this.queuedRecords += items.length;
      if (this.flushing) return;
      const wait = this.lingerLeft();
      if (wait <= 0) this.startFlush();
      else this.lingerTimer ??= setTimeout(() => this.startFlush(), wait);
    });
  }

  /** Transactions started by this appender (each appends one batch): what the linger saves, for tests. */
  batchesStarted = 0;
  private queuedRecords = 0;
  private lastBatchAt = Number.NEGATIVE_INFINITY;
  private lingerTimer: NodeJS.Timeout | null = null;

  /** ms this append still waits for company: 0 after a quiet spell, or once a batch is full. */
  private lingerLeft(): number {
    const linger = this.o.lingerMs ?? 0;
    if (linger <= 0 || this.queuedRecords >= (this.o.maxBatch ?? 1000)) return 0;
    return this.lastBatchAt + linger - performance.now();
  }

  private startFlush(): void {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flushLoop());
  }

  appendMany(events: readonly SourceEvent[]): Promise<AppendOutcome[]> {
    return Promise.all(events.map((e) => this.append(e)));
  }

  /**
   * Signs a checkpoint at the head if entries were appended since the last one (the T-seconds rule),
   * only when the ChainGuard trusts that head (chained or verified by this service).
   */
  async checkpointIfBehind(): Promise<number | null> {
    return this.inLockedTx(async (c) => {
      const head = await this.head(c);
      if (!(await this.guard.check(c, head))) return null;
      const last = await this.lastCheckpoint(c);
      if (head.index <= last) return null;
      await this.signCheckpoint(c, head.index, head.hash);
      return head.index;
    });
  }

  /** Lets the guard look at the current head now (verify calls it so its answer covers the unsigned tail). */
  async checkHead(): Promise<{ trusted: boolean; head: number }> {
    return this.inLockedTx(async (c) => {
      const head = await this.head(c);
      return { trusted: await this.guard.check(c, head), head: head.index };
    });
  }

  private flushingSince: number | null = null;

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      // Whole events only: the records of one batch event are appended in one transaction.
      const max = this.o.maxBatch ?? 1000;
      let take = 0;
      let records = 0;
      while (take < this.queue.length && (take === 0 || records + this.queue[take].items.length <= max)) records += this.queue[take++].items.length;
      const batch = this.queue.splice(0, take);
      this.queuedRecords -= records;
      this.batchesStarted++;
      this.lastBatchAt = performance.now();
      this.flushingSince = batch[0].queuedAt;
      try {
        const items = batch.flatMap((p) => p.items);
        const { outcomes, stats, chained, committed, rows } = await this.inLockedTx((c) => this.appendBatch(c, items));
        // Only after the commit: a rolled-back batch must not move the trusted head, nor what this process knows of the trail.
        committed();
        if (chained) this.guard.advance(chained.index, chained.hash);
        this.quarantinedTotal += stats.quarantined;
        let n = 0;
        for (const p of batch) {
          const own = outcomes.slice(n, n + p.items.length);
          n += p.items.length;
          const failed = own.find((o): o is Error => o instanceof Error);
          if (failed) p.reject(failed);
          else p.resolve(own.includes('appended') ? 'appended' : 'duplicate');
        }
        if (stats.appended > 0) this.o.onAppended?.(stats, rows);
      } catch (err) {
        // Rolled back: nothing of what this batch learned about the trail holds.
        this.known = null;
        this.streams.clear();
        const e = err instanceof Error ? err : new Error(String(err));
        for (const p of batch) p.reject(e);
      }
    }
    this.flushingSince = null;
    this.flushing = false;
  }

  private async inLockedTx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.o.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [LOCK_KEY]);
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  private async head(c: PoolClient): Promise<{ index: number; hash: Buffer }> {
    const { rows } = await c.query<{ leaf_index: string; hash: Buffer }>(`SELECT leaf_index, hash FROM ${this.s}.trail ORDER BY leaf_index DESC LIMIT 1`);
    return rows.length === 0 ? { index: 0, hash: GENESIS_HASH } : { index: Number(rows[0].leaf_index), hash: rows[0].hash };
  }

  private async lastCheckpoint(c: PoolClient): Promise<number> {
    const { rows } = await c.query<{ n: string | null }>(`SELECT max(tree_size) AS n FROM ${this.s}.checkpoints`);
    return Number(rows[0].n ?? 0);
  }

  private async appendBatch(c: PoolClient, items: readonly SourceEvent[]): Promise<BatchResult> {
    const outcomes: (AppendOutcome | Error)[] = new Array(items.length);
    // 1. The trail head, one index probe. If it is not the head this process left, another writer
    //    appended meanwhile: what it knows of the source streams may be stale, so it reloads them.
    const head = await this.head(c);
    if (this.known === null || this.known.index !== head.index || !this.known.hash.equals(head.hash)) this.streams.clear();
    // 2. Last trail position of each source stream in the batch: from memory, or one probe per stream
    //    not seen yet (the position index, newest first; never a scan of the stream's entries).
    const last = new Map<string, StreamHead>();
    const unknown: { s: string; id: string }[] = [];
    for (const e of items) {
      const k = keyOf(e.service, e.streamId);
      if (last.has(k)) continue;
      const h = this.streams.get(k);
      if (h) last.set(k, h);
      else {
        last.set(k, NO_HEAD);
        unknown.push({ s: e.service, id: e.streamId });
      }
    }
    if (unknown.length > 0) {
      const { rows } = await c.query<{ s: string; id: string; p: number | null; e: string | null }>(
        `SELECT u.s, u.id, t.p, t.e FROM unnest($1::text[], $2::text[]) AS u(s, id)
           LEFT JOIN LATERAL (SELECT source_stream_position AS p, source_event_id AS e FROM ${this.s}.trail t
                               WHERE t.source_service = u.s AND t.source_stream_id = u.id AND t.source_stream_position IS NOT NULL
                               ORDER BY t.source_stream_position DESC, t.source_item DESC LIMIT 1) t ON true`,
        [unknown.map((u) => u.s), unknown.map((u) => u.id)],
      );
      for (const r of rows) last.set(keyOf(r.s, r.id), r.p === null ? NO_HEAD : { pos: r.p, eventId: r.e });
    }
    // 3. Records of the event already at a stream's head may be in the trail (a redelivery, or a batch
    //    only partly appended): those, and only those, are looked up record by record.
    const present = new Set<string>();
    const atHead = items.filter((e) => {
      const h = last.get(keyOf(e.service, e.streamId))!;
      return e.streamPosition === h.pos && e.eventId === h.eventId;
    });
    if (atHead.length > 0) {
      const { rows } = await c.query<{ s: string; id: string; p: number; i: number }>(
        `SELECT t.source_service AS s, t.source_stream_id AS id, t.source_stream_position AS p, t.source_item AS i FROM ${this.s}.trail t
           JOIN unnest($1::text[], $2::text[], $3::int[], $4::int[]) AS u(s, id, p, i)
             ON t.source_service = u.s AND t.source_stream_id = u.id AND t.source_stream_position = u.p AND t.source_item = u.i`,
        [atHead.map((e) => e.service), atHead.map((e) => e.streamId), atHead.map((e) => e.streamPosition), atHead.map((e) => e.item ?? 0)],
      );
      for (const r of rows) present.add(recordKey(r.s, r.id, r.p, r.i));
    }
    // 4. Order by (position, item) within each stream; fill gaps from the source; refuse unrepairable streams.
    const groups = new Map<string, number[]>();
    items.forEach((e, i) => {
      const k = keyOf(e.service, e.streamId);
      const g = groups.get(k);
      if (g) g.push(i);
      else groups.set(k, [i]);
    });
    const ordered = [...groups.values()].flatMap((g) => g.sort((a, b) => items[a].streamPosition - items[b].streamPosition || (items[a].item ?? 0) - (items[b].item ?? 0)));
    const toAppend: { e: SourceEvent; i?: number }[] = [];
    const blocked = new Map<string, Error>();
    let gapFilled = 0;
    for (const i of ordered) {
      const e = items[i];
      const k = keyOf(e.service, e.streamId);
      const blockedBy = blocked.get(k);
      if (blockedBy) {
        outcomes[i] = blockedBy;
        continue;
      }
      const h = last.get(k)!;
      const rk = recordKey(e.service, e.streamId, e.streamPosition, e.item ?? 0);
      // Another event already holds this position (a duplicate under a different id is not appended),
      // or this very record is already there.
      if (e.streamPosition < h.pos || (e.streamPosition === h.pos && (e.eventId !== h.eventId || present.has(rk)))) {
        outcomes[i] = 'duplicate';
        continue;
      }
      if (e.streamPosition > h.pos + 1) {
        let missing: SourceEvent[];
        try {
          missing = (await this.readGap(c, e.service, e.streamId, h.pos + 1, e.streamPosition - 1)).flatMap(expandSource);
        } catch (err) {
          const gap = new GapNotRepairedError(e.service, e.streamId, h.pos + 1, e.streamPosition - 1, err instanceof Error ? err.message : String(err));
          blocked.set(k, gap);
          outcomes[i] = gap;
          continue;
        }
        for (const m of missing) toAppend.push({ e: m });
        gapFilled += missing.length;
      }
      toAppend.push({ e, i });
      present.add(rk);
      last.set(k, { pos: e.streamPosition, eventId: e.eventId });
      outcomes[i] = 'appended';
    }
    // 5. Number, hash (in memory, on the head the guard vouches for or not), insert with one statement.
    const trusted = await this.guard.check(c, head);
    const rows = toAppend.length > 0 ? await insertChained(c, this.s, head, toAppend, outcomes, this.o.clock?.() ?? new Date()) : { idx: [], hashes: [], texts: [], categories: [], quarantined: 0, rowByRow: false };
    const { idx, hashes } = rows;
    if (idx.length > 0) {
      // One checkpoint per `checkpointEvery` entries, also when a big batch spans several.
      if (trusted) {
        let lastCp = await this.lastCheckpoint(c);
        for (let n = 0; n < idx.length; n++) {
          if (idx[n] - lastCp < this.o.checkpointEvery) continue;
          await this.signCheckpoint(c, idx[n], hashes[n]);
          lastCp = idx[n];
        }
      }
      await c.query(`SELECT pg_notify('ekm_audit_trail', $1)`, [String(idx[idx.length - 1])]);
    }
    const newHead = idx.length > 0 ? { index: idx[idx.length - 1], hash: hashes[hashes.length - 1] } : head;
    return {
      outcomes,
      stats: { appended: idx.length, gapFilled, quarantined: rows.quarantined, head: newHead.index },
      chained: trusted ? newHead : null,
      rows: idx.map((leafIndex, n) => ({ leafIndex, entry: rows.texts[n], hash: hashes[n], category: rows.categories[n] })),
      // Applied only after the commit. Row by row, some rows may have been refused as duplicates, so
      // what this batch meant to append is not what the trail holds: reload from the trail instead.
      committed: () => {
        this.gapFilledTotal += gapFilled;
        if (rows.rowByRow) {
          this.known = null;
          this.streams.clear();
          return;
        }
        if (this.streams.size + last.size > MAX_KNOWN_STREAMS) this.streams.clear();
        for (const [k, h] of last) if (h !== NO_HEAD) this.streams.set(k, h);
        this.known = newHead;
      },
    };
  }

  private async readGap(c: PoolClient, service: string, streamId: string, from: number, to: number): Promise<SourceEvent[]> {
    // A savepoint keeps a permission error from aborting the whole batch transaction.
    await c.query('SAVEPOINT gap');
    try {
      const rows = await readStreamRange(c, service, streamId, from, to);
      await c.query('RELEASE SAVEPOINT gap');
      if (rows.length !== to - from + 1) throw new Error(`found ${rows.length} of ${to - from + 1} events`);
      return rows;
    } catch (err) {
      await c.query('ROLLBACK TO SAVEPOINT gap');
      throw err;
    }
  }

  private async signCheckpoint(c: PoolClient, treeSize: number, root: Buffer): Promise<void> {
    const signedAt = new Date().toISOString();
    const payload = checkpointPayload({ treeSize, root: root.toString('hex'), signedAt, keyId: this.o.signer.keyId });
    await c.query(`INSERT INTO ${this.s}.checkpoints (tree_size, root, signed_at, key_id, payload, signature) VALUES ($1, $2, $3, $4, $5, $6)`, [
      treeSize, root, signedAt, this.o.signer.keyId, payload, this.o.signer.sign(payload),
    ]);
  }
}
