/**
 * Types of the keys service's lifecycle API as the SDK exposes them. The reply types are the wire
 * contract of `ekm.v1.keys.*` (zod schemas in @ekm/contracts, `z.infer`red), not copies of it; only
 * Buffers stand where the wire has base64. Nothing here carries key material.
 */
import type {
  ImportParametersReply, KEY_ORIGINS, KEY_SPECS, KEY_STATUSES, KEY_USAGES, KEY_VERSION_STATUSES, KeyInfoReply, KeyPageReply,
  KeyRotationReply, KeyRotationStatusReply, KeyVersionInfoReply, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS,
} from '@ekm/contracts';

/** `SYMMETRIC_DEFAULT` is AES-256-GCM (encrypt/decrypt); `HMAC_256` is HMAC-SHA-256 (generate/verify MAC). */
export type KeySpec = (typeof KEY_SPECS)[number];
/** What a key is for; follows from its {@link KeySpec}. */
export type KeyUsage = (typeof KEY_USAGES)[number];
/** `EKM` generates the material; `EXTERNAL` waits in `PendingImport` for BYOK material. */
export type KeyOrigin = (typeof KEY_ORIGINS)[number];
/** Key lifecycle states. `Compromised` (revoked) never encrypts again; `Destroyed` never decrypts again. */
export type KeyStatus = (typeof KEY_STATUSES)[number];
/** Per-version states. */
export type KeyVersionStatus = (typeof KEY_VERSION_STATUSES)[number];
/** String maps: tags, required context, encryption context. */
export type StringMap = Readonly<Record<string, string>>;
/** RSA key that wraps BYOK material in transit. */
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];
/**
 * How BYOK material is wrapped: `RSAES_OAEP_SHA_256` (RSA-OAEP, SHA-256 and MGF1-SHA-256, of the 32
 * material bytes) or `RSA_AES_KEY_WRAP_SHA_256` (RSA-OAEP of an ephemeral AES-256 key, then RFC 5649
 * AES key wrap with padding of the material).
 */
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

/** One key version, material-free. Times are ISO-8601 UTC strings. */
export type KeyVersionInfo = KeyVersionInfoReply;
/** Automatic rotation settings of a key. */
export type KeyRotation = KeyRotationReply;
/** Everything about a key that is safe to show and log (Tink's KeyInfo). Times are ISO-8601 UTC. */
export type KeyInfo = KeyInfoReply;

/** Input of `createKey`. */
export interface CreateKeyInput {
  readonly tenant: string;
  /** Default `SYMMETRIC_DEFAULT`. */
  readonly spec?: KeySpec;
  /** Default: the spec's own (AWS `KeyUsage`); any other is `EKM_UNSUPPORTED`. */
  readonly usage?: KeyUsage;
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
export type KeyPage = KeyPageReply;

/** Rotation settings as `getKeyRotationStatus` returns them. */
export type KeyRotationStatus = KeyRotationStatusReply;

/**
 * Import parameters: the RSA public key (DER SubjectPublicKeyInfo) that wraps material and the
 * single-use token (valid 24 h), as Buffers; `parametersValidTo` is `expiresAt` under AWS's name.
 */
export type ImportParameters = Readonly<Omit<ImportParametersReply, 'publicKey' | 'importToken'> & { publicKey: Buffer; importToken: Buffer }>;
