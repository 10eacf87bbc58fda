/** Ports of the access-key use cases, bound in access-keys.module.ts. */
import type { TransactionContext } from '@ekm/event-store';

/** A row of the access-key table. `wrappedSecret` is null once the key is deleted. */
export interface AccessKeyRow {
  readonly accessKeyId: string;
  readonly principalId: string;
  readonly tenant: string;
  readonly wrappedSecret: Buffer | null;
  readonly createdAt: string;
  readonly deletedAt: string | null;
}

export const ACCESS_KEY_STORE = Symbol('ACCESS_KEY_STORE');
export interface AccessKeyStore {
  get(accessKeyId: string): Promise<AccessKeyRow | null>;
  listOfPrincipal(principalId: string): Promise<AccessKeyRow[]>;
  /** Runs inside the append of AccessKeyCreated. */
  insert(tx: TransactionContext, row: { accessKeyId: string; principalId: string; tenant: string; wrappedSecret: Buffer; createdAt: string }): Promise<void>;
  /** Runs inside the append of AccessKeyDeleted: drops the wrapped secret. */
  markDeleted(tx: TransactionContext, accessKeyId: string, at: string): Promise<void>;
}

/** Wraps and unwraps access-key secrets under the root of trust. */
export const SECRET_BOX = Symbol('SECRET_BOX');
export interface SecretBox {
  wrap(secret: Buffer): Promise<Buffer>;
  /** The caller zeroes the returned buffer after use. */
  unwrap(wrapped: Buffer): Promise<Buffer>;
}
