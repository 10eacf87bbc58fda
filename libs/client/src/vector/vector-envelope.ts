/**
 * Embeddings (`Float32Array`) and JSON metadata encrypted with AES-256-GCM under a data key bound to
 * `{tenant, collection, asset}`, in the versioned envelope of docs/envelope-format.md. Data keys come
 * from a {@link CachingDataKeyProvider} (GenerateDataKey on the encrypt side, Decrypt on the open side,
 * both cached within its limits). AAD = magic || version || content type || canonical(context), so an
 * envelope opens only as the content type it was sealed as and only for the asset it belongs to.
 * The wrapped key is not in the AAD: EKM authenticates it itself (same context), and leaving it out
 * lets `rewrapEnvelope` swap in a re-encrypted blob without touching the payload.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { BusErrorCode } from '@ekm/contracts';
import { EkmError } from '../ekm-error';
import type { KeyRef } from '../crypto.types';
import type { CachingDataKeyProvider } from '../caching/caching-data-key-provider';
import { canonicalContext } from '../caching/canonical-context';
import { EnvelopeInvalidError, VectorInputInvalidError } from './envelope.errors';
import { ContentType, encodeEnvelope, envelopeAadPrefix, ENVELOPE_IV_LENGTH, ENVELOPE_TAG_LENGTH, parseEnvelope } from './envelope.format';

/** Where a vector or its metadata belongs; the encryption context of its data key, as given. */
export interface VectorContext {
  readonly tenant: string;
  readonly collection: string;
  readonly asset: string;
}

/** JSON metadata: anything `JSON.stringify` encodes (it is stored as UTF-8 JSON text). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** What an envelope holds once opened. */
export type EnvelopeContent = { readonly kind: 'vector'; readonly vector: Float32Array } | { readonly kind: 'json'; readonly value: JsonValue };

/** A sealed envelope and the EKM key version that wrapped its data key. */
export interface SealedEnvelope {
  readonly envelope: Buffer;
  readonly keyId: string;
  readonly keyVersion: number;
}

/** The encryption context EKM binds: exactly `{tenant, collection, asset}`. @throws VectorInputInvalidError */
export function vectorEncryptionContext(ctx: VectorContext): Record<string, string> {
  for (const field of ['tenant', 'collection', 'asset'] as const) {
    const v: unknown = (ctx as unknown as Record<string, unknown> | null)?.[field];
    if (typeof v !== 'string' || v.length === 0) throw new VectorInputInvalidError(`context.${field}`, 'must be a non-empty string');
  }
  return { tenant: ctx.tenant, collection: ctx.collection, asset: ctx.asset };
}

const LITTLE_ENDIAN = endianness() === 'LE';

const aadOf = (type: ContentType, ctx: Record<string, string>): Buffer => Buffer.concat([envelopeAadPrefix(type), canonicalContext(ctx)]);

/**
 * Encrypts `content` under a data key of `keyId` bound to `context`.
 * Errors: VectorInputInvalidError; EkmError from GenerateDataKey (`EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`, `EKM_CONTEXT_MISMATCH`, ...).
 */
export async function sealEnvelope(provider: CachingDataKeyProvider, keyId: KeyRef, context: VectorContext, content: EnvelopeContent): Promise<SealedEnvelope> {
  const ctx = vectorEncryptionContext(context);
  const [type, payload] = content.kind === 'vector'
    ? [ContentType.Vector, vectorBytes(content.vector)] as const
    : [ContentType.Json, jsonBytes(content.value)] as const;
  try {
    return await provider.withEncryptionKey({ keyId, encryptionContext: ctx, plaintextLength: payload.length }, (dk) => {
      const iv = randomBytes(ENVELOPE_IV_LENGTH);
      const cipher = createCipheriv('aes-256-gcm', dk.plaintext, iv, { authTagLength: ENVELOPE_TAG_LENGTH });
      cipher.setAAD(aadOf(type, ctx));
      const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()]);
      const envelope = encodeEnvelope({ contentType: type, wrappedKey: dk.ciphertextBlob, iv, ciphertext, tag: cipher.getAuthTag() });
      return { envelope, keyId: dk.keyId, keyVersion: dk.keyVersion };
    });
  } finally {
    payload.fill(0);
  }
}

/**
 * Decrypts an envelope sealed for `context` (the wrapped key through EKM's Decrypt, cached).
 * Errors: EnvelopeInvalidError (malformed, tampered, other context, other content type than `expect`);
 * EkmError for EKM's refusals (`EKM_KEY_NOT_ACTIVE` after the key was disabled or destroyed, `EKM_FORBIDDEN`, ...).
 */
