/**
 * The scheduler loop of one replica. Every tick it drains due work kind by kind: claim up to `batch`
 * due items (row locks, SKIP LOCKED: replicas never claim the same row at once), send their commands
 * concurrently with each slot's deterministic idempotency key, then record success (advance the slot)
 * or failure (backoff) and commit. Exactly once per slot:
 * - two replicas never hold one row; a replica cut off by the lease commits nothing (the server ended
 *   its session) and the row is re-claimed by another replica, which re-sends the SAME request id;
 * - the keys service answers a request id it has seen without appending, so a second send of a slot
 *   (crash after send, paused replica waking up, a lost reply) never rotates or destroys twice.
 * Failures of one key are recorded on its row and retried with backoff; they never stop the batch.
 */
import { hostname } from 'node:os';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pool, PoolClient } from 'pg';
import type { RotationConfig } from '@ekm/config';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { LOGGER, NATS_CONNECTION, PG_POOL, SERVICE_CONFIG } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { DUE_KINDS, nextDueAfter, retryDelayMs, slotKey, type DueKind } from '../domain/schedule.rules';
import { DueWorkStore, type DueItem } from '../adapters/postgres/due-work.store';
import { headerSafeRequestId, KeysCommandSender, type SendResult } from '../adapters/nats/keys-commands.sender';
import { serviceSigner } from '@ekm/auth';

/** Counters of this replica since start (for tests and status). */
export interface SchedulerStats {
  sent: number;
  succeeded: number;
  failed: number;
  /** Claim transactions that could not commit (lease lost, Postgres error). */
  abandoned: number;
}

@Injectable()
export class Scheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly stats: SchedulerStats = { sent: 0, succeeded: 0, failed: 0, abandoned: 0 };
  readonly replica = `${hostname()}:${process.pid}`;
  private readonly store = new DueWorkStore(quoteIdent(serviceSchema('rotation')));
  private readonly sender: KeysCommandSender;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(SERVICE_CONFIG) private readonly config: RotationConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.sender = new KeysCommandSender(nc, Math.max(1_000, Math.min(30_000, config.leaseMs)), serviceSigner(config, 'rotation'));
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule(this.config.tickMs));
    }, delayMs);
  }

  /** Drains every kind of due work once; exported for tests through the instance. */
  async tick(): Promise<void> {
    for (const kind of DUE_KINDS) {
      while (!this.stopped) {
        let claimed: number;
        try {
          claimed = await this.runBatch(kind);
        } catch (err) {
          this.stats.abandoned++;
          this.logger.warn({ kind, err: err instanceof Error ? err.message : String(err) }, 'scheduler batch abandoned; its rows return to the pool');
          break;
        }
        if (claimed < this.config.batch) break;
      }
    }
  }

  private async runBatch(kind: DueKind): Promise<number> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      // The lease: a session idle inside this transaction for longer is terminated by Postgres.
      await c.query(`SET LOCAL idle_in_transaction_session_timeout = ${Math.floor(this.config.leaseMs)}`);
      const items = await this.store.claim(c, kind, this.config.batch);
      if (items.length === 0) {
        await c.query('COMMIT');
        return 0;
      }
      const results = await this.withHeartbeat(c, () => Promise.all(items.map(async (item) => {
        const requestId = headerSafeRequestId(slotKey(item.kind, item.keyId, item.ref, item.dueMs));
        this.stats.sent++;
        return { item, requestId, result: await this.sender.send(item, requestId) };
      })));
      for (const { item, requestId, result } of results) await this.settle(c, item, requestId, result);
      await c.query('COMMIT');
      for (const { result } of results) if (result.ok) this.stats.succeeded++; else this.stats.failed++;
      return items.length;
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      await c.query('ROLLBACK').catch(() => undefined);
      throw broken;
    } finally {
      // A session the server terminated must not go back to the pool.
      c.release(broken);
    }
  }

  private async settle(c: PoolClient, item: DueItem, requestId: string, result: SendResult): Promise<void> {
    if (result.ok) {
      const next = item.kind === 'ROTATE' && item.periodDays !== null ? nextDueAfter(item.dueMs, item.periodDays, item.nowMs) : null;
      await this.store.succeeded(c, item, requestId, this.replica, next);
      return;
    }
    const delay = retryDelayMs(item.attempts + 1);
    this.logger.warn({ kind: item.kind, keyId: item.keyId, code: result.code, attempts: item.attempts + 1, retryInMs: delay }, 'scheduled command failed; will retry');
    await this.store.failed(c, item, `${result.code}: ${result.message}`, delay);
  }

  /**
   * Keeps the session from counting as idle while the commands are in flight, so only a replica that
   * really stopped (not a slow keys service) loses its lease.
   */
  private async withHeartbeat<T>(c: PoolClient, run: () => Promise<T>): Promise<T> {
    let beat: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      beat = beat.then(() => c.query('SELECT 1')).catch(() => undefined);
    }, Math.max(100, Math.floor(this.config.leaseMs / 3)));
    try {
      return await run();
    } finally {
      clearInterval(timer);
      await beat;
    }
  }
}
