/**
 * Typed API of the audit service (`ekm.v1.audit.*`): trail queries, verification and signed
 * key-usage reports. Every call can fail with `EKM_TIMEOUT`, `EKM_UNAVAILABLE` (retried),
 * `EKM_VALIDATION` and `EKM_UNAUTHENTICATED`.
 */
import type { CallOptions } from './ekm-client';
import type { Caller } from './keys.client';
import type { SignedDestructionReceipt } from './destruction-receipt';

/** One normalized trail entry (docs/siem.md has the full schema). `hash` is hex h_i. */
export interface AuditEntry {
  readonly schema: 'ekm.audit.v1';
  readonly leafIndex: number;
  readonly time: string;
  readonly timeMs: number;
  readonly category: string;
  readonly action: string;
  readonly outcome: 'success' | 'denied' | 'failure';
  readonly reason?: string;
  readonly errorCode?: string;
  readonly actor: { readonly principal: string };
  readonly resource?: { readonly type: string; readonly id: string };
  readonly tenant?: string;
  readonly keyId?: string;
  readonly keyVersion?: number;
  readonly encryptionContext?: Readonly<Record<string, string>>;
  readonly request?: { readonly id?: string; readonly traceId?: string; readonly items?: number };
  readonly details?: unknown;
  readonly source: { readonly service: string; readonly eventId: string; readonly eventType: string; readonly streamId: string; readonly streamPosition: number; readonly globalPosition: string };
  readonly hash?: string;
}

/** Filters of {@link AuditClient.query}; times are ISO-8601 (`from` inclusive, `to` exclusive). */
export interface AuditQueryInput {
  readonly keyId?: string;
  readonly principal?: string;
  readonly tenant?: string;
  readonly action?: string;
  readonly outcome?: 'success' | 'denied' | 'failure';
  readonly category?: string;
  readonly from?: string;
  readonly to?: string;
  /** Leaf index to continue after: the previous page's `nextCursor`. */
  readonly cursor?: number;
  /** 1..1000, default 100. */
  readonly limit?: number;
  readonly order?: 'asc' | 'desc';
}

/** One page of `query` results; pass `nextCursor` as `cursor` for the next page (`null` = last page). */
export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  readonly nextCursor: number | null;
}

/** Result of {@link AuditClient.verify}: `firstBadIndex` names the first entry that fails. */
export interface AuditVerifyResult {
  readonly ok: boolean;
  readonly entries: number;
  readonly firstBadIndex: number | null;
  readonly reason: string;
  readonly checkpoints: number;
  readonly signedThrough: number;
  /**
   * The checkpoints verify trusted from outside Postgres: those published on EKM_AUDIT (and in the
   * witness file), the largest tree size they cover, and messages on the checkpoint subject that were
   * not signed by the audit service (ignored).
   */
  readonly published?: { readonly checkpoints: number; readonly signedThrough: number; readonly rejected: number; readonly witness: number };
  /** Trail entries that are quarantined stand-ins for records the trail could not store as is. */
  readonly quarantined?: number;
  /** Null while the audit service's signer trusts the trail head; otherwise why it stopped signing. */
  readonly signerDistrust?: string | null;
}

/** One row of a usage report: a key version's operations on one data asset, with the first and last time. */
export interface UsageReportRow {
  readonly keyId: string;
  readonly keyVersion: number | null;
  readonly tenant: string | null;
  readonly collection: string | null;
  readonly asset: string | null;
  readonly operations: number;
  readonly firstAt: string;
  readonly lastAt: string;
}

/** A key-usage report; `signature` is Ed25519 (base64) over the UTF-8 `payload` (canonical JSON of `report`). */
export interface SignedUsageReport {
  readonly report: { readonly v: 1; readonly from: string; readonly to: string; readonly generatedAt: string; readonly trail: { readonly treeSize: number; readonly root: string }; readonly rows: readonly UsageReportRow[] };
  readonly payload: string;
  readonly signature: string;
  readonly publicKey: string;
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
}

/** Client of the audit service (`ekm.v1.audit.*`): query, verify and signed usage reports. Errors: `EkmError` (`EKM_VALIDATION`, `EKM_UNAUTHENTICATED`, `EKM_FORBIDDEN`, `EKM_UNAVAILABLE`, `EKM_TIMEOUT`). */
export class AuditClient {
  constructor(private readonly caller: Caller) {}

  /** One page of trail entries matching the filters, in leaf order. Not idempotency-sensitive (read only). */
  query(input: AuditQueryInput = {}, opts?: CallOptions): Promise<AuditPage> {
    return this.caller.call('audit', 'query', input, opts);
  }

  /**
   * Recomputes the hash chain and checks every signed checkpoint, trusting the ones published on
   * EKM_AUDIT over database rows. With `progressSubject` (an inbox under the same prefix as this
   * connection's replies, e.g. from `createInbox()`; anything else is `EKM_VALIDATION`), the service
   * publishes `{done,total}` there while it runs. Large trails take seconds: pass a long `timeoutMs`.
   */
  verify(input: { progressSubject?: string } = {}, opts?: CallOptions): Promise<AuditVerifyResult> {
    return this.caller.call('audit', 'verify', input, { maxAttempts: 1, ...opts });
  }

  /**
   * The signed destruction receipt of a destroyed key (check it offline with verifyDestructionReceipt).
   * Errors: `EKM_NOT_FOUND` (not destroyed), `EKM_UNAVAILABLE` (the epoch roll after the destroy is not in the trail yet; retried).
   */
  destructionReceipt(keyId: string, opts?: CallOptions): Promise<SignedDestructionReceipt> {
    return this.caller.call('audit', 'destruction-receipt', { keyId }, opts);
  }

  /** Signed report of which keys/versions protected which data assets in [from, to). */
  report(input: { from: string; to: string; tenant?: string; keyId?: string }, opts?: CallOptions): Promise<SignedUsageReport> {
    return this.caller.call('audit', 'report', input, opts);
  }
}
