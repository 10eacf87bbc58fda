/**
 * The tenant kill switch of the keys service. Sealing is an admin operation on the resource
 * `{ tenant }`: operators, or an admin of that tenant whom a policy allows `keys:SealTenant` /
 * `keys:UnsealTenant`; a principal of another tenant is refused (`EKM_FORBIDDEN`) whatever the policy.
 */
import type { TenantRootReply, TenantSealStatusReply } from '@ekm/contracts';
import type { KeysCallOptions, Caller } from './keys.client';
import { send } from './wire-contract';

/** The seal state of a tenant. `secretRequired`: unsealing needs the secret given at seal time. */
export type TenantSealStatus = TenantSealStatusReply;

export interface SealTenantInput {
  /** Recorded with the TenantSealed event and in the audit trail (up to 512 characters). */
  readonly reason?: string;
  /**
   * A tenant-held secret (16 to 1024 characters) without which the tenant cannot be unsealed. EKM keeps
   * only a peppered scrypt verifier of it; lose it and the tenant stays sealed. Sent sealed under the session.
   */
  readonly unsealSecret?: string;
}

/** Where a tenant's root key lives: `NONE` (no key yet), `LOCAL` (under EKM's root of trust) or `EXTERNAL`. Never credentials. */
export type TenantRoot = TenantRootReply;

/** An AWS-KMS-compatible key that is to hold a tenant's root (hold your own key). */
export interface ExternalTenantRootInput {
  /** `https://host[:port]`; its origin must be in the keys service's EKM_XKS_ALLOWED_ENDPOINTS. */
  readonly endpoint: string;
  readonly region: string;
  /** The external key (id or ARN) EKM calls Encrypt/Decrypt with, under encryption context `{"ekm:tenant": tenant}`. */
  readonly keyId: string;
  /** SECRET: kept only inside the epoch-wrapped root row; sent sealed under the session. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** PEM of a CA to trust for the endpoint besides the system's. */
  readonly caPem?: string;
}

export class TenantsClient {
  constructor(private readonly caller: Caller) {}

  /**
   * Seals `tenant`: from the commit on, every operation on the tenant's keys (data plane and lifecycle)
   * fails with `EKM_TENANT_SEALED` on every keys replica (within ~1 s even if a replica misses the event),
   * and each replica drops its cached unwrapped KEKs (zeroed). Other tenants are not affected.
   * Errors: `EKM_FORBIDDEN`, `EKM_CONFLICT` (already sealed), `EKM_VALIDATION`.
   */
  sealTenant(tenant: string, input: SealTenantInput = {}, opts?: KeysCallOptions): Promise<TenantSealStatus> {
    return send(this.caller, 'keys', 'seal-tenant', { tenant, ...input }, opts);
  }

  /**
   * Unseals `tenant`. Errors: `EKM_UNSEAL_SECRET_INVALID` (a secret was set at seal time and is missing
   * or wrong), `EKM_FORBIDDEN`, `EKM_CONFLICT` (not sealed).
   */
  unsealTenant(tenant: string, input: SealTenantInput = {}, opts?: KeysCallOptions): Promise<TenantSealStatus> {
    return send(this.caller, 'keys', 'unseal-tenant', { tenant, ...input }, opts);
  }

  /** Where `tenant`'s root key lives (opens only the epoch layer; never names credentials). Errors: `EKM_FORBIDDEN`. */
  describeTenantRoot(tenant: string, opts?: KeysCallOptions): Promise<TenantRoot> {
    return send(this.caller, 'keys', 'describe-tenant-root', { tenant }, opts);
  }

  /**
   * Moves `tenant`'s root into an external AWS-KMS-compatible key: EKM encrypts the root there, decrypts it
   * back and stores nothing unless both succeed (no KEK is re-wrapped). From then on disabling the external
   * key cuts the tenant within EKM_XKS_CACHE_MS. There is no way back to a local root.
   * Errors: `EKM_VALIDATION` (the endpoint's origin is not in EKM_XKS_ALLOWED_ENDPOINTS, or a bad field),
   * `EKM_EXTERNAL_KEY_UNAVAILABLE` (the external KMS refused or did not answer; the reason class is in the message),
   * `EKM_FORBIDDEN`.
   */
  setTenantRootExternal(tenant: string, input: ExternalTenantRootInput, opts?: KeysCallOptions): Promise<TenantRoot> {
    return send(this.caller, 'keys', 'set-tenant-root-external', { tenant, ...input }, opts);
  }

  /** The seal state of `tenant` (read from the log, not from a cache). Errors: `EKM_FORBIDDEN`. */
  getTenantSealStatus(tenant: string, opts?: KeysCallOptions): Promise<TenantSealStatus> {
    return send(this.caller, 'keys', 'get-tenant-seal-status', { tenant }, opts);
  }
}
