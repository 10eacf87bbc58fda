// @ekm/event-store: the curated public API. Add export lines here; do not export * from folders.

// Port
export { EVENT_STORE, ExpectedVersion, START } from './event-store.port';
export type {
  AppendOptions,
  AppendResult,
  Checkpoint,
  Event,
  EventMeta,
  EventStore,
  InlineProjection,
  NewEvent,
  RecordedEvent,
  TransactionContext,
} from './event-store.port';
export { ConcurrencyConflictError, EventStoreErrorCode, InvalidAppendError, InvalidReadError, InvalidServiceNameError } from './errors';
export { eventIdFor } from './append-input';

// PostgreSQL adapter and schema
export { PostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store';
export { poolQuery, withTransaction, pgTransactionContext, type PgTransactionContext } from './postgres/pg-transaction';
export { readAllSql, checkpointOf } from './postgres/event-rows';
export { eventsNotifyChannel, serviceRole, serviceSchema, quoteIdent } from './postgres/service-schema';
export { migrateServiceSchema, type MigrateServiceSchemaOptions, type MigrateServiceSchemaResult } from './postgres/migrate-service-schema';
export {
  EVENT_STORE_MIGRATIONS,
  bindService,
  eventStoreMigrations,
  type BoundMigrationClass,
  type ServiceMigrationClass,
} from './postgres/migrations/event-store.migrations';

// In-memory adapter (application-layer tests)
export { InMemoryEventStore, type InMemoryEventStoreOptions } from './in-memory/in-memory-event-store';

// Projections
export { toInline, type Projection } from './projections/projection';
export { AsyncProjectionRunner, type AsyncProjectionRunnerOptions } from './projections/async-projection-runner';
export { rebuildProjection, type RebuildProjectionOptions, type RebuildResult } from './projections/rebuild-projection';

// Outbox relay and JetStream helpers (libs/event-store/src/relay, jetstream)
