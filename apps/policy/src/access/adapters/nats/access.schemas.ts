/** zod schemas of the policy service's requests (errors name the field path: `document.statements[0].effect`). */
import { z } from 'zod';
import { PolicyDocumentSchema, actionProblem } from '@ekm/policy-engine';
import { streamVersion, tenantId, tenantOrWildcard } from '@ekm/contracts';

const ID = /^[\x21-\x7e]{1,200}$/;
export const tenant = tenantOrWildcard;
const role = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1..64 characters of A-Z a-z 0-9 _ . : -');
const policyId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1..64 characters of A-Z a-z 0-9 . _ - (not starting with . _ -)');
const stringMap = z.record(z.string().max(256), z.string().max(1024));

export const CreatePrincipalRequest = z.strictObject({
  tenant,
  roles: z.array(role).min(1).max(32),
  kind: z.enum(['service', 'person']).default('service'),
  name: z.string().max(200).default(''),
});
export const PrincipalRefRequest = z.strictObject({ principalId: z.string().regex(ID, 'must be a principal id') });
export const ListPrincipalsRequest = z.strictObject({ tenant: tenant.optional() });
export const RevokePrincipalRequest = z.strictObject({ principalId: z.string().regex(ID, 'must be a principal id'), reason: z.string().max(500).default('revoked by an administrator') });
export const RotateCredentialRequest = z.strictObject({
  principalId: z.string().regex(ID, 'must be a principal id'),
  /** How long the current credential stays valid beside the new one. Default 1 hour; at most 30 days. */
  graceSeconds: z.number().int().min(0).max(30 * 86_400).default(3600),
});
export const RevokeCredentialRequest = z.strictObject({
  principalId: z.string().regex(ID, 'must be a principal id'),
  credentialId: z.string().regex(ID, 'must be a credential id'),
  reason: z.string().max(500).default('revoked by an administrator'),
});

export const PutPolicyRequest = z.strictObject({
  policyId,
  tenant,
  document: PolicyDocumentSchema,
  expectedVersion: streamVersion.optional(),
});
export const PolicyRefRequest = z.strictObject({ policyId });
export const ListPoliciesRequest = z.strictObject({ tenant: tenant.optional() });

const resource = z.strictObject({
  keyId: z.string().max(256).optional(),
  tenant: tenantId.optional(),
  tags: stringMap.optional(),
  aliases: z.array(z.string().max(256)).max(100).optional(),
});
export const DecideRequest = z.strictObject({
  principalId: z.string().regex(ID, 'must be a principal id'),
  action: z.string().regex(/^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9]{1,64}$/, 'must be <service>:<Operation>, e.g. keys:Decrypt'),
  resource,
  encryptionContext: stringMap.optional(),
});
/** Simulate names one real action (a typo would simulate a statement that can never apply). */
export const SimulateRequest = DecideRequest.extend({
  action: DecideRequest.shape.action.superRefine((a, ctx) => { const why = actionProblem(a, true); if (why) ctx.addIssue({ code: 'custom', message: why }); }),
  now: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 date-time').optional(),
});
