/** Ports of the tenant kill switch (bound in keys.module.ts and crypto.module.ts). */
import type { TransactionContext } from '@ekm/event-store';
import type { UnsealSecretCheck } from '../../domain/tenant-seal';

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

/**
 * What is stored of a tenant-held unseal secret: never the secret, only
 * HMAC(pepper, tenant, seal position, scrypt(secret, salt)). The pepper is derived from the service's
 * auth secret and is in no database, so a copy of the table is no offline guessing target, and a row
 * copied to another tenant or seal does not match there.
 */
export interface SealVerifier {
  readonly scheme: 'scrypt-hmac-v1';
  readonly salt: string;
  readonly hash: string;
}

/** Makes and checks the verifier of a tenant-held unseal secret; never stores or logs the secret. */
export const SEAL_SECRETS = Symbol('SEAL_SECRETS');
export interface SealSecrets {
  verifierOf(tenant: string, sealPosition: number, secret: string): Promise<SealVerifier>;
  /** `verifier` null (a seal that required a secret but whose verifier is gone) never matches. */
  check(tenant: string, sealPosition: number, verifier: SealVerifier | null, secret: string | undefined): Promise<UnsealSecretCheck>;
}

/** Where verifiers live: written in the seal's own append transaction, read at unseal. */
export const UNSEAL_VERIFIERS = Symbol('UNSEAL_VERIFIERS');
export interface UnsealVerifierStore {
  save(tx: TransactionContext, tenant: string, sealPosition: number, verifier: SealVerifier): Promise<void>;
  load(tenant: string, sealPosition: number): Promise<SealVerifier | null>;
}

/** Called after a tenant's seal state changed here: drop that tenant's cached unwrapped material (zeroed). */
export type TenantMaterialDrop = (tenant: string) => void;
