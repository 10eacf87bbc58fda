import type { Pool } from 'pg';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Checkpoint, EventMeta, EventStore, RecordedEvent } from '../event-store.port';
import type { BackoffPolicy } from '../jetstream/retry-delay';

/** The JSON body of every relayed event message. Carries what the event table holds, nothing more. */
export interface EventEnvelope {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly streamId: string;
  readonly streamPosition: number;
  readonly globalPosition: string;
  readonly transactionId: string;
  /** ISO-8601. */
  readonly recordedAt: string;
  readonly data: unknown;
  readonly meta: EventMeta;
}

/** Header names on relayed messages (besides `Nats-Msg-Id` = event id and `traceparent`). */
export const EventHeader = {
  StreamId: 'Ekm-Stream-Id',
  StreamPosition: 'Ekm-Stream-Position',
  EventType: 'Ekm-Event-Type',
  GlobalPosition: 'Ekm-Global-Position',
  SchemaVersion: 'Ekm-Schema-Version',
  /**
   * `<fencing>:<n>` on events the relay was told to sequence (`OutboxRelayOptions.sequenced`): n counts
   * those events 1, 2, 3… in publish order within one lease (fencing token). A core-NATS subscriber
   * of exactly those subjects sees every n, so a skipped n (a lost message) or a new fencing (another
   * relay took over, possibly after losing the previous holder's last messages) is detectable.
   */
  RelaySequence: 'Ekm-Relay-Seq',
} as const;

/** Where a service's relay publishes its heartbeat (core NATS only: no stream captures `ekm.relay.>`). */
export const relayHeartbeatSubject = (service: string): string => `ekm.relay.${service}.heartbeat`;

/**
 * Test seams: a test child process SIGKILLs itself at exact points. They run inside the relay loop;
 * a hook that throws counts as a failed attempt (retried from the checkpoint).
 */
export interface RelayHooks {
  beforePublish?(event: RecordedEvent): void | Promise<void>;
  afterPublishBeforeCheckpoint?(batch: readonly RecordedEvent[]): void | Promise<void>;
  afterCheckpoint?(checkpoint: Checkpoint): void | Promise<void>;
  onLeaseAcquired?(fencing: string): void | Promise<void>;
}

/** pino-compatible subset. */
export interface RelayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OutboxRelayOptions {
  /** Service name: schema `ekm_<service>`, subjects `ekm.events.<service>.<EventType>`. */
  readonly service: string;
  /** The service's pool; one client is held for the lease (advisory lock + LISTEN). */
  readonly pool: Pool;
  /** Reader of the same schema (`PostgresEventStore`). */
  readonly store: Pick<EventStore, 'readAll'>;
  readonly js: JetStreamClient;
  /** Shown in status; default `<hostname>:<pid>:<random>`. */
  readonly holderId?: string;
  /** Events per read; default 256. */
  readonly batchSize?: number;
  /**
   * Checkpoint coalescing: the checkpoint is committed once this many events were published since the
   * last commit (default 10,000) or this many ms after the first uncommitted publish (default 1,000),
   * and at stop(). Publishing itself is never delayed. A crash re-publishes at most those events, which
   * JetStream drops as duplicates by `Nats-Msg-Id` (the stream's duplicate window, default 10 min, must
   * exceed this interval plus the lease takeover time). 1 / 0 restore a commit after every batch.
   */
  readonly checkpointMaxEvents?: number;
  readonly checkpointIntervalMs?: number;
  /**
   * Event types stamped with `Ekm-Relay-Seq` (one counter over all of them); default none. A
   * subscriber to exactly these subjects can detect a lost message.
   */
  readonly sequenced?: (eventType: string) => boolean;
  /**
   * Core-NATS heartbeat while the relay is caught up: after a read that found nothing new or a short
   * batch it published (the idle poll is capped at `intervalMs`; at most two heartbeats per interval) it
   * publishes an empty message on `subject` with
   * `Ekm-Relay-Seq` = `<fencing>:<n>`, n the last sequenced event published (0 for none yet). A
   * subscriber that saw every n up to it knows it missed nothing committed before that read; one that
   * hears no heartbeat knows the relay is down, stuck or cut off. Default none.
   */
  readonly heartbeat?: { readonly subject: string; readonly intervalMs: number };
  /** Fallback poll when no NOTIFY arrives (a late commit may become readable only later); default 1000. */
  readonly pollIntervalMs?: number;
  /** How often a standby replica tries the lease; default 1000. */
  readonly leaseRetryMs?: number;
  /** Lease connection liveness check; default 5000. */
  readonly heartbeatMs?: number;
  /** Per publish ack; default 5000. */
  readonly publishTimeoutMs?: number;
  /** Between failed attempts (NATS or Postgres errors); default 100 ms doubling to 5 s. */
  readonly retryBackoff?: BackoffPolicy;
  readonly hooks?: RelayHooks;
  readonly logger?: RelayLogger;
}

export interface RelayStatus {
  readonly service: string;
  /** This instance's id and whether it holds the lease now. */
  readonly self: string;
  readonly isActive: boolean;
  /** From the lease row: the last holder and its fencing counter. */
  readonly holder: string | null;
  readonly fencing: string;
  readonly heartbeatAt: Date | null;
  readonly checkpoint: Checkpoint;
  /** Events stored after the checkpoint (committed ones; open transactions are invisible). */
  readonly lag: number;
  readonly published: string;
  readonly lastError: { readonly message: string; readonly at: Date } | null;
}
