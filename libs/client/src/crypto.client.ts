/**
 * Typed data plane of the keys service: data keys, encrypt/decrypt/re-encrypt (single and batch) and
 * MACs. Buffers in, Buffers out; base64 on the wire. None of these mutate key state, so a retry is
 * always safe. Common errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE` (disabled, revoked, pending
 * deletion...), `EKM_CONTEXT_MISMATCH` (missing or different purpose-binding entries),
 * `EKM_UNSUPPORTED` (wrong key spec for the operation), `EKM_AUDIT_UNAVAILABLE` (fail closed).
 */
import type {
  CiphertextReply, DataKeyBatchReply, DataKeyReply, DecryptBatchReply, PlaintextReply, ReEncryptBatchReply, ReEncryptReply,
} from '@ekm/contracts';
import type { Caller, KeysCallOptions } from './keys.client';
import type {
  BatchItemResult, Ciphertext, DataKey, DecryptInput, EncryptInput, GenerateDataKeyInput, GenerateMacInput, Mac,
  MacVerification, Plaintext, ReEncrypted, ReEncryptInput, VerifyMacInput, WrappedDataKey,
} from './crypto.types';
import { send, type RequestBody } from './wire-contract';

const b64 = (b: Buffer): string => b.toString('base64');
const buf = (s: string): Buffer => Buffer.from(s, 'base64');

/** The successful items of a batch reply, without their `ok`. */
type OkItem<B extends { items: readonly unknown[] }> = Omit<Extract<B['items'][number], { ok: true }>, 'ok'>;

const fromBlob = (r: CiphertextReply): Ciphertext => ({ keyId: r.keyId, keyVersion: r.keyVersion, ciphertextBlob: buf(r.ciphertextBlob) });
const fromDataKey = (r: DataKeyReply): DataKey => ({ ...fromBlob(r), plaintext: buf(r.plaintext) });
const fromPlain = (r: PlaintextReply): Plaintext => ({ keyId: r.keyId, keyVersion: r.keyVersion, plaintext: buf(r.plaintext) });
const fromReEncrypted = (r: ReEncryptReply): ReEncrypted =>
  ({ ...fromBlob(r), sourceKeyId: r.sourceKeyId, sourceKeyVersion: r.sourceKeyVersion });

const decryptBody = (i: DecryptInput): RequestBody<'keys', 'decrypt'> => ({ ...i, ciphertextBlob: b64(i.ciphertextBlob) });
const reEncryptBody = (i: ReEncryptInput): RequestBody<'keys', 're-encrypt'> => ({ ...i, ciphertextBlob: b64(i.ciphertextBlob) });

function mapBatch<B extends DataKeyBatchReply | DecryptBatchReply | ReEncryptBatchReply, T>(r: B, map: (w: OkItem<B>) => T): BatchItemResult<T>[] {
  const items: ReadonlyArray<({ ok: true } & OkItem<B>) | { ok: false; error: { code: string; message: string } }> = r.items as never;
  return items.map((item) => (item.ok ? { ok: true, value: map(item) } : { ok: false, error: item.error }));
}

/** Data-plane operations of the keys service. */
export class CryptoClient {
  constructor(private readonly caller: Caller) {}

  /** A fresh data key: use `plaintext` locally (then zero it), store `ciphertextBlob`. */
  async generateDataKey(input: GenerateDataKeyInput, opts?: KeysCallOptions): Promise<DataKey> {
    return fromDataKey(await send(this.caller, 'keys', 'generate-data-key', input, opts));
  }

  /** A fresh data key, wrapped only (for a component that decrypts it later). */
  async generateDataKeyWithoutPlaintext(input: GenerateDataKeyInput, opts?: KeysCallOptions): Promise<WrappedDataKey> {
    return fromBlob(await send(this.caller, 'keys', 'generate-data-key-without-plaintext', input, opts));
  }

  /** Encrypts at most 4096 bytes under the key's primary version. Errors also: `EKM_VALIDATION` (too large). */
  async encrypt(input: EncryptInput, opts?: KeysCallOptions): Promise<Ciphertext> {
    return fromBlob(await send(this.caller, 'keys', 'encrypt', { ...input, plaintext: b64(input.plaintext) }, opts));
  }

  /** Decrypts a blob made by `encrypt` or `generateDataKey`. Errors also: `EKM_INVALID_CIPHERTEXT` (tampered, truncated, wrong key or wrong context). */
  async decrypt(input: DecryptInput, opts?: KeysCallOptions): Promise<Plaintext> {
    return fromPlain(await send(this.caller, 'keys', 'decrypt', decryptBody(input), opts));
  }

  /** Re-encrypts under the destination key's primary version; the plaintext never leaves the service. */
  async reEncrypt(input: ReEncryptInput, opts?: KeysCallOptions): Promise<ReEncrypted> {
    return fromReEncrypted(await send(this.caller, 'keys', 're-encrypt', reEncryptBody(input), opts));
  }

  /** Up to 100 data keys (with plaintext) in one call; each item succeeds or fails on its own. Errors of the whole call: `EKM_VALIDATION`, `EKM_AUDIT_UNAVAILABLE`. */
  async generateDataKeyBatch(items: readonly GenerateDataKeyInput[], opts?: KeysCallOptions): Promise<BatchItemResult<DataKey>[]> {
    return mapBatch(await send(this.caller, 'keys', 'generate-data-key-batch', { items }, opts), (r) => fromDataKey({ ...r, plaintext: r.plaintext ?? '' }));
  }

  /** Up to 100 decryptions in one call, per-item context and errors. */
  async decryptBatch(items: readonly DecryptInput[], opts?: KeysCallOptions): Promise<BatchItemResult<Plaintext>[]> {
    return mapBatch(await send(this.caller, 'keys', 'decrypt-batch', { items: items.map(decryptBody) }, opts), fromPlain);
  }

  /** Up to 100 re-encryptions in one call (e.g. re-wrapping DEKs after a rotation). */
  async reEncryptBatch(items: readonly ReEncryptInput[], opts?: KeysCallOptions): Promise<BatchItemResult<ReEncrypted>[]> {
    return mapBatch(await send(this.caller, 'keys', 're-encrypt-batch', { items: items.map(reEncryptBody) }, opts), fromReEncrypted);
  }

  /** HMAC-SHA-256 of `message` with an `HMAC_256` key's primary version. */
  async generateMac(input: GenerateMacInput, opts?: KeysCallOptions): Promise<Mac> {
    const r = await send(this.caller, 'keys', 'generate-mac', { ...input, message: b64(input.message) }, opts);
    return { keyId: r.keyId, keyVersion: r.keyVersion, mac: buf(r.mac), macAlgorithm: r.macAlgorithm };
  }

  /** Checks a MAC in constant time against the key's usable versions. A wrong tag is `macValid: false` (not an error). */
  async verifyMac(input: VerifyMacInput, opts?: KeysCallOptions): Promise<MacVerification> {
    return send(this.caller, 'keys', 'verify-mac', { ...input, message: b64(input.message), mac: b64(input.mac) }, opts);
  }
}
