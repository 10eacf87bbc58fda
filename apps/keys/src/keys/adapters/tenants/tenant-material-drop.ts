/**
 * What a replica drops when a tenant's seal state changes (locally, or when the relayed event arrives):
 * the tenant's cached KEKs (zeroed; the KEK cache groups them by the tenant root their row names, and
 * drops rows written before tenant roots with every tenant, since their tenant is not known there) and
 * its cached tenant root. Other tenants keep theirs. A load in flight is not cached afterwards, and the
 * seal gate is asked before any KEK is used anyway.
 */
import type { KekSource } from '../../application/crypto/crypto.ports';
import type { TenantMaterialDrop, TenantSealGate } from '../../application/tenants/tenant-seal.ports';

export function dropTenantMaterial(keks: KekSource, roots?: { forget(tenant: string): void }): TenantMaterialDrop {
  return (tenant) => {
    keks.clearTenant(tenant);
    roots?.forget(tenant);
  };
}

/** The KeyEventInvalidator's hook for a `tenant-<tenant>` stream event. */
export function onTenantSealEvent(seals: TenantSealGate, keks: KekSource, roots?: { forget(tenant: string): void }): (tenant: string) => void {
  const drop = dropTenantMaterial(keks, roots);
  return (tenant) => {
    seals.invalidate(tenant);
    drop(tenant);
  };
}
