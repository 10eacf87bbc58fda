/**
 * Records each refused request as an `AuthenticationFailed` event in the service's own event log
 * (stream `auth-failures-<instance>`); the outbox relay carries it to the audit service like any event.
 * Group-committed: while one batch commits the next accumulates, so a flood of bad requests costs one
 * INSERT per batch. The refusal is replied without waiting for the commit (a refusal is not an operation
 * that must be fail-closed); when more than `maxPending` records wait, further ones are counted and
 * dropped rather than growing memory without bound, and the drop is logged.
 */
import { ExpectedVersion, type EventStore } from '@ekm/event-store';
import type { Logger } from '@ekm/telemetry';
import type { AuthFailureReason } from './auth.types';

/** Data of an `AuthenticationFailed` event. Never a token, signature, key or body. */
export interface AuthenticationFailedData {
  readonly subject: string;
  /** Principal named by the (possibly forged) session; absent when the token did not open. */
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
}

export const AUTHENTICATION_FAILED = 'AuthenticationFailed';

export class AuthFailureRecorder {
  private queue: AuthenticationFailedData[] = [];
  private flushing: Promise<void> | null = null;
  private dropped = 0;

  constructor(
    private readonly store: EventStore,
    readonly streamId: string,
    private readonly logger?: Logger,
    private readonly maxPending = 10_000,
    private readonly maxBatch = 500,
  ) {}

  record(data: AuthenticationFailedData): void {
    if (this.queue.length >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.queue.push(data);
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushLoop());
  }

  /** Resolves when everything queued so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.store.appendToStream(this.streamId, batch.map((d) => ({
          type: AUTHENTICATION_FAILED, data: d, meta: { actor: d.principalClaimed ?? 'unauthenticated', now: d.at, ...(d.requestId ? { correlationId: d.requestId } : {}) },
        })), { expectedVersion: ExpectedVersion.any });
      } catch (err) {
        this.logger?.error({ records: batch.length, err: err instanceof Error ? err.message : String(err) }, 'authentication failures could not be recorded');
      }
    }
    if (this.dropped > 0) {
      this.logger?.warn({ dropped: this.dropped }, 'authentication failures dropped: recorder queue full');
      this.dropped = 0;
    }
    this.flushing = null;
  }
}
