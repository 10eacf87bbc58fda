/**
 * EventStore in memory with the Postgres adapter's semantics (both pass event-store.contract.ts), for
 * application-layer tests. Appends run one at a time, like the Postgres stream lock, and an append whose
 * inline projection or `alsoInTransaction` throws leaves nothing behind.
 */
import { prepareAppend, checkReadAll, checkReadStream } from '../append-input';
import { ConcurrencyConflictError } from '../errors';
import type { AppendOptions, AppendResult, Checkpoint, EventStore, NewEvent, RecordedEvent, TransactionContext } from '../event-store.port';

export interface InMemoryEventStoreOptions {
  /**
   * Answers `tx.query` for inline projections and `alsoInTransaction`; it is not rolled back with a
   * failed append, so tests that need that use PostgresEventStore. Default: throws.
   */
  readonly query?: TransactionContext['query'];
  /** Clock for `recordedAt` (default: `new Date()`). */
  readonly now?: () => Date;
}

const noSql: TransactionContext['query'] = () => Promise.reject(new Error('InMemoryEventStore runs no SQL: pass options.query'));

export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly byId = new Map<string, RecordedEvent>();
  private nextTransaction = 1n;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: InMemoryEventStoreOptions = {}) {}

  appendToStream(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    let prepared: ReturnType<typeof prepareAppend>;
    try {
      prepared = prepareAppend(streamId, events, options);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.tail.then(() => this.appendNow(streamId, prepared, options));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async appendNow(streamId: string, prepared: ReturnType<typeof prepareAppend>, options: AppendOptions): Promise<AppendResult> {
    if (options.commandId !== undefined) {
      const stored = prepared.map((p) => this.byId.get(p.eventId)).filter((e): e is RecordedEvent => e !== undefined);
      if (stored.length > 0) return { nextExpectedVersion: stored[stored.length - 1].streamPosition, events: stored.map(copy), duplicate: true };
    }
    const current = this.streams.get(streamId)?.length ?? 0;
    const ev = options.expectedVersion;
    const ok = ev.kind === 'Any' || (ev.kind === 'NoStream' ? current === 0 : current === ev.version);
    if (!ok) throw new ConcurrencyConflictError(streamId, ev.kind === 'Exact' ? String(ev.version) : ev.kind, current);

    // Global positions come from a sequence in Postgres: a rolled-back append burns them there too,
    // but callers must not rely on gaps, so here they stay dense.
    const transactionId = String(this.nextTransaction++);
    const recordedAt = this.options.now?.() ?? new Date();
    const recorded: RecordedEvent[] = prepared.map((p, i) => ({
      globalPosition: String(this.log.length + i + 1),
      transactionId,
      streamId,
      streamPosition: current + i + 1,
      eventId: p.eventId,
      type: p.type,
      schemaVersion: p.schemaVersion,
      // Stored as JSON, like jsonb: callers get copies, and Dates etc. come back as Postgres returns them.
      data: JSON.parse(p.dataJson) as unknown,
      meta: JSON.parse(p.metaJson) as RecordedEvent['meta'],
      recordedAt,
    }));
    const tx: TransactionContext = { query: this.options.query ?? noSql };
    for (const project of options.inline ?? []) await project(tx, recorded);
    if (options.alsoInTransaction) await options.alsoInTransaction(tx);

    this.log.push(...recorded);
    this.streams.set(streamId, [...(this.streams.get(streamId) ?? []), ...recorded]);
    for (const e of recorded) this.byId.set(e.eventId, e);
    return { nextExpectedVersion: current + recorded.length, events: recorded.map(copy), duplicate: false };
  }

  readStream(streamId: string, options?: { fromPosition?: number; maxCount?: number }): Promise<RecordedEvent[]> {
    try {
      const { from, max } = checkReadStream(options);
      const events = (this.streams.get(streamId) ?? []).slice(from - 1);
      return Promise.resolve((max === null ? events : events.slice(0, max)).map(copy));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  streamVersion(streamId: string): Promise<number> {
    return Promise.resolve(this.streams.get(streamId)?.length ?? 0);
  }

  readAll(after: Checkpoint, limit: number): Promise<RecordedEvent[]> {
    try {
      checkReadAll(after, limit);
    } catch (err) {
      return Promise.reject(err);
    }
    const tx = BigInt(after.transactionId);
    const gp = BigInt(after.globalPosition);
    // The log is appended in (transactionId, globalPosition) order already: every append commits whole.
    const out = this.log.filter((e) => {
      const t = BigInt(e.transactionId);
      return t > tx || (t === tx && BigInt(e.globalPosition) > gp);
    });
    return Promise.resolve(out.slice(0, limit).map(copy));
  }
}

function copy(e: RecordedEvent): RecordedEvent {
  return { ...e, data: structuredClone(e.data), meta: { ...e.meta }, recordedAt: new Date(e.recordedAt) };
}
