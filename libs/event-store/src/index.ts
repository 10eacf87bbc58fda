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
export { waitForReadHorizon } from './postgres/read-horizon';
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
export { OutboxRelay, DEFAULT_CHECKPOINT_INTERVAL_MS, DEFAULT_CHECKPOINT_MAX_EVENTS } from './relay/outbox-relay';
export { EventHeader, relayHeartbeatSubject, type EventEnvelope, type OutboxRelayOptions, type RelayHooks, type RelayLogger, type RelayStatus } from './relay/relay.types';
export { RelayCheckpointNotForwardError, RelayLeaseLostError } from './relay/relay.errors';
export { republishRange, type RepublishRangeOptions, type RepublishResult } from './relay/republish-range';
export { toEnvelope, toHeaders, publishEvents, type PublishOutcome } from './relay/event-message';
export { OutboxRelayMigration, ensureRelayTables } from './postgres/migrations/outbox-relay.migration';
export {
  DEFAULT_DUPLICATE_WINDOW_MS,
  eventStreamName,
  eventStreamSpec,
  eventSubject,
  eventSubjectPrefix,
  type EventStreamOptions,
  type StreamSpec,
} from './jetstream/event-streams';
export { diffStream, ensureStreams, toStreamConfig, type EnsureStreamsResult, type StreamCheck, type StreamDrift, type StreamSpecField } from './jetstream/ensure-streams';
export { DurableConsumer, ensureDurableConsumer, type DurableConsumerOptions, type MessageContext } from './jetstream/durable-consumer';
export { InvalidMessageError, TerminalError, isRetriable } from './jetstream/consumer.errors';
export { recordDeadLetter, type DeadLetter } from './jetstream/dead-letters';
export { backoffDelay, type BackoffPolicy } from './jetstream/retry-delay';
export { readRelayRow, type RelayRow } from './relay/relay-checkpoint';
