/**
 * Usage records, fail closed and group-committed (ARCHITECTURE §6, §8).
 *
 * Every key-service call (allowed, denied or failed) produces one usage record, durable in Postgres
 * before the caller gets its reply. One Postgres commit per request stalls near 5k/s on this
 * hardware, so concurrent records share a transaction (one INSERT statement, see the event store's
 * one-statement append): up to `maxInFlight` batches are on their way to Postgres at once, and records
 * arriving meanwhile accumulate into the next batch, flushed as soon as a slot frees. At low load a batch
 * is one record and no latency is added; under load batches grow by themselves. Batches of the same
 * stream still commit one after another (the store's per-stream lock); having the next one already sent
 * hides the round trip between them.
 *
 * One member never fails the others: if Postgres refuses a batch because of a value in it (a data or
 * integrity error, e.g. text it cannot store that slipped past validation), the batch is split in
 * halves and each half retried, down to the single record at fault, which alone is refused (not
 * retriable: the same record fails the same way). A database that is away still fails the whole batch.
 *
 * A group commit is ONE event, `KeyUsageBatchRecorded` with data `{ records: UsageRecord[] }` (each
 * element what a single `KeyUsageRecorded` event held before), in the service's event log (stream
 * `usage-<instance>`), so the outbox relay carries a batch to JetStream as one message
 * (`ekm.events.keys.KeyUsageBatchRecorded`) with no second delivery path. Consumers keep per-record
 * semantics: the audit trail gets one entry per record (source identity = event id + item index).
 * A batch is capped by bytes as well as by count, so its message stays far below NATS' max_payload.
 * Older logs hold single `KeyUsageRecorded` events; consumers read both.
 */
import type { EventStore, NewEvent } from '@ekm/event-store';
import { ExpectedVersion } from '@ekm/event-store';

/** What a usage record holds. Never key material, plaintext or blobs: context keys/values only. */
export interface UsageRecord {
  readonly requestId: string;
  readonly principal: string;
  readonly tenant?: string;
  readonly operation: string;
  readonly keyId?: string;
  readonly keyVersion?: number;
  readonly encryptionContext?: Readonly<Record<string, string>>;
  readonly outcome: 'ALLOWED' | 'DENIED' | 'FAILED';
  /** Error code when outcome is not ALLOWED. */
  readonly errorCode?: string;
  readonly reason?: string;
  readonly traceId?: string;
  /** The edge the request came through (`kms-api`); absent for bus callers. */
  readonly via?: string;
  /** Items in a batch operation. */
  readonly items?: number;
  readonly at: string;
}

/** The usage record could not be committed: the operation must not succeed (fail closed). */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
  readonly retriable = true;
  constructor() {
    super('usage record could not be committed; the operation was not performed');
  }
}

/** Postgres refused this one record's values; retrying it unchanged fails again. */
export class UsageRecordRefusedError extends Error {
  override readonly name = 'UsageRecordRefusedError';
  readonly retriable = false;
  constructor(readonly sqlState: string) {
    super(`the usage record holds a value the database refused (SQLSTATE ${sqlState}); the operation was not performed`);
  }
}

/** Errors caused by the rows' values (data exception, integrity violation, program limit), not by the database being away. */
const rowStateOf = (err: unknown): string | null => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code) ? code : null;
};

interface Pending {
  readonly record: UsageRecord;
  /** UTF-8 bytes of the record's JSON (the byte cap of a batch). */
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** The event type of one group commit, and the single-record type older logs hold. */
export const USAGE_BATCH_EVENT = 'KeyUsageBatchRecorded';
export const USAGE_RECORD_EVENT = 'KeyUsageRecorded';

/** The data of a `KeyUsageBatchRecorded` event. */
export interface UsageBatchData {
  readonly records: readonly UsageRecord[];
}

/** Default upper bound of a batch event's serialized records (NATS' default max_payload is 1 MiB). */
export const DEFAULT_MAX_BATCH_BYTES = 256 * 1024;

export interface UsageRecorderOptions {
  /** Stream that holds this process's records, e.g. `usage-<instanceId>`. */
  readonly streamId: string;
  /** Upper bound of records per transaction. */
  readonly maxBatch?: number;
  /** Batches sent to Postgres at once (default 3). */
  readonly maxInFlight?: number;
  /** Upper bound of a batch's serialized records in bytes (default 256 KiB); a larger single record goes alone. */
  readonly maxBatchBytes?: number;
}

export class UsageRecorder {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly maxBatchBytes: number;

  constructor(
    private readonly store: EventStore,
    private readonly options: UsageRecorderOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 512;
    this.maxInFlight = options.maxInFlight ?? 3;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  /** Resolves once the record is committed; rejects with AuditUnavailableError otherwise. */
  record(record: UsageRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, bytes: Buffer.byteLength(JSON.stringify(record), 'utf8'), resolve, reject });
      if (!this.scheduled && this.inFlight < this.maxInFlight) {
        this.scheduled = true;
        // setImmediate lets the requests already decoded in this I/O turn join the batch.
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Records still waiting for a commit (metrics, shutdown). */
  get pending(): number {
    return this.queue.length;
  }

  /** Sends batches while slots are free; each finished batch pumps again. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.takeCount());
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** Records of the next batch: at most maxBatch, and at most maxBatchBytes (at least one record). */
  private takeCount(): number {
    let n = 0;
    let bytes = 0;
    const max = Math.min(this.maxBatch, this.queue.length);
    while (n < max) {
      bytes += this.queue[n].bytes + 1;
      if (n > 0 && bytes > this.maxBatchBytes) break;
      n++;
    }
    return n;
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      await this.store.appendToStream(this.options.streamId, [toBatchEvent(batch.map((p) => p.record))], { expectedVersion: ExpectedVersion.any });
      for (const p of batch) p.resolve();
    } catch (cause) {
      const state = rowStateOf(cause);
      if (state === null) {
        const err = new AuditUnavailableError();
        for (const p of batch) p.reject(err);
        return;
      }
      if (batch.length === 1) {
        batch[0].reject(new UsageRecordRefusedError(state));
        return;
      }
      // Isolate the member at fault: the innocent halves commit on their own.
      const mid = Math.ceil(batch.length / 2);
      await this.commit(batch.slice(0, mid));
      await this.commit(batch.slice(mid));
    }
  }
}

/** One event for a group commit. Its metadata names the first record (each record carries its own principal, request id and time). */
function toBatchEvent(records: readonly UsageRecord[]): NewEvent {
  const first = records[0];
  const data: UsageBatchData = { records };
  return {
    type: USAGE_BATCH_EVENT,
    data,
    meta: { actor: first.principal, correlationId: first.requestId, now: first.at },
  };
}