export async function openEnvelope(provider: CachingDataKeyProvider, context: VectorContext, envelope: Uint8Array, expect?: EnvelopeContent['kind']): Promise<EnvelopeContent> {
  const ctx = vectorEncryptionContext(context);
  const parts = parseEnvelope(envelope);
  if (expect !== undefined && parts.contentType !== (expect === 'vector' ? ContentType.Vector : ContentType.Json)) {
    throw new EnvelopeInvalidError('WRONG_CONTENT_TYPE');
  }
  const plaintext = await wrappedKeyErrors(() => provider.withDecryptionKey({ ciphertextBlob: parts.wrappedKey, encryptionContext: ctx }, (dk) => {
    if (dk.plaintext.length !== 32) throw new EnvelopeInvalidError('AUTHENTICATION_FAILED');
    let out: Buffer | undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', dk.plaintext, parts.iv, { authTagLength: ENVELOPE_TAG_LENGTH });
      d.setAAD(aadOf(parts.contentType, ctx));
      d.setAuthTag(parts.tag);
      out = d.update(parts.ciphertext);
      d.final(); // verifies the tag; nothing leaves before it did
      return out;
    } catch {
      out?.fill(0);
      throw new EnvelopeInvalidError('AUTHENTICATION_FAILED');
    }
  }));
  try {
    return parts.contentType === ContentType.Vector ? { kind: 'vector', vector: vectorOf(plaintext) } : { kind: 'json', value: jsonOf(plaintext) };
  } finally {
    plaintext.fill(0);
  }
}

/** {@link sealEnvelope} for an embedding. */
export const encryptVector = (provider: CachingDataKeyProvider, keyId: KeyRef, context: VectorContext, vector: Float32Array): Promise<SealedEnvelope> =>
  sealEnvelope(provider, keyId, context, { kind: 'vector', vector });

/** {@link sealEnvelope} for JSON metadata. */
export const encryptMetadata = (provider: CachingDataKeyProvider, keyId: KeyRef, context: VectorContext, value: JsonValue): Promise<SealedEnvelope> =>
  sealEnvelope(provider, keyId, context, { kind: 'json', value });

/** Opens a vector envelope. Errors as {@link openEnvelope}; a JSON envelope is `WRONG_CONTENT_TYPE`. */
export async function decryptVector(provider: CachingDataKeyProvider, context: VectorContext, envelope: Uint8Array): Promise<Float32Array> {
  const c = await openEnvelope(provider, context, envelope, 'vector');
  if (c.kind !== 'vector') throw new EnvelopeInvalidError('WRONG_CONTENT_TYPE');
  return c.vector;
}

/** Opens a JSON metadata envelope. Errors as {@link openEnvelope}; a vector envelope is `WRONG_CONTENT_TYPE`. */
export async function decryptMetadata<T extends JsonValue = JsonValue>(provider: CachingDataKeyProvider, context: VectorContext, envelope: Uint8Array): Promise<T> {
  const c = await openEnvelope(provider, context, envelope, 'json');
  if (c.kind !== 'json') throw new EnvelopeInvalidError('WRONG_CONTENT_TYPE');
  return c.value as T;
}

/** EKM's "invalid ciphertext" for the wrapped key is an envelope defect; EKM's other refusals pass through. */
export async function wrappedKeyErrors<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof EkmError && err.code === BusErrorCode.InvalidCiphertext) throw new EnvelopeInvalidError('WRAPPED_KEY_REJECTED', { cause: err });
    throw err;
  }
}

function vectorBytes(v: Float32Array): Buffer {
  if (!(v instanceof Float32Array)) throw new VectorInputInvalidError('vector', 'must be a Float32Array');
  // A byte copy on little-endian hosts keeps every bit (NaN payloads too); others convert.
  if (LITTLE_ENDIAN) return Buffer.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  const out = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) out.writeFloatLE(v[i]!, i * 4);
  return out;
}

function vectorOf(b: Buffer): Float32Array {
  if (b.length % 4 !== 0) throw new EnvelopeInvalidError('BAD_PAYLOAD');
  if (LITTLE_ENDIAN) return new Float32Array(new Uint8Array(b).buffer); // copies: `b` is zeroed after
  const v = new Float32Array(b.length / 4);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < v.length; i++) v[i] = view.getFloat32(i * 4, true);
  return v;
}

function jsonBytes(value: JsonValue): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw new VectorInputInvalidError('metadata', 'must be JSON-serializable');
  return Buffer.from(text, 'utf8');
}

function jsonOf(b: Buffer): JsonValue {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b)) as JsonValue;
  } catch {
    throw new EnvelopeInvalidError('BAD_PAYLOAD');
  }
}
