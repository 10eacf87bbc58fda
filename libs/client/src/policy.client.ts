/**
 * Typed API of the policy service (`ekm.v1.policy.*`): principals, credentials, policies, decisions.
 * Administration needs role `admin` in the target tenant (or operator scope `*`); other callers get
 * `EKM_FORBIDDEN`. Every call can also fail with `EKM_TIMEOUT`, `EKM_UNAVAILABLE` (retried
 * automatically), `EKM_UNAUTHENTICATED` and `EKM_VALIDATION` (the message names the field path).
 */
import type { Caller } from './keys.client';
import type { CallOptions } from './ekm-client';

/** A principal as administrators see it (no key material, no verifier). */
export interface PrincipalInfo {
  readonly principalId: string;
  /** `*` is operator scope. */
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly kind: 'service' | 'person';
  readonly name: string;
  readonly status: 'Active' | 'Revoked';
  readonly createdAt: string;
  readonly credentials: ReadonlyArray<{ credentialId: string; issuedAt: string; status: 'Active' | 'Revoked'; validUntil: string | null }>;
}

/** The credential file contents, shown ONCE: write it with mode 0600 and never log it. */
export interface IssuedCredential {
  readonly principalId: string;
  readonly credentialId: string;
  /** PKCS#8 DER Ed25519 private key, base64. SECRET. */
  readonly privateKey: string;
  /** The service identity to pin (raw Ed25519 public key, base64url); keep it in the credential file. */
  readonly serviceKey?: string;
}

/** An AWS-style access key as administrators see it (never the secret). */
export interface AccessKeyInfo {
  /** `AKIA` + 16 characters: the `aws_access_key_id`. */
  readonly accessKeyId: string;
  readonly principalId: string;
  readonly tenant: string;
  readonly status: 'Active' | 'Deleted';
  readonly createdAt: string;
  readonly deletedAt: string | null;
}

/** A new access key, shown ONCE: `secretAccessKey` (40 characters, the `aws_secret_access_key`) is SECRET. */
export interface IssuedAccessKey extends AccessKeyInfo {
  readonly secretAccessKey: string;
}

/** Input of `createPrincipal`: tenant (`*` = operator scope), roles, kind, display name. */
export interface CreatePrincipalInput {
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly kind?: 'service' | 'person';
  readonly name?: string;
}

/** A statement condition: on the encryption context (`equals`, `in`, `glob`, `present`) or on the time (`before`, `after`); docs/policy.md. */
export type PolicyCondition =
  | { op: 'equals'; key: string; value: string } | { op: 'in'; key: string; values: string[] } | { op: 'glob'; key: string; pattern: string }
  | { op: 'present'; key: string } | { op: 'before'; time: string } | { op: 'after'; time: string };

/** A policy document (docs/policy.md). */
export interface PolicyDocument {
  readonly description?: string;
  readonly statements: ReadonlyArray<{
    sid: string; effect: 'allow' | 'deny'; principals?: string[]; roles?: string[]; actions: string[]; resources: string[]; conditions?: PolicyCondition[];
  }>;
}

/** A stored policy: id, tenant, version, document. */
export interface PolicyInfo {
  readonly policyId: string;
  readonly tenant: string;
  readonly version: number;
  readonly document: PolicyDocument;
}

/** What to decide: principal, action (`keys:<Operation>`), resource (key or tenant) and encryption context. */
export interface DecideInput {
  readonly principalId: string;
  /** `keys:<Operation>`, e.g. `keys:Decrypt`. */
  readonly action: string;
  readonly resource: { keyId?: string; tenant?: string; tags?: Record<string, string>; aliases?: string[] };
  readonly encryptionContext?: Record<string, string>;
}

/** A decision: allowed or not, the deciding policy and statement if any, and the reason. */
export interface DecisionResult {
  readonly allowed: boolean;
  readonly policyId?: string;
  readonly statementId?: string;
  readonly reason: string;
}

/** A decision with its evaluation trace (each statement and the first part that did not match). */
export interface SimulationResult extends DecisionResult {
  readonly guard?: string;
  readonly trace: ReadonlyArray<{ policyId: string; statementId: string; effect: 'allow' | 'deny'; outcome: string }>;
}

/** Client of the policy service (`ekm.v1.policy.*`): principals, credentials, policies, decide and simulate. Errors: `EkmError` (`EKM_VALIDATION`, `EKM_NOT_FOUND`, `EKM_CONFLICT`, `EKM_FORBIDDEN`, `EKM_UNAUTHENTICATED`, `EKM_UNAVAILABLE`, `EKM_TIMEOUT`). */
export class PolicyClient {
  constructor(private readonly caller: Caller) {}

  /** Creates a principal and returns its first credential (once). Errors: `EKM_FORBIDDEN`, `EKM_CONFLICT` (request id reused). */
  createPrincipal(input: CreatePrincipalInput, opts?: CallOptions): Promise<{ principal: PrincipalInfo; credential: IssuedCredential }> {
    return this.caller.call('policy', 'create-principal', input, opts);
  }

