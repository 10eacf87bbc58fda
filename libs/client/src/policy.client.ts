/**
 * Typed API of the policy service (`ekm.v1.policy.*`): principals, credentials, policies, decisions.
 * Administration needs role `admin` in the target tenant (or operator scope `*`); other callers get
 * `EKM_FORBIDDEN`. Every call can also fail with `EKM_TIMEOUT`, `EKM_UNAVAILABLE` (retried
 * automatically), `EKM_UNAUTHENTICATED` and `EKM_VALIDATION` (the message names the field path).
 */
import type { z } from 'zod';
import type {
  AccessKeyListReply, CreateAccessKeyRequest, DeleteAccessKeyRequest, ListAccessKeysRequest, ListPoliciesRequest, ListPrincipalsRequest, PolicyDeletedReply,
  PolicyListReply, PolicyRefRequest, PrincipalListReply, PrincipalRefRequest, PrincipalWithCredentialReply, RevokeCredentialRequest, RevokePrincipalRequest,
  RotateCredentialRequest,
} from '@ekm/contracts';
import type { Caller } from './keys.client';
import type { CallOptions } from './ekm-client';
import type {
  AccessKeyInfo, CreatePrincipalInput, DecideInput, DecisionResult, IssuedAccessKey, PolicyInfo, PrincipalInfo, PutPolicyInput, SimulateInput, SimulationResult,
} from './policy.types';

export type {
  AccessKeyInfo, CreatePrincipalInput, DecideInput, DecisionResult, IssuedAccessKey, IssuedCredential, PolicyCondition, PolicyDocument, PolicyInfo, PrincipalInfo,
  PutPolicyInput, SimulateInput, SimulationResult,
} from './policy.types';

/** A request body as its schema accepts it: `satisfies Body<...>` fails the typecheck when a body and its schema drift. */
type Body<S extends z.ZodType> = z.input<S>;

/** Client of the policy service (`ekm.v1.policy.*`): principals, credentials, policies, decide and simulate. Errors: `EkmError` (`EKM_VALIDATION`, `EKM_NOT_FOUND`, `EKM_CONFLICT`, `EKM_FORBIDDEN`, `EKM_UNAUTHENTICATED`, `EKM_UNAVAILABLE`, `EKM_TIMEOUT`). */
export class PolicyClient {
  constructor(private readonly caller: Caller) {}

  /** Creates a principal and returns its first credential (once). Errors: `EKM_FORBIDDEN`, `EKM_CONFLICT` (request id reused). */
  createPrincipal(input: CreatePrincipalInput, opts?: CallOptions): Promise<PrincipalWithCredentialReply> {
    return this.caller.call('policy', 'create-principal', input, opts);
  }

  /** Principals the caller may administer (optionally of one tenant). */
  async listPrincipals(tenant?: string, opts?: CallOptions): Promise<PrincipalInfo[]> {
    return [...(await this.caller.call<PrincipalListReply>('policy', 'list-principals', (tenant === undefined ? {} : { tenant }) satisfies Body<typeof ListPrincipalsRequest>, opts)).principals];
  }

  /** Errors: `EKM_NOT_FOUND` (also for principals of other tenants). */
  getPrincipal(principalId: string, opts?: CallOptions): Promise<PrincipalInfo> {
    return this.caller.call('policy', 'get-principal', { principalId } satisfies Body<typeof PrincipalRefRequest>, opts);
  }

  /** Revokes the principal: its sessions stop working within 1 s. Errors: `EKM_NOT_FOUND`, `EKM_CONFLICT` (already revoked). */
  revokePrincipal(principalId: string, reason?: string, opts?: CallOptions): Promise<PrincipalInfo> {
    return this.caller.call('policy', 'revoke-principal', { principalId, ...(reason !== undefined ? { reason } : {}) } satisfies Body<typeof RevokePrincipalRequest>, opts);
  }

