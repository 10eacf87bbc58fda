/**
 * Ports of the data plane itself (the shared control-plane ports are in ../ports.ts). Bound in
 * adapters/nats/crypto.module.ts.
 */
import type { KeyMaterial } from '@ekm/crypto';

/**
 * Unwrapped KEK versions: cached (TTL, size bound, zeroed on eviction), loaded on a miss from
 * KEY_MATERIAL_STORE + ROOT_OF_TRUST with one load per key version however many callers miss at once.
 */
export const KEK_SOURCE = Symbol('KEK_SOURCE');
export interface KekSource {
  /**
   * Runs `fn` with the KEK of (keyId, version). `fn` must be synchronous and keep no reference to the
   * material. Throws MaterialMissingError, RootKeyUnavailableError / UnwrapFailedError, or a store error.
   */
  withKek<T>(keyId: string, version: number, fn: (kek: KeyMaterial) => T): Promise<T>;
  /** Drops every cached version of `keyId` (zeroed); a load in flight is not cached afterwards. */
  invalidate(keyId: string): void;
  /** Drops every cached KEK (zeroed); loads in flight are not cached afterwards. Used on a loss of cache trust. */
  clear(): void;
  /**
   * Drops every cached KEK of `tenant` (zeroed), and those whose row names no tenant root (written before
   * tenant roots: their tenant is not known here); that tenant's loads in flight are not cached afterwards.
   * Used by the tenant kill switch: other tenants keep their cached KEKs.
   */
  clearTenant(tenant: string): void;
}

/** The version's wrapped material is absent (destroyed). */
export class MaterialMissingError extends Error {
  override readonly name: string = 'MaterialMissingError';
  constructor(readonly keyId: string, readonly version: number) {
    super(`no wrapped material for version ${version} of key ${keyId}`);
  }
}

/** Persistent AES-GCM invocation counter per key version, reserved in blocks (adapters/postgres/gcm-budget.store.ts). */
export const GCM_COUNTER_STORE = Symbol('GCM_COUNTER_STORE');
export interface GcmCounterStore {
  /**
   * Adds `block` to the reserved count of (keyId, version) and returns the new total. The numbers
   * `(total - block, total]` belong to the caller alone; a crash skips them, nothing reuses them.
   */
  reserve(keyId: string, version: number, block: number): Promise<number>;
  /** The reserved total (0 when never used). */
  reserved(keyId: string, version: number): Promise<number>;
}

/** Tunables of the data plane, from config (EKM_GCM_BUDGET) and module options. */
export const DATA_PLANE_OPTIONS = Symbol('DATA_PLANE_OPTIONS');
export interface DataPlaneOptions {
  /** EKM_GCM_BUDGET: encryptions per version before the hard stop. */
  readonly gcmBudget: number;
  /** Numbers reserved per Postgres round trip. */
  readonly gcmBlockSize: number;
  /** Fraction of the budget at which the forced rotation starts (domain default 0.75). */
  readonly gcmRotateThreshold: number;
  /** Stream of this process's usage records (`usage-<instance>`). */
  readonly instanceId: string;
}
