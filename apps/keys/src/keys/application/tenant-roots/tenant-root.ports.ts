/**
 * Ports of tenant root keys (TRKs). Each tenant's KEK versions are wrapped under its TRK, and that
 * wrap sits INSIDE the root-of-trust epoch wrap: stored KEK = epoch-wrap(TRK-wrap(KEK)). The TRK row
 * itself is a `key_material` row (key id `tenant-root:<tenant>`), epoch-wrapped like every KEK, so the
 * epoch roller carries it forward and the forward ledger holds it: a backup's TRK under a destroyed
 * epoch is as dead as the KEKs under it, and destroying a KEK still ends the epoch that opens it.
 *
 * The epoch-wrapped payload of a TRK row is one of:
 * - local: the TRK itself;
 * - external: where the TRK lives (endpoint, region, key id), the credentials to reach it and the
 *   ciphertext the external KMS's Encrypt produced under `{"ekm:tenant": <tenant>}`. EKM cannot open
 *   it without that KMS's Decrypt; credentials are at rest only under the root of trust.
 */
import type { KeyMaterial } from '@ekm/crypto';
import type { StoredKek, WrappedKek } from '../epochs/epoch.ports';
import { MaterialMissingError } from '../crypto/crypto.ports';

/** The `key_material` key id of a tenant's root row. Key ids of KEKs are UUIDs, so they never collide. */
export const tenantRootKeyId = (tenant: string): string => `tenant-root:${tenant}`;
export const TENANT_ROOT_VERSION = 1;

/** The encryption context EKM binds every external Encrypt/Decrypt of a tenant root to. */
export const externalRootContext = (tenant: string): Record<string, string> => ({ 'ekm:tenant': tenant });

export const TENANT_ROOT_STORE = Symbol('TENANT_ROOT_STORE');
export interface TenantRootStore {
  /** The tenant's root row, or null when the tenant has none yet. */
  get(tenant: string): Promise<StoredKek | null>;
  /** Inserts the tenant's first root row; false when another writer created one first. Throws EpochMovedError on a stale epoch. */
  create(tenant: string, wrapped: WrappedKek): Promise<boolean>;
  /**
   * Replaces the payload of the tenant's root row and, in the same transaction, asks for the epoch to
   * end (so a backup holding the old payload loses the key that opens it). Throws EpochMovedError on a stale epoch.
   */
  replace(tenant: string, wrapped: WrappedKek, reason: string): Promise<void>;
}

/** Credentials for an external KMS. Never logged, never in an event, a reply or an error. */
export interface ExternalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Where a tenant's root lives outside EKM; safe to show (no credentials). */
export interface ExternalRootLocation {
  readonly endpoint: string;
  readonly region: string;
  readonly keyId: string;
}

export interface ExternalRootTarget extends ExternalRootLocation {
  readonly credentials: ExternalCredentials;
  /** PEM of a CA to trust for `endpoint` besides the system's (a private EKM's local CA). */
  readonly caPem?: string;
}

/** Why the external KMS could not serve a tenant root: a class, never the KMS's own message. */
export const EXTERNAL_KEY_REASONS = [
  'ACCESS_DENIED', 'KEY_DISABLED', 'KEY_INVALID_STATE', 'KEY_NOT_FOUND', 'INVALID_CIPHERTEXT', 'UNREACHABLE', 'TIMEOUT', 'INVALID_RESPONSE', 'REFUSED',
  // The root's endpoint is not (or no longer) in EKM_XKS_ALLOWED_ENDPOINTS: EKM did not call it.
  'ENDPOINT_NOT_ALLOWED',
] as const;
export type ExternalKeyReason = (typeof EXTERNAL_KEY_REASONS)[number];

/** The tenant's external root refused or could not be reached: fail closed. Carries the reason class only. */
export class ExternalKeyUnavailableError extends Error {
  override readonly name = 'ExternalKeyUnavailableError';
  constructor(readonly tenant: string, readonly reason: ExternalKeyReason) {
    super(`the external root key of tenant ${tenant} is unavailable (${reason}); the operation was not performed`);
  }
}

/**
 * A set-tenant-root-external request named an endpoint whose origin is not in EKM_XKS_ALLOWED_ENDPOINTS:
 * refused before anything is called or stored (a request error, not an outage: not retried).
 */
export class ExternalEndpointNotAllowedError extends Error {
  override readonly name = 'ExternalEndpointNotAllowedError';
  constructor() {
    super("endpoint: its origin is not in this EKM's EKM_XKS_ALLOWED_ENDPOINTS (the operator lists the external KMSs the keys service may call); nothing was called or changed");
  }
}

/** A KEK row names a tenant root the store does not hold (a deleted or edited row). */
export class TenantRootMissingError extends MaterialMissingError {
  override readonly name = 'TenantRootMissingError';
  constructor(readonly tenant: string) {
    super(tenantRootKeyId(tenant), TENANT_ROOT_VERSION);
    this.message = `the root key of tenant ${tenant} is missing; its keys cannot be opened`;
  }
}

/** An AWS-KMS-compatible KMS (AWS KMS, or another EKM's AWS-compatible API). Errors: ExternalKeyUnavailableError only. */
export const EXTERNAL_KMS = Symbol('EXTERNAL_KMS');
export interface ExternalKms {
  /** Whether this process may call `endpoint` at all (EKM_XKS_ALLOWED_ENDPOINTS). */
  allows(endpoint: string): boolean;
  encrypt(tenant: string, target: ExternalRootTarget, plaintext: KeyMaterial): Promise<Buffer>;
  /** The caller disposes the result. */
  decrypt(tenant: string, target: ExternalRootTarget, ciphertext: Buffer): Promise<KeyMaterial>;
}

export type TenantRootInfo =
  | { readonly tenant: string; readonly kind: 'NONE' }
  | { readonly tenant: string; readonly kind: 'LOCAL'; readonly epoch: string }
  | { readonly tenant: string; readonly kind: 'EXTERNAL'; readonly epoch: string; readonly external: ExternalRootLocation };