  /** A new credential (returned once); current ones stay valid `graceSeconds` (default 3600). */
  rotateCredential(principalId: string, graceSeconds?: number, opts?: CallOptions): Promise<PrincipalWithCredentialReply> {
    return this.caller.call('policy', 'rotate-credential', { principalId, ...(graceSeconds !== undefined ? { graceSeconds } : {}) } satisfies Body<typeof RotateCredentialRequest>, opts);
  }

  revokeCredential(principalId: string, credentialId: string, reason?: string, opts?: CallOptions): Promise<PrincipalInfo> {
    return this.caller.call('policy', 'revoke-credential', { principalId, credentialId, ...(reason !== undefined ? { reason } : {}) } satisfies Body<typeof RevokeCredentialRequest>, opts);
  }

  /**
   * A new AWS-style access key for SigV4 (the AWS KMS-compatible HTTPS API); the secret is in this reply
   * only and is stored wrapped under the root of trust. At most two live keys per principal (rotate:
   * create the second, move clients, delete the first). Allowed to the principal itself and to admins of
   * its tenant. Errors: `EKM_NOT_FOUND` (unknown, revoked or other tenant's principal), `EKM_CONFLICT`
   * (two live keys already; request id reused).
   */
  createAccessKey(principalId: string, opts?: CallOptions): Promise<IssuedAccessKey> {
    return this.caller.call('policy', 'create-access-key', { principalId } satisfies Body<typeof CreateAccessKeyRequest>, opts);
  }

  /** The principal's access keys, deleted ones included (ids and dates only). Errors: `EKM_NOT_FOUND`. */
  async listAccessKeys(principalId: string, opts?: CallOptions): Promise<AccessKeyInfo[]> {
    return [...(await this.caller.call<AccessKeyListReply>('policy', 'list-access-keys', { principalId } satisfies Body<typeof ListAccessKeysRequest>, opts)).accessKeys];
  }

  /** Deletes (revokes) an access key at once: its wrapped secret is dropped; SigV4 requests with it are refused. Errors: `EKM_NOT_FOUND`. */
  deleteAccessKey(accessKeyId: string, reason?: string, opts?: CallOptions): Promise<AccessKeyInfo> {
    return this.caller.call('policy', 'delete-access-key', { accessKeyId, ...(reason !== undefined ? { reason } : {}) } satisfies Body<typeof DeleteAccessKeyRequest>, opts);
  }

  /** Creates or replaces a policy (new version). Errors: `EKM_VALIDATION` naming the document path, `EKM_CONFLICT` (expectedVersion, id taken). */
  putPolicy(input: PutPolicyInput, opts?: CallOptions): Promise<PolicyInfo> {
    return this.caller.call('policy', 'put-policy', input, opts);
  }

  getPolicy(policyId: string, opts?: CallOptions): Promise<PolicyInfo> {
    return this.caller.call('policy', 'get-policy', { policyId } satisfies Body<typeof PolicyRefRequest>, opts);
  }

  async listPolicies(tenant?: string, opts?: CallOptions): Promise<PolicyInfo[]> {
    return [...(await this.caller.call<PolicyListReply>('policy', 'list-policies', (tenant === undefined ? {} : { tenant }) satisfies Body<typeof ListPoliciesRequest>, opts)).policies];
  }

  deletePolicy(policyId: string, opts?: CallOptions): Promise<PolicyDeletedReply> {
    return this.caller.call('policy', 'delete-policy', { policyId } satisfies Body<typeof PolicyRefRequest>, opts);
  }

  /** The decision for a principal (services with operator scope, or a principal about itself). */
  decide(input: DecideInput, opts?: CallOptions): Promise<DecisionResult> {
    return this.caller.call('policy', 'decide', input, opts);
  }

  /** Operators and tenant admins: the decision plus the evaluation trace; `now` evaluates time conditions at another time. */
  simulate(input: SimulateInput, opts?: CallOptions): Promise<SimulationResult> {
    return this.caller.call('policy', 'simulate', input, opts);
  }
}
