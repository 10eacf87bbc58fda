/**
 * Keeps an async projection up to date: read a batch after the checkpoint, then in ONE transaction
 * compare-and-set the checkpoint first and apply the batch. The CAS comes first so that a runner that
 * lost the race (another replica, or a rebuild) rolls back before applying anything: never twice.
 */
import type { Pool } from 'pg';
import type { Checkpoint } from '../event-store.port';
import { checkpointOf, readAllIn } from '../postgres/event-rows';
import { poolQuery, withTransaction, type PgTransactionContext } from '../postgres/pg-transaction';
import { quoteIdent, serviceSchema } from '../postgres/service-schema';
import type { Projection } from './projection';
import { advanceCheckpoint, loadCheckpoint } from './projection-checkpoints';

export interface AsyncProjectionRunnerOptions {
  readonly pool: Pool;
  readonly service: string;
  readonly projection: Projection;
  /** Events per transaction (default 500). */
  readonly batchSize?: number;
  /** Idle wait between polls when caught up (default 500 ms). */
  readonly pollIntervalMs?: number;
  /** Called with infrastructure or projection errors; the loop backs off and retries. */
  readonly onError?: (err: unknown) => void;
}

class CheckpointMoved {}

export class AsyncProjectionRunner {
  private readonly schema: string;
  private checkpoint: Checkpoint | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private inFlight: Promise<number> | undefined;

  constructor(private readonly options: AsyncProjectionRunnerOptions) {
    this.schema = quoteIdent(serviceSchema(options.service));
  }

  get name(): string {
    return this.options.projection.name;
  }

  /** Applies batches until the log (as far as readers may see it) is exhausted; returns events applied. */
  catchUp(): Promise<number> {
    // Single flight: start()'s loop and a test's catchUp() must not run batches side by side.
    const run = (this.inFlight ?? Promise.resolve(0)).catch(() => 0).then(() => this.drain());
    this.inFlight = run;
    return run;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.runLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Wakes an idle loop now (e.g. on a pg NOTIFY of the schema's events channel). */
  poke(): void {
    this.wake?.();
  }

  private async runLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let waitMs = this.options.pollIntervalMs ?? 500;
      try {
        await this.catchUp();
        failures = 0;
      } catch (err) {
        failures++;
        this.options.onError?.(err);
        waitMs = Math.min(30_000, 100 * 2 ** Math.min(failures, 8));
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.step();
      if (n === 0) return total;
      total += n;
    }
  }

  /** One batch; returns how many events were applied (0 = caught up). */
  private async step(): Promise<number> {
    const { pool, projection } = this.options;
    const from = this.checkpoint ?? (await loadCheckpoint(poolQuery(pool), this.schema, projection.name));
    this.checkpoint = from;
    const batch = await readAllIn(poolQuery(pool), this.schema, from, this.options.batchSize ?? 500);
    if (batch.length === 0) return 0;
    const to = checkpointOf(batch[batch.length - 1]);
    try {
      await withTransaction(pool, async (tx: PgTransactionContext) => {
        if (!(await advanceCheckpoint(tx, this.schema, projection.name, from, to))) throw new CheckpointMoved();
        await projection.apply(tx, batch);
      });
    } catch (err) {
      this.checkpoint = undefined; // reload: someone else advanced it (or the apply failed)
      if (err instanceof CheckpointMoved) return this.step();
      throw err;
    }
    this.checkpoint = to;
    return batch.length;
  }
}
