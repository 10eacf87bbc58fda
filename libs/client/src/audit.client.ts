/**
 * Typed API of the audit service (`ekm.v1.audit.*`): trail queries, verification and signed
 * key-usage reports. Every call can fail with `EKM_TIMEOUT`, `EKM_UNAVAILABLE` (retried),
 * `EKM_VALIDATION` and `EKM_UNAUTHENTICATED`.
 */
import type {
  AUDIT_CATEGORIES, AUDIT_OUTCOMES, AuditEntryReply, AuditPageReply, AuditVerifyReply, SignedUsageReportReply, UsageReportRowReply,
} from '@ekm/contracts';
import type { CallOptions } from './ekm-client';
import type { Caller } from './keys.client';
import type { SignedDestructionReceipt } from './destruction-receipt';
import { send, type RequestBody } from './wire-contract';

/** One normalized trail entry (docs/siem.md has the full schema). `hash` is hex h_i. */
export type AuditEntry = AuditEntryReply;
/** Trail entry categories; `quarantine` marks a stand-in for a record the trail could not store as is. */
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Filters of {@link AuditClient.query}; times are ISO-8601 (`from` inclusive, `to` exclusive). */
export interface AuditQueryInput {
  readonly keyId?: string;
  readonly principal?: string;
  readonly tenant?: string;
  readonly action?: string;
  readonly outcome?: AuditOutcome;
  readonly category?: AuditCategory;
  readonly from?: string;
  readonly to?: string;
  /** Leaf index to continue after: the previous page's `nextCursor`. */
  readonly cursor?: number;
  /** 1..1000, default 100. */
  readonly limit?: number;
  readonly order?: 'asc' | 'desc';
}

/** Input of {@link AuditClient.verify}: the optional inbox for `{done,total}` progress messages. */
export type AuditVerifyInput = RequestBody<'audit', 'verify'>;
/** Input of {@link AuditClient.report}: the window [from, to) (ISO-8601) and optional tenant / key filters. */
export type AuditReportInput = RequestBody<'audit', 'report'>;

/** One page of `query` results; pass `nextCursor` as `cursor` for the next page (`null` = last page). */
export type AuditPage = AuditPageReply;

/**
 * Result of {@link AuditClient.verify}: `firstBadIndex` names the first entry that fails; `published`
 * counts the checkpoints trusted from outside Postgres (EKM_AUDIT and the witness file).
 */
export type AuditVerifyResult = AuditVerifyReply;

/** One row of a usage report: a key version's operations on one data asset, with the first and last time. */
export type UsageReportRow = UsageReportRowReply;

/** A key-usage report; `signature` is Ed25519 (base64) over the UTF-8 `payload` (canonical JSON of `report`). */
export type SignedUsageReport = SignedUsageReportReply;

/** Client of the audit service (`ekm.v1.audit.*`): query, verify and signed usage reports. Errors: `EkmError` (`EKM_VALIDATION`, `EKM_UNAUTHENTICATED`, `EKM_FORBIDDEN`, `EKM_UNAVAILABLE`, `EKM_TIMEOUT`). */
export class AuditClient {
  constructor(private readonly caller: Caller) {}

  /** One page of trail entries matching the filters, in leaf order. Not idempotency-sensitive (read only). */
  query(input: AuditQueryInput = {}, opts?: CallOptions): Promise<AuditPage> {
    return send(this.caller, 'audit', 'query', input, opts);
  }

  /**
   * Recomputes the hash chain and checks every signed checkpoint, trusting the ones published on
   * EKM_AUDIT over database rows. With `progressSubject` (an inbox under the same prefix as this
   * connection's replies, e.g. from `createInbox()`; anything else is `EKM_VALIDATION`), the service
   * publishes `{done,total}` there while it runs. Large trails take seconds: pass a long `timeoutMs`.
   */
  verify(input: AuditVerifyInput = {}, opts?: CallOptions): Promise<AuditVerifyResult> {
    return send(this.caller, 'audit', 'verify', input, { maxAttempts: 1, ...opts });
  }

  /**
   * The signed destruction receipt of a destroyed key (check it offline with verifyDestructionReceipt).
   * Errors: `EKM_NOT_FOUND` (not destroyed), `EKM_UNAVAILABLE` (the epoch roll after the destroy is not in the trail yet; retried).
   */
  destructionReceipt(keyId: string, opts?: CallOptions): Promise<SignedDestructionReceipt> {
    return send(this.caller, 'audit', 'destruction-receipt', { keyId }, opts);
  }

  /** Signed report of which keys/versions protected which data assets in [from, to). */
  report(input: AuditReportInput, opts?: CallOptions): Promise<SignedUsageReport> {
    return send(this.caller, 'audit', 'report', input, opts);
  }
}
