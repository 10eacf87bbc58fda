/**
 * Outbox relay (ARCHITECTURE §3): the event table is the outbox. One active relay per schema reads
 * `readAll` from its checkpoint, publishes each event with `Nats-Msg-Id = event_id`, waits for every
 * ack of the batch, then compare-and-sets its checkpoint. A crash between publish and checkpoint
 * re-publishes the batch, which JetStream drops as duplicates inside the stream's duplicate window.
 *
 * Checkpoint commits are coalesced (at most one per `checkpointIntervalMs` or `checkpointMaxEvents`):
 * at low load a commit per request cost a Postgres commit and an fsync each. Publishing is not delayed
 * by it: the first event after an idle period goes out as soon as it is read. The position the relay
 * reads from is kept in memory meanwhile; any failure falls back to the committed checkpoint, and a
 * crash re-publishes at most the uncommitted events (deduplicated by `Nats-Msg-Id`).
 */
import type { Pool } from 'pg';
import type { Checkpoint } from '../event-store.port';
import { quoteIdent, serviceSchema } from '../postgres/service-schema';
import { backoffDelay, type BackoffPolicy } from '../jetstream/retry-delay';
import { Empty, headers } from '@nats-io/transport-node';
import { publishEvents } from './event-message';
import { connectionOf } from './pipelined-publish';
import { advanceCheckpoint, countAfter, readRelayRow } from './relay-checkpoint';
import { defaultHolderId, RelayLease } from './relay-lease';
import { RelayLeaseLostError } from './relay.errors';
import { EventHeader, type OutboxRelayOptions, type RelayLogger, type RelayStatus } from './relay.types';

const silent: RelayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000, jitter: 0.2 };
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1_000;
export const DEFAULT_CHECKPOINT_MAX_EVENTS = 10_000;

/** Published but not yet committed as the checkpoint. */
interface PendingCheckpoint {
  next: Checkpoint;
  count: number;
  since: number;
}

