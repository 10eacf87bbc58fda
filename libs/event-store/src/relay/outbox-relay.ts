/**
 * Outbox relay (ARCHITECTURE §3): the event table is the outbox. One active relay per schema reads
 * `readAll` from its checkpoint, publishes each event with `Nats-Msg-Id = event_id`, waits for every
 * ack of the batch, then compare-and-sets its checkpoint. A crash between publish and checkpoint
 * re-publishes the batch, which JetStream drops as duplicates inside the stream's duplicate window.
 */
import type { Checkpoint } from '../event-store.port';
import { serviceSchema } from '../postgres/service-schema';
import { backoffDelay, type BackoffPolicy } from '../jetstream/retry-delay';
import { publishEvents } from './event-message';
import { advanceCheckpoint, countAfter, readRelayRow } from './relay-checkpoint';
import { defaultHolderId, RelayLease } from './relay-lease';
import { RelayLeaseLostError } from './relay.errors';
import type { OutboxRelayOptions, RelayLogger, RelayStatus } from './relay.types';

const silent: RelayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000, jitter: 0.2 };

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
    const { pool, store, js, service, hooks } = this.opts;
    const batchSize = this.opts.batchSize ?? 256;
    let failures = 0;
    let checkpoint: Checkpoint | null = null;
    while (!this.stopping && !lease.isLost) {
      try {
        checkpoint ??= (await readRelayRow(pool, this.schema)).checkpoint;
        this.wakePending = false;
        const batch = await store.readAll(checkpoint, batchSize);
        if (batch.length === 0) {
          await this.pause(this.opts.pollIntervalMs ?? 1_000, true);
          continue;
        }
        await publishEvents(js, service, batch, { timeoutMs: this.opts.publishTimeoutMs ?? 5_000, beforePublish: hooks?.beforePublish });
        await hooks?.afterPublishBeforeCheckpoint?.(batch);
        const last = batch[batch.length - 1];
        const next: Checkpoint = { transactionId: last.transactionId, globalPosition: last.globalPosition };
        await advanceCheckpoint(pool, this.schema, lease.fencing, next, batch.length);
        checkpoint = next;
        failures = 0;
        this.lastError = null;
        await hooks?.afterCheckpoint?.(next);
      } catch (err) {
        if (err instanceof RelayLeaseLostError) {
          lease.markLost(err.message);
          return;
        }
        this.recordError(err, 'outbox relay attempt failed; retrying from the checkpoint');
        checkpoint = null; // re-read: never trust a local position after a failure
        await this.pause(backoffDelay(++failures, this.opts.retryBackoff ?? DEFAULT_BACKOFF), false);
      }
    }
  }

  private recordError(err: unknown, msg: string): void {
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = { message, at: new Date() };
    this.log.error({ schema: this.schema, holder: this.holderId, err: message }, msg);
  }
}
