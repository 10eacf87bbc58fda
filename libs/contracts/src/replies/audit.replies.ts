/**
 * Reply bodies (the `data` of `{ok:true,data}`) of the audit service's subjects, as zod schemas, and
 * the category / outcome vocabularies its entries and query filters share.
 */

/** `quarantine`: a record the trail could not store as is (apps/audit application/quarantine.ts). */
export const AUDIT_CATEGORIES = ['key_usage', 'key_lifecycle', 'authentication', 'policy', 'rotation', 'other', 'quarantine'] as const;
export const AUDIT_OUTCOMES = ['success', 'denied', 'failure'] as const;
