/**
 * What a replica drops when a tenant's seal state changes (locally, or when the relayed event arrives).
 * The KEK cache is keyed by key id and knows no tenants, so the whole cache is cleared (every entry
 * zeroed): other tenants pay one unwrap per version on their next call, and no state of theirs changes.
 * Clearing is also safe against a load in flight: the seal gate is asked before any KEK is used.
 */
import type { KekSource } from '../../application/crypto/crypto.ports';
import type { TenantMaterialDrop, TenantSealGate } from '../../application/tenants/tenant-seal.ports';

export function dropTenantMaterial(keks: KekSource): TenantMaterialDrop {
  return () => keks.clear();
}

/** The KeyEventInvalidator's hook for a `tenant-<tenant>` stream event. */
export function onTenantSealEvent(seals: TenantSealGate, keks: KekSource): (tenant: string) => void {
  const drop = dropTenantMaterial(keks);
  return (tenant) => {
    seals.invalidate(tenant);
    drop(tenant);
  };
}
