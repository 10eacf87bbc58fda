/** Validation of a policy document (the schema lives in @ekm/contracts: requests and replies carry documents). */
import { PolicyDocumentSchema, validate, type ValidationIssue } from '@ekm/contracts';
import type { PolicyDocument } from './policy.types';

export type ParsedPolicy = { ok: true; document: PolicyDocument } | { ok: false; issues: ValidationIssue[] };

/** Validates a policy document; issue paths are relative to the document (`statements[0].effect`). */
export function parsePolicyDocument(input: unknown): ParsedPolicy {
  const r = validate(PolicyDocumentSchema, input);
  return r.ok ? { ok: true, document: r.value as PolicyDocument } : { ok: false, issues: r.issues };
}
