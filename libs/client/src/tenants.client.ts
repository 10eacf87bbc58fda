/**
 * The tenant kill switch of the keys service. Sealing is an admin operation on the resource
 * `{ tenant }`: operators, or an admin of that tenant whom a policy allows `keys:SealTenant` /
 * `keys:UnsealTenant`; a principal of another tenant is refused (`EKM_FORBIDDEN`) whatever the policy.
 */
import type { TenantSealStatusReply } from '@ekm/contracts';
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

  /** The seal state of `tenant` (read from the log, not from a cache). Errors: `EKM_FORBIDDEN`. */
  getTenantSealStatus(tenant: string, opts?: KeysCallOptions): Promise<TenantSealStatus> {
    return send(this.caller, 'keys', 'get-tenant-seal-status', { tenant }, opts);
  }
}
