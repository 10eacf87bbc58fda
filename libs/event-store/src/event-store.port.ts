/**
 * The event store port. Every key lifecycle change (and every policy change, usage record, ...) is an
 * event appended here; PostgreSQL is the system of record (ARCHITECTURE §3).
 *
 * Implementations: `PostgresEventStore` (production, one schema per service) and `InMemoryEventStore`
 * (tests of application code). Both pass `event-store.contract.ts`.
 */

/** Metadata carried with every event and command. Never holds key material. */
export interface EventMeta {
  /** Principal (or service) that caused the change. */
  readonly actor: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  /** Idempotency key of the command that produced the event. */
  readonly commandId?: string;
  /** W3C trace context of the request. */
  readonly traceparent?: string;
  /** Command time (ISO-8601), injected by the application layer; the domain never reads a clock. */
  readonly now?: string;
  /** The edge the request came through (`kms-api`), from the caller's session; absent for bus callers. */
  readonly via?: string;
}

/** A domain event: plain data (Emmett). */
export type Event<T extends string = string, D = unknown> = Readonly<{ type: T; data: D; meta: EventMeta }>;

/** What a caller appends. `schemaVersion` defaults to 1. */
export interface NewEvent<E extends Event = Event> {
  // `meta` is stored as given: only the EventMeta fields, string-valued; unknown fields are rejected.
  readonly type: E['type'];
  readonly data: E['data'];
  readonly meta: EventMeta;
  readonly schemaVersion?: number;
}

/** An event as stored. Positions are decimal strings (bigint in Postgres). */
export interface RecordedEvent<E extends Event = Event> {
  readonly globalPosition: string;
  /** xid8 of the appending transaction, decimal string. */
  readonly transactionId: string;
  readonly streamId: string;
  /** 1-based position inside the stream. */
  readonly streamPosition: number;
  readonly eventId: string;
  readonly type: E['type'];
  readonly schemaVersion: number;
  readonly data: E['data'];
  readonly meta: EventMeta;
  readonly recordedAt: Date;
}

/**
 * Optimistic concurrency on append.
 * - `NoStream`: the stream must not exist (really fails when it does).
 * - `Exact(n)`: the stream's current version must be n (0 = no stream yet is NOT accepted; use NoStream).
 * - `Any`: no check.
 */
export type ExpectedVersion = { readonly kind: 'NoStream' } | { readonly kind: 'Exact'; readonly version: number } | { readonly kind: 'Any' };
export const ExpectedVersion = {
  noStream: { kind: 'NoStream' } as ExpectedVersion,
  any: { kind: 'Any' } as ExpectedVersion,
  exact: (version: number): ExpectedVersion => ({ kind: 'Exact', version }),
  /** The expectation for a stream last read at `version` (0 = absent, so NoStream). */
  fromVersion: (version: number): ExpectedVersion => (version === 0 ? { kind: 'NoStream' } : { kind: 'Exact', version }),
} as const;

/** Read position for readers of "everything": ordered by (transactionId, globalPosition). */
export interface Checkpoint {
  readonly transactionId: string;
  readonly globalPosition: string;
}
export const START: Checkpoint = { transactionId: '0', globalPosition: '0' };

/**
 * A handle on the open append transaction, given to inline projections so they commit (or roll back)
 * with the events. `query` is the raw pg/TypeORM query of that transaction.
 */
export interface TransactionContext {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

/**
 * Runs in the append transaction, after the events are inserted (before `alsoInTransaction`).
 * Throwing rolls everything back. Not called for a duplicate append. `toInline(projection)` adapts a `Projection`.
 */
export type InlineProjection = (tx: TransactionContext, events: readonly RecordedEvent[]) => Promise<void>;

export interface AppendOptions {
  readonly expectedVersion: ExpectedVersion;
  /**
   * Idempotency key. Event ids derive from (streamId, commandId, index), so re-appending the same
   * command is a no-op that returns the first result with `duplicate: true`.
   * Without it, event ids are random.
   */
  readonly commandId?: string;
  /** Projections updated in the same transaction (read-your-writes state). */
  readonly inline?: readonly InlineProjection[];
  /** Extra writes that must commit atomically with the events (e.g. deleting wrapped key material). */
  readonly alsoInTransaction?: (tx: TransactionContext) => Promise<void>;
}

export interface AppendResult {
  /** The stream's version after the append (its last stream position). */
  readonly nextExpectedVersion: number;
  readonly events: readonly RecordedEvent[];
  /**
   * True when the commandId was seen before and nothing new was appended; `events` are then the ones
   * stored by the first append and neither inline projections nor `alsoInTransaction` ran.
   */
  readonly duplicate: boolean;
}

export interface EventStore {
  appendToStream(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult>;
  /** Events of one stream in stream order, from `fromPosition` (inclusive, default 1); `[]` for an unknown stream. */
  readStream(streamId: string, options?: { fromPosition?: number; maxCount?: number }): Promise<RecordedEvent[]>;
  /** Current version of a stream, or 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number>;
  /**
   * Events committed after `after`, in (transactionId, globalPosition) order, never past a transaction
   * that is still open (snapshot xmin), so a late commit is never skipped.
   */
  readAll(after: Checkpoint, limit: number): Promise<RecordedEvent[]>;
}

export const EVENT_STORE = Symbol('EVENT_STORE');
