/**
 * Types of the policy service's API as the SDK exposes them: the wire contract of `ekm.v1.policy.*`
 * (zod schemas in @ekm/contracts), inferred, never written again. Reply types are `z.infer` of the reply
 * schemas; input types are the request schemas' `z.input` (fields with a default are optional), read-only.
 * The names are the SDK's public ones since before the contracts moved; they are aliases now.
 */
import type { z } from 'zod';
import type {
  AccessKeyInfoReply, CreatePrincipalRequest, DecideRequest, DecisionReply, DeepReadonly, IssuedAccessKeyReply, IssuedCredentialReply, PolicyConditionInput,
  PolicyDocumentInput, PolicyInfoReply, PrincipalInfoReply, PutPolicyRequest, SimulateRequest, SimulationReply,
} from '@ekm/contracts';

/** A principal as administrators see it (no key material, no verifier). `tenant` `*` is operator scope. */
export type PrincipalInfo = PrincipalInfoReply;

/**
 * The credential file contents, shown ONCE: write it with mode 0600 and never log it. `privateKey`
 * (PKCS#8 DER Ed25519, base64) is SECRET; `serviceKey` is the service identity to pin.
 */
export type IssuedCredential = IssuedCredentialReply;

/** An AWS-style access key as administrators see it (never the secret). */
export type AccessKeyInfo = AccessKeyInfoReply;

/** A new access key, shown ONCE: `secretAccessKey` (40 characters, the `aws_secret_access_key`) is SECRET. */
export type IssuedAccessKey = IssuedAccessKeyReply;

/** Input of `createPrincipal`: tenant (`*` = operator scope), roles, kind (default `service`), display name. */
export type CreatePrincipalInput = DeepReadonly<z.input<typeof CreatePrincipalRequest>>;

/** A statement condition: on the encryption context (`equals`, `in`, `glob`, `present`) or on the time (`before`, `after`); docs/policy.md. */
export type PolicyCondition = DeepReadonly<PolicyConditionInput>;

/** A policy document (docs/policy.md): what `putPolicy` sends and every policy reply carries. */
export type PolicyDocument = DeepReadonly<PolicyDocumentInput>;

/** Input of `putPolicy`: `expectedVersion` makes the put conditional (`EKM_CONFLICT` when the policy moved on). */
export type PutPolicyInput = DeepReadonly<z.input<typeof PutPolicyRequest>>;

/** A stored policy: id, tenant, version, document. */
export type PolicyInfo = PolicyInfoReply;

/** What to decide: principal, action (`keys:<Operation>`, e.g. `keys:Decrypt`), resource (key or tenant) and encryption context. */
export type DecideInput = DeepReadonly<z.input<typeof DecideRequest>>;

/** Input of `simulate`: a decide input whose action is a real one, and `now` to evaluate time conditions at another time. */
export type SimulateInput = DeepReadonly<z.input<typeof SimulateRequest>>;

/** A decision: allowed or not, the deciding policy and statement if any, and the reason. */
export type DecisionResult = DecisionReply;

/** A decision with its evaluation trace (each statement and the first part that did not match). */
export type SimulationResult = SimulationReply;
