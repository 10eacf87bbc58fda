/**
 * EventStore over a pg Pool, one service schema (ARCHITECTURE §3). Raw SQL on the hot path: an append
 * is BEGIN, stream lock, [duplicate check], streams CAS, one multi-row INSERT, [projections], COMMIT.
 */
import type { Pool } from 'pg';
import { prepareAppend, checkReadAll, checkReadStream, type PreparedEvent } from '../append-input';
import { ConcurrencyConflictError } from '../errors';
import type { AppendOptions, AppendResult, Checkpoint, EventStore, ExpectedVersion, NewEvent, RecordedEvent, TransactionContext } from '../event-store.port';
import { EVENT_COLUMNS, readAllSql, toRecordedEvent, type EventRow } from './event-rows';
import { fastAppend, fastAppendStatement, type FastAppendStatement } from './fast-append';
import { poolQuery, withTransaction, type PgTransactionContext } from './pg-transaction';
import { quoteIdent, serviceSchema } from './service-schema';

export interface PostgresEventStoreOptions {
  /** Service name; tables live in schema `ekm_<service>` (see migrateServiceSchema). */
  readonly service: string;
}

/** Thrown inside the transaction to roll it back and answer with the stored events instead. */
class DuplicateAppend {
  constructor(readonly events: RecordedEvent[]) {}
}

const UNIQUE_VIOLATION = '23505';

function describe(ev: ExpectedVersion): string {
  return ev.kind === 'Exact' ? String(ev.version) : ev.kind;
}

export class PostgresEventStore implements EventStore {
  private readonly schema: string;
  private readonly autocommit: TransactionContext;
  private readonly fast: FastAppendStatement;

  constructor(
    private readonly pool: Pool,
    options: PostgresEventStoreOptions,
  ) {
    this.schema = quoteIdent(serviceSchema(options.service));
    this.autocommit = poolQuery(pool);
    this.fast = fastAppendStatement(this.schema, options.service);
  }

  async appendToStream(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    const prepared = prepareAppend(streamId, events, options);
    const ids = options.commandId === undefined ? null : prepared.map((p) => p.eventId);
    // Usage records and the like: nothing to check and nothing else to write, so one statement does it.
    if (!ids && options.expectedVersion.kind === 'Any' && !options.inline?.length && !options.alsoInTransaction) {
      return fastAppend(this.pool, this.fast, streamId, prepared);
    }
    try {
      return await withTransaction(this.pool, (tx) => this.appendIn(tx, streamId, prepared, ids, options));
    } catch (err) {
      if (err instanceof DuplicateAppend) return this.duplicateResult(err.events);
      // Belt and braces: the stream lock makes the duplicate check see a concurrent identical command,
      // but should one slip through (e.g. a hash-colliding lock key is not the issue; a future code
      // path without the lock is), the loser hits UNIQUE(event_id): reread and answer duplicate.
      if (ids && (err as { code?: string }).code === UNIQUE_VIOLATION) {
        const stored = await this.findByIds(this.autocommit, ids);
        if (stored.length > 0) return this.duplicateResult(stored);
      }
      throw err;
    }
  }

  private async appendIn(tx: PgTransactionContext, streamId: string, prepared: PreparedEvent[], ids: string[] | null, options: AppendOptions): Promise<AppendResult> {
    // Serialise appends per stream BEFORE this transaction gets an xid (advisory locks need none), so
    // xid order = stream order and readAll's (transaction_id, global_position) order keeps stream order.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [this.schema, streamId]);
    if (ids) {
      const stored = await this.findByIds(tx, ids);
      if (stored.length > 0) throw new DuplicateAppend(stored);
    }
    const version = await this.compareAndSet(tx, streamId, prepared.length, options.expectedVersion);
    const first = version - prepared.length + 1;
    const rows = await tx.query<EventRow>(
      `INSERT INTO ${this.schema}.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
       SELECT $1, u.pos, u.id, u.type, u.sv, u.data, u.meta
         FROM unnest($2::int[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[]) AS u(pos, id, type, sv, data, meta)
       RETURNING ${EVENT_COLUMNS}`,
      [
        streamId,
        prepared.map((_, i) => first + i),
        prepared.map((p) => p.eventId),
        prepared.map((p) => p.type),
        prepared.map((p) => p.schemaVersion),
        prepared.map((p) => p.dataJson),
        prepared.map((p) => p.metaJson),
      ],
    );
    const recorded = rows.map(toRecordedEvent).sort((a, b) => a.streamPosition - b.streamPosition);
    for (const project of options.inline ?? []) await project(tx, recorded);
    if (options.alsoInTransaction) await options.alsoInTransaction(tx);
    return { nextExpectedVersion: version, events: recorded, duplicate: false };
  }

  /** Moves the stream's `streams` row by `count` if the expectation holds; returns the new version. */
  private async compareAndSet(tx: PgTransactionContext, streamId: string, count: number, expected: ExpectedVersion): Promise<number> {
    let rows: { version: number }[];
    switch (expected.kind) {
      case 'NoStream':
        rows = await tx.query(`INSERT INTO ${this.schema}.streams (stream_id, version) VALUES ($1, $2) ON CONFLICT (stream_id) DO NOTHING RETURNING version`, [streamId, count]);
        break;
      case 'Exact':
        rows = await tx.query(`UPDATE ${this.schema}.streams SET version = version + $3 WHERE stream_id = $1 AND version = $2 RETURNING version`, [streamId, expected.version, count]);
        break;
      case 'Any':
        rows = await tx.query(
          `INSERT INTO ${this.schema}.streams (stream_id, version) VALUES ($1, $2)
           ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + EXCLUDED.version RETURNING version`,
          [streamId, count],
        );
        break;
    }
    if (rows.length === 1) return rows[0].version;
    throw new ConcurrencyConflictError(streamId, describe(expected), await this.versionIn(tx, streamId));
  }

  private async findByIds(q: TransactionContext, ids: string[]): Promise<RecordedEvent[]> {
    const rows = await q.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM ${this.schema}.events WHERE event_id = ANY($1::uuid[]) ORDER BY stream_position`, [ids]);
    return rows.map(toRecordedEvent);
  }

  private duplicateResult(events: RecordedEvent[]): AppendResult {
    return { nextExpectedVersion: events[events.length - 1].streamPosition, events, duplicate: true };
  }

  private async versionIn(q: TransactionContext, streamId: string): Promise<number> {
    const rows = await q.query<{ version: number }>(`SELECT version FROM ${this.schema}.streams WHERE stream_id = $1`, [streamId]);
    return rows[0]?.version ?? 0;
  }

  async readStream(streamId: string, options?: { fromPosition?: number; maxCount?: number }): Promise<RecordedEvent[]> {
    const { from, max } = checkReadStream(options);
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.schema}.events WHERE stream_id = $1 AND stream_position >= $2 ORDER BY stream_position LIMIT $3`,
      [streamId, from, max],
    );
    return rows.map(toRecordedEvent);
  }

  async streamVersion(streamId: string): Promise<number> {
    const { rows } = await this.pool.query<{ version: number }>(`SELECT version FROM ${this.schema}.streams WHERE stream_id = $1`, [streamId]);
    return rows[0]?.version ?? 0;
  }

  async readAll(after: Checkpoint, limit: number): Promise<RecordedEvent[]> {
    checkReadAll(after, limit);
    const { rows } = await this.pool.query<EventRow>(readAllSql(this.schema), [after.transactionId, after.globalPosition, limit]);
    return rows.map(toRecordedEvent);
  }
}