export class OutboxRelay {
  readonly holderId: string;
  private readonly schema: string;
  private readonly log: RelayLogger;
  private stopping = false;
  private running: Promise<void> | null = null;
  private lease: RelayLease | null = null;
  private wakePending = false;
  private wakeWaiter: (() => void) | null = null;
  private lastError: RelayStatus['lastError'] = null;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.schema = serviceSchema(opts.service);
    this.holderId = opts.holderId ?? defaultHolderId();
    this.log = opts.logger ?? silent;
  }

  get isActive(): boolean {
    return this.lease !== null && !this.lease.isLost;
  }

  /** Starts competing for the lease; publishing begins once it is held. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.run();
  }

  /** Finishes the batch in flight (publish + checkpoint), releases the lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.running;
    this.running = null;
  }

  async status(): Promise<RelayStatus> {
    const row = await readRelayRow(this.opts.pool, this.schema);
    return {
      service: this.opts.service,
      self: this.holderId,
      isActive: this.isActive,
      holder: row.holder,
      fencing: row.fencing,
      heartbeatAt: row.heartbeatAt,
      checkpoint: row.checkpoint,
      lag: await countAfter(this.opts.pool, this.schema, row.checkpoint),
      published: row.published,
      lastError: this.lastError,
    };
  }

  private wake(): void {
    this.wakePending = true;
    this.wakeWaiter?.();
  }

  /** Sleeps `ms`; a NOTIFY (when `wakeable`) or stop() ends it early. */
  private pause(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopping || (wakeable && this.wakePending)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeWaiter = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeWaiter = () => {
        if (this.stopping || wakeable) done();
      };
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let lease: RelayLease | null;
      try {
        lease = await RelayLease.tryAcquire(this.opts.pool, this.opts.service, this.holderId, () => this.wake());
      } catch (err) {
        this.recordError(err, 'lease acquisition failed');
        await this.pause(backoffDelay(++failures, this.opts.retryBackoff ?? DEFAULT_BACKOFF), false);
        continue;
      }
      if (!lease) {
        await this.pause(this.opts.leaseRetryMs ?? 1_000, false);
        continue;
      }
      failures = 0;
      this.lease = lease;
      this.log.info({ schema: this.schema, holder: this.holderId, fencing: lease.fencing }, 'outbox relay lease acquired');
      const held = lease;
      const heartbeat = setInterval(() => void held.heartbeat(), this.opts.heartbeatMs ?? 5_000);
      try {
        await this.opts.hooks?.onLeaseAcquired?.(lease.fencing);
        await this.publishWhileLeased(lease);
      } catch (err) {
        this.recordError(err, 'outbox relay hook failed');
      } finally {
        clearInterval(heartbeat);
        this.lease = null;
        if (lease.isLost) this.log.warn({ schema: this.schema, reason: lease.reason }, 'outbox relay lease lost');
        await lease.release();
      }
    }
  }

  private async publishWhileLeased(lease: RelayLease): Promise<void> {
    const { pool, store, js, service, hooks, sequenced, heartbeat } = this.opts;
    const batchSize = this.opts.batchSize ?? 256;
    const intervalMs = this.opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    const maxEvents = this.opts.checkpointMaxEvents ?? DEFAULT_CHECKPOINT_MAX_EVENTS;
    // One counter per lease over the sequenced event types, in publish order (see EventHeader.RelaySequence).
    let seq = 0;
    const sequence = sequenced ? (e: { type: string }): string | undefined => (sequenced(e.type) ? `${lease.fencing}:${++seq}` : undefined) : undefined;
    let failures = 0;
    let checkpoint: Checkpoint | null = null;
    let pending: PendingCheckpoint | null = null;
    const commit = async (): Promise<void> => {
      if (!pending) return;
      const p = pending;
      await advanceCheckpoint(pool, this.schema, lease.fencing, p.next, p.count);
      if (pending === p) pending = null;
      await hooks?.afterCheckpoint?.(p.next);
    };
    const nc = heartbeat ? connectionOf(js) : null;
    if (heartbeat && !nc) throw new TypeError('relay heartbeat needs a JetStreamClient with a reachable connection');
    /** Caught up: every event readable at the last read is published, the last sequenced one is `seq`. */
    let lastBeat = -Infinity;
    const beat = async (): Promise<void> => {
      if (!nc || !heartbeat) return;
      // At most two per interval: at low load every request ends in a short batch, and a heartbeat
      // each would add a message per request for no gain in freshness.
      const now = performance.now();
      if (now - lastBeat < heartbeat.intervalMs / 2) return;
      // "Caught up" must mean every COMMITTED event is published. readAll stops at the cluster-wide
      // snapshot xmin, so while any transaction on the server stays open (a pg_dump, a slow writer in
      // another database) events committed after it began are held back. A heartbeat then would keep
      // replicas trusting key states a committed Disable/Revoke already changed: send none, so their
      // trust lapses and they fall back to the short TTL until the held-back events are published.
      if (await heldBack(pool, this.schema)) return;
      lastBeat = now;
      const h = headers();
      h.set(EventHeader.RelaySequence, `${lease.fencing}:${seq}`);
      nc.publish(heartbeat.subject, Empty, { headers: h });
    };
    /** Waits for a NOTIFY or the poll, but no longer than the pending checkpoint may stay uncommitted. */
    const idle = async (): Promise<void> => {
      const poll = Math.min(this.opts.pollIntervalMs ?? 1_000, heartbeat?.intervalMs ?? Infinity);
      if (!pending) return this.pause(poll, true);
      const due = pending.since + intervalMs - performance.now();
      if (due <= 0) return commit();
      return this.pause(Math.min(poll, due), true);
    };
    try {
      while (!this.stopping && !lease.isLost) {
        try {
          checkpoint ??= (await readRelayRow(pool, this.schema)).checkpoint;
          this.wakePending = false;
          const batch = await store.readAll(checkpoint, batchSize);
          if (batch.length === 0) {
            await beat();
            await idle();
            continue;
          }
          await publishEvents(js, service, batch, { timeoutMs: this.opts.publishTimeoutMs ?? 5_000, beforePublish: hooks?.beforePublish, sequence });
          await hooks?.afterPublishBeforeCheckpoint?.(batch);
          const last = batch[batch.length - 1];
          const next: Checkpoint = { transactionId: last.transactionId, globalPosition: last.globalPosition };
          const prev = pending as PendingCheckpoint | null; // closures (commit) reassign it: no narrowing
          pending = { next, count: (prev?.count ?? 0) + batch.length, since: prev?.since ?? performance.now() };
          checkpoint = next;
          if (pending.count >= maxEvents || performance.now() - pending.since >= intervalMs) await commit();
          failures = 0;
          this.lastError = null;
          // A short batch was everything readable at its read, and it is all published now.
          if (batch.length < batchSize) await beat();
          // A short batch with no NOTIFY since the read: nothing newer is known, so skip the empty read
          // (one query per request at low load). A commit that raced the read sent a NOTIFY (wakePending).
          if (batch.length < batchSize && !this.wakePending) await idle();
        } catch (err) {
          if (err instanceof RelayLeaseLostError) {
            lease.markLost(err.message);
            return;
          }
          this.recordError(err, 'outbox relay attempt failed; retrying from the checkpoint');
          checkpoint = null; // re-read: never trust a local position after a failure
          pending = null; // what it covered is re-published from the committed checkpoint (duplicates dropped)
          await this.pause(backoffDelay(++failures, this.opts.retryBackoff ?? DEFAULT_BACKOFF), false);
        }
      }
    } finally {
      // stop(): commit what was published, so a clean hand-over re-publishes nothing.
      if (pending && !lease.isLost) {
        try {
          await commit();
        } catch (err) {
          if (err instanceof RelayLeaseLostError) lease.markLost(err.message);
          else this.recordError(err, 'outbox relay final checkpoint failed; the next holder re-publishes (deduplicated)');
        }
      }
    }
  }

  private recordError(err: unknown, msg: string): void {
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = { message, at: new Date() };
    this.log.error({ schema: this.schema, holder: this.holderId, err: message }, msg);
  }
}

/**
 * True when a committed event exists that readAll cannot see yet (held back by an open transaction):
 * the newest committed transaction id is at or past the snapshot's xmin. Written as "the newest id",
 * one step down the (transaction_id, global_position) index, not as EXISTS (… >= xmin): the planner
 * cannot estimate a comparison with pg_snapshot_xmin() and scanned the whole log (13 ms at 48k events,
 * run up to eight times a second by the heartbeat: cost that grew with the log).
 */
export const HELD_BACK_SQL = (schema: string): string =>
  `SELECT COALESCE((SELECT transaction_id FROM ${quoteIdent(schema)}.events ORDER BY transaction_id DESC LIMIT 1) >= pg_snapshot_xmin(pg_current_snapshot()), false) AS held`;

async function heldBack(pool: Pool, schema: string): Promise<boolean> {
  const r = await pool.query<{ held: boolean }>(HELD_BACK_SQL(schema));
  return r.rows[0]?.held === true;
}
