/**
 * Rebuilds a projection from the log in ONE transaction: readers see the old state until the new one
 * commits, and a running AsyncProjectionRunner waits on the checkpoint row lock, then reloads.
 */
import type { Pool } from 'pg';
import { START, type Checkpoint } from '../event-store.port';
import { checkpointOf, readAllIn } from '../postgres/event-rows';
import { withTransaction } from '../postgres/pg-transaction';
import { waitForReadHorizon } from '../postgres/read-horizon';
import { quoteIdent, serviceSchema } from '../postgres/service-schema';
import type { Projection } from './projection';
import { loadCheckpoint, setCheckpoint } from './projection-checkpoints';

export interface RebuildProjectionOptions {
  readonly pool: Pool;
  readonly service: string;
  readonly projection: Projection;
  readonly batchSize?: number;
  /**
   * How long to wait for transactions that were open when the rebuild was called (default 30 s). readAll
   * stops at the cluster-wide snapshot xmin, so without this wait a rebuild started while any transaction
   * is open (in any database of the server) silently misses the events committed after that transaction
   * began; for an inline projection nothing would ever bring them back.
   */
  readonly horizonTimeoutMs?: number;
}

export interface RebuildResult {
  readonly applied: number;
  /** Where the projection's checkpoint now stands; an async runner continues from here. */
  readonly checkpoint: Checkpoint;
}

// Hazards: the transaction holds an xid while it replays, which holds back every readAll reader of the
// schema (snapshot xmin) until it commits; and an INLINE projection must be rebuilt with its writers
// paused, since an append committing mid-rebuild may update rows the rebuild then overwrites.
export async function rebuildProjection(options: RebuildProjectionOptions): Promise<RebuildResult> {
  const schema = quoteIdent(serviceSchema(options.service));
  const batchSize = options.batchSize ?? 1000;
  const { projection } = options;
  await waitForReadHorizon(options.pool, { timeoutMs: options.horizonTimeoutMs ?? 30_000 });
  return withTransaction(options.pool, async (tx) => {
    await loadCheckpoint(tx, schema, projection.name, true);
    await projection.reset(tx);
    let checkpoint = START;
    let applied = 0;
    for (;;) {
      const batch = await readAllIn(tx, schema, checkpoint, batchSize);
      if (batch.length === 0) break;
      await projection.apply(tx, batch);
      applied += batch.length;
      checkpoint = checkpointOf(batch[batch.length - 1]);
    }
    await projection.finish?.(tx);
    await setCheckpoint(tx, schema, projection.name, checkpoint);
    return { applied, checkpoint };
  });
}
