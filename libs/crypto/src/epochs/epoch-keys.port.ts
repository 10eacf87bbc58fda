import type { KeyMaterial } from '../key-material';

/** What an epoch key says about itself: safe to log. `id` sorts in creation order. */
export type EpochKeyInfo = { readonly id: string; readonly createdAt: string };

/**
 * Epoch keys live in the root of trust (a sealed file under the software root, a token object under
 * PKCS#11) and wrap KEK versions. Destroying an epoch key is what makes a database backup taken
 * before it useless for the material that was only wrapped under it: the bytes in the backup stay,
 * the key that opens them is gone from the root of trust.
 *
 * Errors: EpochKeyDestroyedError (the id is not, or no longer, in the root of trust), UnwrapFailedError
 * (wrong bytes under a live epoch), RootKeyUnavailableError (retriable).
 */
export interface EpochKeyStore {
  /** The epoch keys present in the root of trust, oldest first. */
  list(): Promise<EpochKeyInfo[]>;
  /** Generates a new epoch key inside the root of trust. Its id sorts after every existing one. */
  create(): Promise<EpochKeyInfo>;
  /** Destroys the epoch key (C_DestroyObject / overwrite + unlink). Idempotent: an absent id is a no-op. */
  destroy(id: string): Promise<void>;
  /** Wraps `material` under the epoch key (AES-KWP); does not dispose it. */
  wrap(id: string, material: KeyMaterial): Promise<Buffer>;
  /** Unwraps bytes wrapped under the epoch key; the caller disposes the result. */
  unwrap(id: string, wrapped: Buffer): Promise<KeyMaterial>;
  /** A new 32-byte KEK (from the token's RNG where there is one) and its wrapped form under epoch `id`. */
  generateKek(id: string): Promise<{ material: KeyMaterial; wrapped: Buffer }>;
}

/** Epoch ids: `e<14-digit UTC timestamp ms>-<8 hex>`; fixed width so string order is creation order. */
export const EPOCH_ID_PATTERN = /^e\d{14}-[0-9a-f]{8}$/;

export function newEpochId(nowMs: number, random8hex: string): string {
  return `e${String(nowMs).padStart(14, '0')}-${random8hex}`;
}

/** The epoch id's creation time (ISO), read back from the id itself. */
export function epochCreatedAt(id: string): string {
  return new Date(Number(id.slice(1, 15))).toISOString();
}
