/** Request bodies of `ekm.v1.audit.*` (zod). Times are ISO-8601 strings. */
import { z } from 'zod';
import { integerBetween } from '@ekm/contracts';
import { AUDIT_CATEGORIES, AUDIT_OUTCOMES } from '../../domain/audit-entry';

const iso = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 time');
const text = z.string().min(1).max(256);

export const QueryRequest = z.strictObject({
  keyId: text.optional(),
  principal: text.optional(),
  tenant: text.optional(),
  action: text.optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  category: z.enum(AUDIT_CATEGORIES).optional(),
  from: iso.optional(),
  to: iso.optional(),
  cursor: integerBetween(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: integerBetween(1, 1000).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});

export const VerifyRequest = z.strictObject({
  /** The caller's inbox subject for `{done,total}` progress messages (the CLI's progress bar). */
  progressSubject: z.string().regex(/^_INBOX[A-Za-z0-9_.-]*$|^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a plain subject').max(256).optional(),
});

/** `destruction-receipt`: the signed receipt of a destroyed key. */
export const ReceiptRequest = z.strictObject({ keyId: text });

export const ReportRequest = z.strictObject({
  from: iso,
  to: iso,
  tenant: text.optional(),
  keyId: text.optional(),
});
