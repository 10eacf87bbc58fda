/**
 * Request bodies of the audit service (`ekm.v1.audit.*`), validated with zod through `parseRequest`.
 * Times are ISO-8601 strings; unknown fields are refused. The SDK's input types are checked against
 * these (libs/client/src/contract-conformance.ts).
 */
import { z } from 'zod';
import { tenantId } from '../fields';
import { integerBetween } from '../validation';
import { AUDIT_CATEGORIES, AUDIT_OUTCOMES } from '../replies/audit.replies';

const iso = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 time');
const text = z.string().min(1).max(256);
/** `_INBOX.x.y` or a custom inbox prefix such as `_INBOX_alice.x`: never an `ekm.` subject, no wildcards. */
export const PROGRESS_SUBJECT = /^_INBOX[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;

/** `query`: filters combine with AND; `from` inclusive, `to` exclusive; `cursor` is the previous page's `nextCursor`. */
export const AuditQueryRequest = z.strictObject({
  keyId: text.optional(),
  principal: text.optional(),
  tenant: tenantId.optional(),
  action: text.optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  category: z.enum(AUDIT_CATEGORIES).optional(),
  from: iso.optional(),
  to: iso.optional(),
  cursor: integerBetween(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: integerBetween(1, 1000).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});

export const AuditVerifyRequest = z.strictObject({
  /**
   * The caller's inbox subject for `{done,total}` progress messages (the CLI's progress bar). Only an
   * inbox: a service subject here would let any caller publish onto it as the audit service (the SIEM
   * checkpoint subject included). The controller also requires the inbox prefix of the request's reply.
   */
  progressSubject: z.string().max(256).regex(PROGRESS_SUBJECT, 'must be an inbox subject (_INBOX.<token>...)').optional(),
});

/** `destruction-receipt`: the signed receipt of a destroyed key. */
export const DestructionReceiptRequest = z.strictObject({ keyId: text });

/** `report`: the signed usage report over [from, to). */
export const AuditReportRequest = z.strictObject({
  from: iso,
  to: iso,
  tenant: tenantId.optional(),
  keyId: text.optional(),
});
