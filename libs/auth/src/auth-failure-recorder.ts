/**
 * Refusals as events in the service's own event log; the outbox relay carries them to the audit
 * service like any event. Two kinds: `AuthenticationFailed` (the transport refused the request, or a
 * login failed) and `AccessDenied` (authenticated, but the handler refused: another tenant's data, an
 * operator-only call, a request that failed validation).
 *
 * Group-committed: while one batch commits the next accumulates, so a flood of bad requests costs one
 * INSERT per batch. The refusal is replied without waiting for the commit (a refusal is not an operation
 * that must be fail-closed). A flood must not fill the trail either: each claimed principal gets at most
 * `perKeyPerMinute` records per minute and the whole process `globalPerMinute`; what is over is counted,
 * and the next record admitted for that principal carries `suppressed: n` (so the trail still says how
 * many were refused). Beyond `maxPending` queued records further ones are dropped and logged.
 */
import { ExpectedVersion, type EventStore } from '@ekm/event-store';
import type { Logger } from '@ekm/telemetry';
import type { AuthFailureReason } from './auth.types';

/** Data of an `AuthenticationFailed` event. Never a token, signature, key or body. */
export interface AuthenticationFailedData {
  readonly subject: string;
  /** Principal named by the (possibly forged) session or login; absent when the token did not open. */
  readonly principalClaimed?: string;
  readonly reason: AuthFailureReason;
  /** Caller's request id when it sent a well-formed one. */
  readonly requestId?: string;
  /** NATS client name, when known. */
  readonly remoteClient?: string;
  /** AWS-style access key id of a refused SigV4 request (not a secret). */
  readonly accessKeyId?: string;
  /** The edge the refused request came through (`kms-api`). */
  readonly via?: string;
  readonly service: string;
  readonly at: string;
  /** Refusals of this principal left out of the trail since the previous record (rate limit). */
  readonly suppressed?: number;
}

/** Data of an `AccessDenied` event: who, which tenant they named, which operation, and why. */
export interface AccessDeniedData {
  readonly principal: string;
  /** The caller's own tenant (`*` = operator scope). */
  readonly principalTenant: string;
  /** The tenant the request named or touched (absent when it named none). */
  readonly tenant?: string;
  /** PascalCase operation, e.g. `PutPolicy`, `AuditQuery`. */
  readonly operation: string;
  readonly errorCode: string;
  readonly reason: string;
  readonly requestId?: string;
  readonly service: string;
  readonly at: string;
  readonly suppressed?: number;
}

export const AUTHENTICATION_FAILED = 'AuthenticationFailed';
export const ACCESS_DENIED = 'AccessDenied';

export interface RefusalRecorderOptions {
  readonly maxPending?: number;
  readonly maxBatch?: number;
  /** Records per claimed principal per minute (default 60). */
  readonly perKeyPerMinute?: number;
  /** Records per process per minute (default 1,200). */
  readonly globalPerMinute?: number;
  readonly clock?: () => number;
  /** Tries per batch before it is given up (default 4: about 1.4 s of backoff). */
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
}

interface Queued { readonly type: string; readonly data: object; readonly actor: string; readonly at: string; readonly requestId?: string }

const WINDOW_MS = 60_000;

export class RefusalRecorder {
  private queue: Queued[] = [];
  private flushing: Promise<void> | null = null;
  private dropped = 0;
  private windowStart = 0;
  private inWindow = 0;
  private perKey = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(private readonly store: EventStore, readonly streamId: string, private readonly logger?: Logger, private readonly o: RefusalRecorderOptions = {}) {}

  /** Queues one refusal; false when it was rate-limited or dropped (counted, not recorded). */
  record(type: string, data: object & { readonly at: string; readonly requestId?: string }, actor: string): boolean {
    const now = (this.o.clock ?? Date.now)();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.inWindow = 0;
      this.perKey = new Map();
    }
    const mine = this.perKey.get(actor) ?? 0;
    const full = this.queue.length >= (this.o.maxPending ?? 10_000);
    if (full || mine >= (this.o.perKeyPerMinute ?? 60) || this.inWindow >= (this.o.globalPerMinute ?? 1_200)) {
      if (full) this.dropped++;
      // Bounded: at most one counter per actor seen this window, and the map is cleared when it grows large.
      if (this.suppressed.size > 10_000) this.suppressed.clear();
      this.suppressed.set(actor, (this.suppressed.get(actor) ?? 0) + 1);
      return false;
    }
    this.perKey.set(actor, mine + 1);
    this.inWindow++;
    const skipped = this.suppressed.get(actor);
    this.suppressed.delete(actor);
    this.queue.push({ type, data: skipped ? { ...data, suppressed: skipped } : data, actor, at: data.at, ...(data.requestId ? { requestId: data.requestId } : {}) });
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushLoop());
    return true;
  }

  /** Resolves when everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.o.maxBatch ?? 500);
      const events = batch.map((q) => ({
        type: q.type, data: q.data as Record<string, unknown>, meta: { actor: q.actor, now: q.at, ...(q.requestId ? { correlationId: q.requestId } : {}) },
      }));
      // A busy or restarting Postgres (a pool wait past the query timeout) must not lose the record:
      // the batch is retried with backoff, and given up (logged with its size) only after the last try.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.store.appendToStream(this.streamId, events, { expectedVersion: ExpectedVersion.any });
          break;
        } catch (err) {
          const last = attempt >= (this.o.maxAttempts ?? 4);
          this.logger?.[last ? 'error' : 'warn']({ records: batch.length, attempt, err: err instanceof Error ? err.message : String(err) }, last ? 'refusals could not be recorded' : 'refusals not recorded yet: retrying');
          if (last) break;
          await new Promise((r) => setTimeout(r, (this.o.retryBaseMs ?? 200) * 2 ** (attempt - 1)).unref());
        }
      }
    }
    if (this.dropped > 0) {
      this.logger?.warn({ dropped: this.dropped }, 'refusals dropped: recorder queue full');
      this.dropped = 0;
    }
    this.flushing = null;
  }
}

/** The transport's recorder of `AuthenticationFailed` (stream `auth-failures-<instance>`). */
export class AuthFailureRecorder {
  private readonly inner: RefusalRecorder;

  constructor(store: EventStore, readonly streamId: string, logger?: Logger, opts: RefusalRecorderOptions = {}) {
    this.inner = new RefusalRecorder(store, streamId, logger, opts);
  }

  record(data: AuthenticationFailedData): boolean {
    return this.inner.record(AUTHENTICATION_FAILED, data, data.principalClaimed ?? 'unauthenticated');
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }
}
