import type { EpochKeyStore } from './epochs/epoch-keys.port';
import type { KeyMaterial } from './key-material';

/** What a root of trust says about itself: safe to log, nothing secret. */
export type RootOfTrustDescription =
  | { kind: 'software'; rootKeyId: string; sealedFile: string }
  | { kind: 'pkcs11'; library: string; tokenLabel: string; keyLabel: string; keyId: string; sessions: number };

/**
 * The root of trust wraps KEK versions (and import private keys) for storage. Wrapped bytes are
 * RFC 5649 AES-KWP under the root key for both adapters.
 *
 * Errors: RootKeyUnavailableError (retriable: HSM unreachable, login failed, library missing, closed),
 * UnwrapFailedError (every unwrap failure, no detail), RootOperationFailedError (the HSM refused a wrap).
 */
export interface RootOfTrust {
  /** Wraps `material` under the root key; returns the bytes to store. Does not dispose `material`. */
  wrapKey(material: KeyMaterial): Promise<Buffer>;
  /** Unwraps stored bytes. The caller owns (and disposes) the returned material. */
  unwrapKey(wrapped: Buffer): Promise<KeyMaterial>;
  /** A new 32-byte AES KEK, generated inside the root of trust where it can, with its wrapped form. */
  generateKek(): Promise<{ material: KeyMaterial; wrapped: Buffer }>;
  /** The epoch keys kept in this root of trust (they wrap KEK versions; see EpochKeyStore). */
  readonly epochs: EpochKeyStore;
  /** Resolves when the root key is usable; throws RootKeyUnavailableError otherwise. */
  health(): Promise<void>;
  describe(): RootOfTrustDescription;
  /** Releases sessions / forgets the root key. Later calls throw RootKeyUnavailableError. */
  close(): Promise<void>;
}

/** Length of every KEK and root key: AES-256. */
export const KEK_LENGTH = 32;
