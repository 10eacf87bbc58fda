/**
 * Types of the keys service's lifecycle API as the SDK exposes them. They mirror the wire shapes of
 * `ekm.v1.keys.*` (apps/keys/src/keys/adapters/nats/keys-admin.controller.ts); every field here is
 * plain JSON, so these are also the wire types. Nothing here carries key material.
 */

/** `SYMMETRIC_DEFAULT` is AES-256-GCM (encrypt/decrypt); `HMAC_256` is HMAC-SHA-256 (generate/verify MAC). */
export type KeySpec = 'SYMMETRIC_DEFAULT' | 'HMAC_256';
/** What a key is for; follows from its {@link KeySpec}. */
export type KeyUsage = 'ENCRYPT_DECRYPT' | 'GENERATE_VERIFY_MAC';
/** `EKM` generates the material; `EXTERNAL` waits in `PendingImport` for BYOK material. */
export type KeyOrigin = 'EKM' | 'EXTERNAL';
/** Key lifecycle states. `Compromised` (revoked) never encrypts again; `Destroyed` never decrypts again. */
export type KeyStatus = 'PendingImport' | 'Enabled' | 'Disabled' | 'PendingDeletion' | 'Destroyed' | 'Compromised';
/** Per-version states. */
export type KeyVersionStatus = 'Enabled' | 'Disabled' | 'Destroyed';
/** String maps: tags, required context, encryption context. */
export type StringMap = Readonly<Record<string, string>>;
/** RSA key that wraps BYOK material in transit. */
export type WrappingKeySpec = 'RSA_3072' | 'RSA_4096';
/**
 * How BYOK material is wrapped: `RSAES_OAEP_SHA_256` (RSA-OAEP, SHA-256 and MGF1-SHA-256, of the 32
 * material bytes) or `RSA_AES_KEY_WRAP_SHA_256` (RSA-OAEP of an ephemeral AES-256 key, then RFC 5649
 * AES key wrap with padding of the material).
 */
export type WrappingAlgorithm = 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_256';

/** One key version, material-free. Times are ISO-8601 UTC strings. */
export interface KeyVersionInfo {
  readonly version: number;
  readonly status: KeyVersionStatus;
  readonly isPrimary: boolean;
  /** One-way fingerprint of the material (safe to show; not the material). */
  readonly fingerprint: string;
  readonly origin: KeyOrigin;
  readonly createdAt: string;
}

/** Automatic rotation settings of a key. */
export type KeyRotation = { readonly enabled: false } | { readonly enabled: true; readonly periodDays: number; readonly nextRotationAt: string };

/** Everything about a key that is safe to show and log (Tink's KeyInfo). Times are ISO-8601 UTC. */
export interface KeyInfo {
  /** The key's UUID. Reference it by this id or by `alias/<name>`. */
  readonly keyId: string;
  readonly tenant: string;
  readonly status: KeyStatus;
  readonly spec: KeySpec;
  readonly usage: KeyUsage;
  readonly origin: KeyOrigin;
  readonly description: string;
  /** Version used for new encryptions; null while `PendingImport`. */
  readonly primaryVersion: number | null;
  readonly versions: readonly KeyVersionInfo[];
  /** Alias names including the `alias/` prefix. */
  readonly aliases: readonly string[];
  readonly tags: StringMap;
  /** Purpose binding: entries every encryption context used with this key must contain, exactly. */
  readonly requiredContext: StringMap;
  readonly rotation: KeyRotation;
  readonly lastRotatedAt: string | null;
  /** When a `PendingDeletion` key may be destroyed. */
  readonly deletionDate: string | null;
  readonly revokedAt: string | null;
  readonly destroyedAt: string | null;
  readonly createdAt: string;
}

/** Input of `createKey`. */
export interface CreateKeyInput {
  readonly tenant: string;
  /** Default `SYMMETRIC_DEFAULT`. */
  readonly spec?: KeySpec;
  /** Default `EKM`. `EXTERNAL` keys start `PendingImport` (see `getParametersForImport`). */
  readonly origin?: KeyOrigin;
  readonly description?: string;
  readonly tags?: StringMap;
  /** Purpose binding, e.g. `{ collection: 'docs' }`: later requests must carry these context entries. */
  readonly requiredContext?: StringMap;
}

/** Filters and paging of `listKeys`. All filters combine with AND. */
export interface ListKeysInput {
  readonly tenant?: string;
  readonly status?: KeyStatus;
  /** Keys whose tags contain this entry. */
  readonly tag?: { readonly key: string; readonly value: string };
  /** Alias with or without the `alias/` prefix. */
  readonly alias?: string;
  /** Page size, 1–100. Default 50. */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One page of keys. */
export interface KeyPage {
  readonly keys: readonly KeyInfo[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** Rotation settings as `getKeyRotationStatus` returns them. */
export interface KeyRotationStatus {
  readonly keyId: string;
  readonly rotation: KeyRotation;
  readonly lastRotatedAt: string | null;
}

/** Import parameters: the RSA public key that wraps material and the single-use token (valid 24 h). */
export interface ImportParameters {
  readonly keyId: string;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKey: Buffer;
  /** Opaque single-use token bound to the key and the wrapping algorithm. */
  readonly importToken: Buffer;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
  /** ISO-8601 expiry of the token. */
  readonly parametersValidTo: string;
  /** Same as `parametersValidTo`. */
  readonly expiresAt: string;
}
