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
import type { SourceEvent } from '../../domain/audit-entry';
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

export interface TrailAppenderOptions {
  readonly pool: Pool;
  readonly signer: AuditSigner;
  readonly checkpointEvery: number;
  readonly schema?: string;
  /** Called after each commit that appended entries (wakes the SIEM relay). */
  readonly onAppended?: (stats: AppendStats) => void;
  readonly maxBatch?: number;
  /** The newest published checkpoint (the signer's anchor at start; see ChainGuard). */
  readonly anchor?: CheckpointAnchor;
  /** Source services whose events unchained entries are rebuilt from before they are signed. */
  readonly sources?: readonly string[];
  readonly clock?: () => Date;
}

interface Pending {
  readonly event: SourceEvent;
  readonly resolve: (o: AppendOutcome) => void;
  readonly reject: (e: Error) => void;
  readonly queuedAt: number;
}

const LOCK_KEY = 'ekm:audit:trail';
const keyOf = (service: string, streamId: string): string => `${service}\u0000${streamId}`;

export class TrailAppender {
  private queue: Pending[] = [];
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
      this.queue.push({ event, resolve, reject, queuedAt: Date.now() });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flushLoop());
      }
    });
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
      const batch = this.queue.splice(0, this.o.maxBatch ?? 1000);
      this.flushingSince = batch[0].queuedAt;
      try {
        const { outcomes, stats, chained } = await this.inLockedTx((c) => this.appendBatch(c, batch.map((p) => p.event)));
        // Only after the commit: a rolled-back batch must not move the trusted head.
        if (chained) this.guard.advance(chained.index, chained.hash);
        this.quarantinedTotal += stats.quarantined;
        batch.forEach((p, i) => {
          const out = outcomes[i];
          if (out instanceof Error) p.reject(out);
          else p.resolve(out);
        });
        if (stats.appended > 0) this.o.onAppended?.(stats);
      } catch (err) {
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

  private async appendBatch(c: PoolClient, events: readonly SourceEvent[]): Promise<{ outcomes: (AppendOutcome | Error)[]; stats: AppendStats; chained: { index: number; hash: Buffer } | null }> {
    const outcomes: (AppendOutcome | Error)[] = new Array(events.length);
    // 1. Dedupe against the trail and within the batch.
    const { rows: seen } = await c.query<{ s: string; e: string }>(
      `SELECT source_service AS s, source_event_id AS e FROM ${this.s}.trail t JOIN unnest($1::text[], $2::text[]) AS u(s, e) ON t.source_service = u.s AND t.source_event_id = u.e`,
      [events.map((e) => e.service), events.map((e) => e.eventId)],
    );
    const present = new Set(seen.map((r) => `${r.s}\u0000${r.e}`));
    const fresh: { i: number; e: SourceEvent }[] = [];
    events.forEach((e, i) => {
      const k = `${e.service}\u0000${e.eventId}`;
      if (present.has(k)) outcomes[i] = 'duplicate';
      else {
        present.add(k);
        fresh.push({ i, e });
      }
    });
    // 2. Last trail position per source stream.
    const streams = [...new Map(fresh.map(({ e }) => [keyOf(e.service, e.streamId), e])).values()];
    const lastPos = new Map<string, number>();
    if (streams.length > 0) {
      const { rows } = await c.query<{ s: string; id: string; p: number }>(
        `SELECT u.s, u.id, coalesce(max(t.source_stream_position), 0)::int AS p FROM unnest($1::text[], $2::text[]) AS u(s, id)
           LEFT JOIN ${this.s}.trail t ON t.source_service = u.s AND t.source_stream_id = u.id GROUP BY u.s, u.id`,
        [streams.map((e) => e.service), streams.map((e) => e.streamId)],
      );
      for (const r of rows) lastPos.set(keyOf(r.s, r.id), r.p);
    }
    // 3. Order: by stream position within each stream; fill gaps from the source; refuse unrepairable streams.
    const groups = new Map<string, { i: number; e: SourceEvent }[]>();
    for (const f of fresh) {
      const g = groups.get(keyOf(f.e.service, f.e.streamId));
      if (g) g.push(f);
      else groups.set(keyOf(f.e.service, f.e.streamId), [f]);
    }
    const ordered = [...groups.values()].flatMap((g) => g.sort((a, b) => a.e.streamPosition - b.e.streamPosition));
    const toAppend: { e: SourceEvent; i?: number }[] = [];
    const blocked = new Map<string, Error>();
    let gapFilled = 0;
    for (const { i, e } of ordered) {
      const k = keyOf(e.service, e.streamId);
      const blockedBy = blocked.get(k);
      if (blockedBy) {
        outcomes[i] = blockedBy;
        continue;
      }
      const last = lastPos.get(k) ?? 0;
      if (e.streamPosition <= last) {
        // Another event already holds this position: a duplicate under a different id is not appended.
        outcomes[i] = 'duplicate';
        continue;
      }
      if (e.streamPosition > last + 1) {
        let missing: SourceEvent[];
        try {
          missing = await this.readGap(c, e.service, e.streamId, last + 1, e.streamPosition - 1);
        } catch (err) {
          const gap = new GapNotRepairedError(e.service, e.streamId, last + 1, e.streamPosition - 1, err instanceof Error ? err.message : String(err));
          blocked.set(k, gap);
          outcomes[i] = gap;
          continue;
        }
        for (const m of missing) if (!present.has(`${m.service}\u0000${m.eventId}`)) toAppend.push({ e: m });
        gapFilled += missing.length;
      }
      toAppend.push({ e, i });
      lastPos.set(k, e.streamPosition);
      outcomes[i] = 'appended';
    }
    // 4. Number, hash (in memory, on the head the guard vouches for or not), insert.
    const head = await this.head(c);
    const trusted = await this.guard.check(c, head);
    const rows = toAppend.length > 0 ? await insertChained(c, this.s, head, toAppend, outcomes, this.o.clock?.() ?? new Date()) : { idx: [], hashes: [], quarantined: 0 };
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
    this.gapFilledTotal += gapFilled;
    const newHead = idx.length > 0 ? { index: idx[idx.length - 1], hash: hashes[hashes.length - 1] } : head;
    return {
      outcomes,
      stats: { appended: idx.length, gapFilled, quarantined: rows.quarantined, head: newHead.index },
      chained: trusted ? newHead : null,
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
