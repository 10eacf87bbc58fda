/**
 * Request bodies of the policy service (`ekm.v1.policy.*`), validated with zod through `parseRequest`:
 * errors name the field path (`document.statements[0].effect`) and the rule. Unknown fields are refused.
 * The SDK's input types are checked against these at compile time (libs/client/src/policy.types.ts).
 */
import { z } from 'zod';
import { streamVersion, tenantId, tenantOrWildcard } from '../fields';
import { NONCE_PATTERN, REQUEST_ID_PATTERN } from '../headers';
import { actionProblem } from '../policy/actions';
import { PolicyDocumentSchema } from '../policy/policy-document.schema';

/** Access key ids: `AKIA` and 16 upper-case base32 characters (AWS's shape, 20 characters). */
export const ACCESS_KEY_ID_PATTERN = /^AKIA[A-Z2-7]{16}$/;

const ID = /^[\x21-\x7e]{1,200}$/;
const principalRef = z.string().regex(ID, 'must be a principal id');
const tenant = tenantOrWildcard;
const role = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1..64 characters of A-Z a-z 0-9 _ . : -');
const policyId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1..64 characters of A-Z a-z 0-9 . _ - (not starting with . _ -)');
const stringMap = z.record(z.string().max(256), z.string().max(1024));
const revocationReason = (otherwise: string) => z.string().max(500).default(otherwise);

/**
 * `login` (the one subject without a session; docs/auth.md): an Ed25519 proof over
 * `ekm-login-v2\n<principalId>\n<credentialId>\n<timestamp>\n<nonce>\n<clientKey>`.
 */
export const LoginRequest = z.strictObject({
  principalId: z.string().min(1).max(200),
  credentialId: z.string().min(1).max(200),
  /** Milliseconds since the Unix epoch. */
  timestamp: z.number().int().nonnegative(),
  /** Fresh random base64url, 16..64 characters. */
  nonce: z.string().regex(NONCE_PATTERN, 'must be 16..64 characters of base64url'),
  /** The client's ephemeral X25519 public key (32 bytes, base64url) for the session key agreement. */
  clientKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be an X25519 public key (32 bytes of base64url, 43 characters)'),
  /** base64url Ed25519 signature of the login message. */
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'must be a base64url Ed25519 signature (86 characters)'),
});
export type LoginRequest = Readonly<z.output<typeof LoginRequest>>;

export const CreatePrincipalRequest = z.strictObject({
  tenant,
  roles: z.array(role).min(1).max(32),
  kind: z.enum(['service', 'person']).default('service'),
  name: z.string().max(200).default(''),
});
/** `get-principal`. */
export const PrincipalRefRequest = z.strictObject({ principalId: principalRef });
export const ListPrincipalsRequest = z.strictObject({ tenant: tenant.optional() });
export const RevokePrincipalRequest = z.strictObject({ principalId: principalRef, reason: revocationReason('revoked by an administrator') });
export const RotateCredentialRequest = z.strictObject({
  principalId: principalRef,
  /** How long the current credential stays valid beside the new one. Default 1 hour; at most 30 days. */
  graceSeconds: z.number().int().min(0).max(30 * 86_400).default(3600),
});
export const RevokeCredentialRequest = z.strictObject({
  principalId: principalRef,
  credentialId: z.string().regex(ID, 'must be a credential id'),
  reason: revocationReason('revoked by an administrator'),
});

export const PutPolicyRequest = z.strictObject({
  policyId,
  tenant,
  document: PolicyDocumentSchema,
  expectedVersion: streamVersion.optional(),
});
/** `get-policy`, `delete-policy`. */
export const PolicyRefRequest = z.strictObject({ policyId });
export const ListPoliciesRequest = z.strictObject({ tenant: tenant.optional() });

const resource = z.strictObject({
  keyId: z.string().max(256).optional(),
  tenant: tenantId.optional(),
  tags: stringMap.optional(),
  aliases: z.array(z.string().max(256)).max(100).optional(),
});
/** `decide`: a plain format check of the action (services ask it; a typo there is their bug and is denied). */
export const DecideRequest = z.strictObject({
  principalId: principalRef,
  action: z.string().regex(/^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9]{1,64}$/, 'must be <service>:<Operation>, e.g. keys:Decrypt'),
  resource,
  encryptionContext: stringMap.optional(),
});
/** Simulate names one real action (a typo would simulate a statement that can never apply). */
export const SimulateRequest = DecideRequest.extend({
  action: DecideRequest.shape.action.superRefine((a, ctx) => { const why = actionProblem(a, true); if (why) ctx.addIssue({ code: 'custom', message: why }); }),
  now: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 date-time').optional(),
});

// Access keys name principals by a narrower rule than the principal subjects (`[A-Za-z0-9._:-]`, 128).
const accessKeyPrincipal = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be a principal id');
const accessKeyId = z.string().regex(ACCESS_KEY_ID_PATTERN, 'must be an access key id (AKIA + 16 characters A-Z 2-7)');
export const CreateAccessKeyRequest = z.strictObject({ principalId: accessKeyPrincipal });
export const ListAccessKeysRequest = z.strictObject({ principalId: accessKeyPrincipal });
export const DeleteAccessKeyRequest = z.strictObject({ accessKeyId, reason: revocationReason('deleted by an administrator') });
/**
 * `access-key-login`: what the HTTPS edge received (access key id, credential scope, string to sign,
 * signature), never the secret, which only the policy service holds.
 */
export const SigV4LoginRequest = z.strictObject({
  accessKeyId: z.string().min(1).max(128),
  date: z.string().regex(/^\d{8}$/),
  region: z.string().regex(/^[a-z0-9-]{1,32}$/),
  service: z.string().regex(/^[a-z0-9-]{1,32}$/),
  stringToSign: z.string().max(1024),
  signature: z.string().regex(/^[0-9a-f]{64}$/),
  clientKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be an X25519 public key (32 bytes, base64url)'),
  requestId: z.string().regex(REQUEST_ID_PATTERN).optional(),
});
