/**
 * Rebuilds the keys service's inline projection (`keys`, `key_versions`, `aliases`) from its event log,
 * directly in Postgres with the admin URL, in ONE transaction, reporting progress per batch.
 *
 * Why not `rebuildProjection` from @ekm/event-store as is: an INLINE projection is written by every
 * append, so a rebuild racing live appends could overwrite rows with older state. This one first takes
 * `LOCK TABLE streams IN SHARE ROW EXCLUSIVE MODE`, which waits for in-flight appends and holds new ones
 * (each append writes its `streams` row) until the rebuild commits; readers keep the old rows meanwhile.
 * The lock is taken before any statement that assigns this transaction an xid; then the rebuild waits
 * for the read horizon (the snapshot xmin is cluster-wide: an open transaction anywhere on the server,
 * e.g. another service's, would otherwise hide the appends that committed after it began), so every
 * append that committed before the lock lies below it (`transaction_id < xmin`) and is replayed.
 */
import { Client } from 'pg';
import { START, checkpointOf, waitForReadHorizon, pgTransactionContext, quoteIdent, readAllSql, serviceSchema, type Checkpoint, type RecordedEvent } from '@ekm/event-store';
import { KEY_PROJECTION_NAME } from '../../../keys/src/keys/adapters/postgres/key-projection';
import { RebuildKeyProjection } from '../../../keys/src/keys/adapters/postgres/key-projection.rebuild';

/** Progress of a rebuild: `done` of `total` events replayed. */
export type RebuildProgress = (done: number, total: number) => void;

/** What a rebuild did. */
export interface KeysRebuildResult {
  readonly service: 'keys';
  readonly projection: string;
  readonly events: number;
  readonly keys: number;
  readonly checkpoint: Checkpoint;
  readonly durationMs: number;
}

interface Row { global_position: string; transaction_id: string; stream_id: string; stream_position: number; event_id: string; event_type: string; schema_version: number; data: unknown; metadata: RecordedEvent['meta']; recorded_at: Date }

const toRecorded = (r: Row): RecordedEvent => ({
  globalPosition: r.global_position, transactionId: r.transaction_id, streamId: r.stream_id, streamPosition: r.stream_position,
  eventId: r.event_id, type: r.event_type, schemaVersion: r.schema_version, data: r.data, meta: r.metadata, recordedAt: r.recorded_at,
});

/** waitForReadHorizon on its own connection: on the rebuild's (in a transaction) it would wait for itself. */
async function waitForHorizonOutside(adminUrl: string): Promise<void> {
  const waiter = new Client({ connectionString: adminUrl, application_name: 'ekm-cli-rebuild-horizon' });
  await waiter.connect();
  try {
    await waitForReadHorizon(waiter, { timeoutMs: 60_000 });
  } finally {
    await waiter.end().catch(() => undefined);
  }
}

/**
 * Replays every event of `ekm_keys` into a fresh keys projection and moves its checkpoint.
 * @param adminUrl owner/admin URL of the EKM database (the app role may not DELETE projection rows of others' schemas).
 * @throws the pg error as is (nothing is changed: the transaction rolls back).
 */
export async function rebuildKeysProjection(adminUrl: string, onProgress: RebuildProgress = () => undefined, batchSize = 5_000): Promise<KeysRebuildResult> {
  const started = Date.now();
  const schema = quoteIdent(serviceSchema('keys'));
  const client = new Client({ connectionString: adminUrl, application_name: 'ekm-cli-rebuild' });
  await client.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query(`LOCK TABLE ${schema}.streams IN SHARE ROW EXCLUSIVE MODE`);
      await waitForHorizonOutside(adminUrl);
      const total = Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.events`)).rows[0].n);
      onProgress(0, total);
      const tx = pgTransactionContext(client as unknown as Parameters<typeof pgTransactionContext>[0]);
      const projection = new RebuildKeyProjection('keys');
      await tx.query(
        `INSERT INTO ${schema}.projection_checkpoints (name, transaction_id, global_position) VALUES ($1, '0'::xid8, 0) ON CONFLICT (name) DO NOTHING`,
        [KEY_PROJECTION_NAME],
      );
      await tx.query(`SELECT 1 FROM ${schema}.projection_checkpoints WHERE name = $1 FOR UPDATE`, [KEY_PROJECTION_NAME]);
      await projection.reset(tx);
      let checkpoint: Checkpoint = START;
      let done = 0;
      for (;;) {
        const rows = (await client.query<Row>(readAllSql(schema), [checkpoint.transactionId, checkpoint.globalPosition, batchSize])).rows;
        if (rows.length === 0) break;
        const batch = rows.map(toRecorded);
        await projection.apply(tx, batch);
        done += batch.length;
        checkpoint = checkpointOf(batch[batch.length - 1]);
        onProgress(done, Math.max(total, done));
      }
      await projection.finish(tx);
      await tx.query(`UPDATE ${schema}.projection_checkpoints SET transaction_id = $2::xid8, global_position = $3, updated_at = now() WHERE name = $1`,
        [KEY_PROJECTION_NAME, checkpoint.transactionId, checkpoint.globalPosition]);
      const keys = Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.keys`)).rows[0].n);
      await client.query('COMMIT');
      return { service: 'keys', projection: KEY_PROJECTION_NAME, events: done, keys, checkpoint, durationMs: Date.now() - started };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