  /** Principals the caller may administer (optionally of one tenant). */
  async listPrincipals(tenant?: string, opts?: CallOptions): Promise<PrincipalInfo[]> {
    return (await this.caller.call<{ principals: PrincipalInfo[] }>('policy', 'list-principals', tenant === undefined ? {} : { tenant }, opts)).principals;
  }

  /** Errors: `EKM_NOT_FOUND` (also for principals of other tenants). */
  getPrincipal(principalId: string, opts?: CallOptions): Promise<PrincipalInfo> {
    return this.caller.call('policy', 'get-principal', { principalId }, opts);
  }

  /** Revokes the principal: its sessions stop working within 1 s. Errors: `EKM_NOT_FOUND`, `EKM_CONFLICT` (already revoked). */
  revokePrincipal(principalId: string, reason?: string, opts?: CallOptions): Promise<PrincipalInfo> {
    return this.caller.call('policy', 'revoke-principal', { principalId, ...(reason !== undefined ? { reason } : {}) }, opts);
  }

  /** A new credential (returned once); current ones stay valid `graceSeconds` (default 3600). */
  rotateCredential(principalId: string, graceSeconds?: number, opts?: CallOptions): Promise<{ principal: PrincipalInfo; credential: IssuedCredential }> {
    return this.caller.call('policy', 'rotate-credential', { principalId, ...(graceSeconds !== undefined ? { graceSeconds } : {}) }, opts);
  }

  revokeCredential(principalId: string, credentialId: string, reason?: string, opts?: CallOptions): Promise<PrincipalInfo> {
    return this.caller.call('policy', 'revoke-credential', { principalId, credentialId, ...(reason !== undefined ? { reason } : {}) }, opts);
  }

  /**
   * A new AWS-style access key for SigV4 (the AWS KMS-compatible HTTPS API); the secret is in this reply
   * only and is stored wrapped under the root of trust. At most two live keys per principal (rotate:
   * create the second, move clients, delete the first). Allowed to the principal itself and to admins of
   * its tenant. Errors: `EKM_NOT_FOUND` (unknown, revoked or other tenant's principal), `EKM_CONFLICT`
   * (two live keys already; request id reused).
   */
  createAccessKey(principalId: string, opts?: CallOptions): Promise<IssuedAccessKey> {
    return this.caller.call('policy', 'create-access-key', { principalId }, opts);
  }

  /** The principal's access keys, deleted ones included (ids and dates only). Errors: `EKM_NOT_FOUND`. */
  async listAccessKeys(principalId: string, opts?: CallOptions): Promise<AccessKeyInfo[]> {
    return (await this.caller.call<{ accessKeys: AccessKeyInfo[] }>('policy', 'list-access-keys', { principalId }, opts)).accessKeys;
  }

  /** Deletes (revokes) an access key at once: its wrapped secret is dropped; SigV4 requests with it are refused. Errors: `EKM_NOT_FOUND`. */
  deleteAccessKey(accessKeyId: string, reason?: string, opts?: CallOptions): Promise<AccessKeyInfo> {
    return this.caller.call('policy', 'delete-access-key', { accessKeyId, ...(reason !== undefined ? { reason } : {}) }, opts);
  }

  /** Creates or replaces a policy (new version). Errors: `EKM_VALIDATION` naming the document path, `EKM_CONFLICT` (expectedVersion, id taken). */
  putPolicy(input: { policyId: string; tenant: string; document: PolicyDocument; expectedVersion?: number }, opts?: CallOptions): Promise<PolicyInfo> {
    return this.caller.call('policy', 'put-policy', input, opts);
  }

  getPolicy(policyId: string, opts?: CallOptions): Promise<PolicyInfo> {
    return this.caller.call('policy', 'get-policy', { policyId }, opts);
  }

  async listPolicies(tenant?: string, opts?: CallOptions): Promise<PolicyInfo[]> {
    return (await this.caller.call<{ policies: PolicyInfo[] }>('policy', 'list-policies', tenant === undefined ? {} : { tenant }, opts)).policies;
  }

  deletePolicy(policyId: string, opts?: CallOptions): Promise<{ policyId: string; version: number }> {
    return this.caller.call('policy', 'delete-policy', { policyId }, opts);
  }

  /** The decision for a principal (services with operator scope, or a principal about itself). */
  decide(input: DecideInput, opts?: CallOptions): Promise<DecisionResult> {
    return this.caller.call('policy', 'decide', input, opts);
  }

  /** Operators and tenant admins: the decision plus the evaluation trace; `now` evaluates time conditions at another time. */
  simulate(input: DecideInput & { now?: string }, opts?: CallOptions): Promise<SimulationResult> {
    return this.caller.call('policy', 'simulate', input, opts);
  }
}
