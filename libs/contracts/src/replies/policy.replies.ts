/**
 * Reply bodies (the `data` of `{ok:true,data}`) of the policy service's subjects, as zod schemas, derived
 * from what its handlers return (apps/policy/src/access{,-keys}/). The service's handler return types, the
 * SDK's types and @ekm/auth's login reply are inferred from these: one definition.
 *
 * Three replies carry a secret, once, to the caller's inbox only: the credential's `privateKey`
 * (`create-principal`, `rotate-credential`), the access key's `secretAccessKey` (`create-access-key`)
 * and the session token of a login (a bearer credential until `expiresAt`). Never log those replies.
 */
import { z } from 'zod';
import { PolicyDocumentSchema } from '../policy/policy-document.schema';
import type { DeepReadonly } from '../reply';

const isoTime = z.string().min(1);
const id = z.string().min(1);
/** `*` is operator scope. */
const tenantOrStar = z.string().min(1);
const PRINCIPAL_STATUSES = ['Active', 'Revoked'] as const;


/** `login` and `access-key-login`: a session, signed by the service identity (docs/auth.md §3). */
export const LoginReply = z.object({
  /** Opaque: send it verbatim as `Ekm-Session`. A bearer credential until `expiresAt`: never log it. */
  sessionToken: z.string().min(1),
  /** The service's ephemeral X25519 public key (32 bytes, base64url): the client derives the session key from it. */
  serverKey: z.string().min(1),
  /** base64url Ed25519 signature by the service identity over the login reply message; verify it under the pinned `serviceKey`. */
  serviceSignature: z.string().min(1),
  sessionId: id,
  principalId: id,
  tenant: tenantOrStar,
  roles: z.array(z.string()).readonly(),
  /** ISO-8601; log in again before this. */
  expiresAt: isoTime,
}).strict().readonly();

/** A credential as administrators see it: ids and dates, no verifier. `validUntil` is set once rotated out. */
export const CredentialInfoReply = z.object({
  credentialId: id,
  issuedAt: isoTime,
  status: z.enum(PRINCIPAL_STATUSES),
  validUntil: isoTime.nullable(),
}).strict().readonly();

/** `get-principal`, `revoke-principal`, `revoke-credential`: a principal, no key material, no verifier. */
export const PrincipalInfoReply = z.object({
  principalId: id,
  tenant: tenantOrStar,
  roles: z.array(z.string()).readonly(),
  kind: z.enum(['service', 'person']),
  name: z.string(),
  status: z.enum(PRINCIPAL_STATUSES),
  createdAt: isoTime,
  credentials: z.array(CredentialInfoReply).readonly(),
}).strict().readonly();

export const PrincipalListReply = z.object({ principals: z.array(PrincipalInfoReply).readonly() }).strict().readonly();

/** The credential file contents, shown ONCE (write it with mode 0600). */
export const IssuedCredentialReply = z.object({
  principalId: id,
  credentialId: id,
  /** PKCS#8 DER Ed25519 private key, base64. SECRET: in this reply only, never in events or logs. */
  privateKey: z.string().min(1),
  /** The service identity to pin (raw Ed25519 public key, base64url); absent when auth is disabled. */
  serviceKey: z.string().min(1).optional(),
}).strict().readonly();

/** `create-principal`, `rotate-credential`: the principal and its new credential (SECRET, once). */
export const PrincipalWithCredentialReply = z.object({ principal: PrincipalInfoReply, credential: IssuedCredentialReply }).strict().readonly();

/** `put-policy`, `get-policy`: a stored policy (the document as `put-policy` validated it). */
export const PolicyInfoReply = z.object({
  policyId: id,
  /** Owning tenant, or `*` (an operator policy). */
  tenant: tenantOrStar,
  version: z.number().int().positive(),
  document: PolicyDocumentSchema,
}).strict().readonly();

export const PolicyListReply = z.object({ policies: z.array(PolicyInfoReply).readonly() }).strict().readonly();

/** `delete-policy`: the version of the deletion event (0 when there was nothing left to delete). */
export const PolicyDeletedReply = z.object({ policyId: id, version: z.number().int().nonnegative() }).strict().readonly();

const decision = {
  allowed: z.boolean(),
  /** The deciding policy and statement; absent for default deny and built-in guards. */
  policyId: id.optional(),
  statementId: id.optional(),
  reason: z.string().min(1),
};

/** `decide`: a denial is a normal reply (`allowed: false`), not an error. */
export const DecisionReply = z.object(decision).strict().readonly();

/** `simulate`: the decision, the built-in guard that decided if one did, and each statement's outcome. */
export const SimulationReply = z.object({
  ...decision,
  guard: z.enum(['principal-revoked', 'tenant-isolation', 'tenant-missing']).optional(),
  trace: z.array(z.object({
    policyId: id,
    statementId: id,
    effect: z.enum(['allow', 'deny']),
    /** `matched`, or the first part that did not match. */
    outcome: z.union([z.enum(['matched', 'principal', 'action', 'resource']), z.string().regex(/^condition\[\d+\]$/, 'must be condition[<index>]')]),
  }).strict().readonly()).readonly(),
}).strict().readonly();

/** `list-access-keys`, `delete-access-key`: an AWS-style access key as administrators see it (never the secret). */
const accessKeyInfo = {
  /** `AKIA` + 16 characters: the `aws_access_key_id`. */
  accessKeyId: id,
  principalId: id,
  tenant: tenantOrStar,
  status: z.enum(['Active', 'Deleted']),
  createdAt: isoTime,
  deletedAt: isoTime.nullable(),
};
export const AccessKeyInfoReply = z.object(accessKeyInfo).strict().readonly();

export const AccessKeyListReply = z.object({ accessKeys: z.array(AccessKeyInfoReply).readonly() }).strict().readonly();

/** `create-access-key`: the key, shown ONCE. */
export const IssuedAccessKeyReply = z.object({
  ...accessKeyInfo,
  /** 40 characters, the `aws_secret_access_key`. SECRET: in this reply only; stored only wrapped. */
  secretAccessKey: z.string().min(1),
}).strict().readonly();

export type LoginReply = z.infer<typeof LoginReply>;
export type CredentialInfoReply = z.infer<typeof CredentialInfoReply>;
export type PrincipalInfoReply = z.infer<typeof PrincipalInfoReply>;
export type PrincipalListReply = z.infer<typeof PrincipalListReply>;
export type IssuedCredentialReply = z.infer<typeof IssuedCredentialReply>;
export type PrincipalWithCredentialReply = z.infer<typeof PrincipalWithCredentialReply>;
// Deeply read-only: the document schema is shared with `put-policy`, whose parsed output is mutable.
export type PolicyInfoReply = DeepReadonly<z.infer<typeof PolicyInfoReply>>;
export type PolicyListReply = DeepReadonly<z.infer<typeof PolicyListReply>>;
export type PolicyDeletedReply = z.infer<typeof PolicyDeletedReply>;
export type DecisionReply = z.infer<typeof DecisionReply>;
export type SimulationReply = z.infer<typeof SimulationReply>;
export type AccessKeyInfoReply = z.infer<typeof AccessKeyInfoReply>;
export type AccessKeyListReply = z.infer<typeof AccessKeyListReply>;
export type IssuedAccessKeyReply = z.infer<typeof IssuedAccessKeyReply>;
