/** Ports of the tenant kill switch (bound in keys.module.ts). */
import type { SealVerifier, UnsealSecretCheck } from '../../domain/tenant-seal';

/**
 * Asked at the access step of every request, after authorization: is the key's tenant sealed? Read
 * from the tenant's seal stream behind a cache no older than TENANT_SEAL_TTL_MS, dropped at once by the
 * relayed seal event; a failed read refuses (fail closed), it never answers "open".
 */
export const TENANT_SEAL_GATE = Symbol('TENANT_SEAL_GATE');
export interface TenantSealGate {
  /** Synchronous while the cached answer is fresh; a promise when the seal store must be read. */
  isSealed(tenant: string): boolean | Promise<boolean>;
  /** Drops the cached answer for `tenant` (a seal event arrived, or this replica appended one). */
  invalidate(tenant: string): void;
}

/**
 * The bound on how long a replica may keep answering "open" after a seal another replica committed,
 * when the relayed event never arrives (a lost core-NATS message): half the one-second promise.
 */
export const TENANT_SEAL_TTL_MS = 500;

/** Makes and checks the verifier of a tenant-held unseal secret; never stores or logs the secret. */
export const SEAL_SECRETS = Symbol('SEAL_SECRETS');
export interface SealSecrets {
  verifierOf(secret: string): Promise<SealVerifier>;
  check(verifier: SealVerifier | undefined, secret: string | undefined): Promise<UnsealSecretCheck>;
}

/** Called after a tenant's seal state changed here: drop that tenant's cached unwrapped material (zeroed). */
export const TENANT_MATERIAL_DROP = Symbol('TENANT_MATERIAL_DROP');
export type TenantMaterialDrop = (tenant: string) => void;
