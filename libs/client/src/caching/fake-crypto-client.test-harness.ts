/**
 * TEST ONLY: an in-memory fake of the SDK's CryptoClient (generateDataKey, decrypt, reEncrypt) with
 * real AES-256-GCM wrapping, key versions, rotation and destruction, and EKM's error codes. Its blob
 * layout is its own (`FK` || version || u8 len(keyId) || keyId || IV || ciphertext || tag, header and
 * canonical context as AAD): callers must treat blobs as opaque, as they must with EKM's.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { BusErrorCode } from '@ekm/contracts';
import { EkmError } from '../ekm-error';
import type { CryptoClient } from '../crypto.client';
import type { BatchItemResult, DataKey, DecryptInput, GenerateDataKeyInput, Plaintext, ReEncrypted, ReEncryptInput } from '../crypto.types';
import { canonicalContext } from './canonical-context';

type FakeKey = { versions: Buffer[]; destroyed: boolean };

const invalid = (): EkmError => new EkmError({ code: BusErrorCode.InvalidCiphertext, message: 'ciphertext is invalid' });

export class FakeCryptoClient implements Pick<CryptoClient, 'generateDataKey' | 'decrypt' | 'reEncrypt' | 'reEncryptBatch'> {
  private readonly keys = new Map<string, FakeKey>();
  readonly calls = { generateDataKey: 0, decrypt: 0, reEncrypt: 0 };

  createKey(): string {
    const keyId = randomUUID();
    this.keys.set(keyId, { versions: [randomBytes(32)], destroyed: false });
    return keyId;
  }

  rotate(keyId: string): number {
    const k = this.live(keyId);
    k.versions.push(randomBytes(32));
    return k.versions.length;
  }

  destroy(keyId: string): void {
    const k = this.keys.get(keyId);
    if (k) {
      k.destroyed = true;
      for (const v of k.versions) v.fill(0);
    }
  }

  async generateDataKey(input: GenerateDataKeyInput): Promise<DataKey> {
    this.calls.generateDataKey++;
    const plaintext = randomBytes(input.numberOfBytes ?? 32);
    const k = this.live(input.keyId);
    const version = k.versions.length;
    return { keyId: input.keyId, keyVersion: version, plaintext, ciphertextBlob: this.wrap(input.keyId, version, Buffer.from(plaintext), input.encryptionContext) };
  }

  async decrypt(input: DecryptInput): Promise<Plaintext> {
    this.calls.decrypt++;
    return this.unwrap(input.ciphertextBlob, input.encryptionContext, input.keyId);
  }

  async reEncrypt(input: ReEncryptInput): Promise<ReEncrypted> {
    this.calls.reEncrypt++;
    const src = this.unwrap(input.ciphertextBlob, input.sourceEncryptionContext, input.sourceKeyId);
    const dest = input.destinationKeyId ?? src.keyId;
    const version = this.live(dest).versions.length;
    const blob = this.wrap(dest, version, src.plaintext, input.destinationEncryptionContext);
    src.plaintext.fill(0);
    return { keyId: dest, keyVersion: version, ciphertextBlob: blob, sourceKeyId: src.keyId, sourceKeyVersion: src.keyVersion };
  }

  async reEncryptBatch(items: readonly ReEncryptInput[]): Promise<BatchItemResult<ReEncrypted>[]> {
    const out: BatchItemResult<ReEncrypted>[] = [];
    for (const item of items) {
      try {
        out.push({ ok: true, value: await this.reEncrypt(item) });
      } catch (err) {
        const e = err as EkmError;
        out.push({ ok: false, error: { code: e.code, message: e.message } });
      }
    }
    return out;
  }

  private live(keyId: string): FakeKey {
    const k = this.keys.get(keyId);
    if (!k) throw new EkmError({ code: BusErrorCode.KeyNotFound, message: `key ${keyId} does not exist` });
    if (k.destroyed) throw new EkmError({ code: BusErrorCode.KeyNotActive, message: `key ${keyId} is Destroyed` });
    return k;
  }

  private wrap(keyId: string, version: number, plaintext: Buffer, context: Readonly<Record<string, string>> | undefined): Buffer {
    const id = Buffer.from(keyId, 'utf8');
    const header = Buffer.concat([Buffer.from('FK'), Buffer.from([version, id.length]), id, randomBytes(12)]);
    const c = createCipheriv('aes-256-gcm', this.live(keyId).versions[version - 1]!, header.subarray(header.length - 12), { authTagLength: 16 });
    c.setAAD(Buffer.concat([header, canonicalContext(context)]));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([header, ct, c.getAuthTag()]);
  }

  private unwrap(blob: Buffer, context: Readonly<Record<string, string>> | undefined, expectKeyId?: string): Plaintext {
    if (blob.length < 4 + 12 + 16 || blob.subarray(0, 2).toString() !== 'FK') throw invalid();
    const version = blob[2]!;
    const idLen = blob[3]!;
    if (blob.length < 4 + idLen + 12 + 16) throw invalid();
    const keyId = blob.subarray(4, 4 + idLen).toString('utf8');
    if (expectKeyId !== undefined && expectKeyId !== keyId) throw invalid();
    const k = this.keys.get(keyId);
    if (!k) throw invalid();
    if (k.destroyed) throw new EkmError({ code: BusErrorCode.KeyNotActive, message: `key ${keyId} is Destroyed` });
    const kek = k.versions[version - 1];
    if (!kek) throw invalid();
    const headerEnd = 4 + idLen + 12;
    const header = blob.subarray(0, headerEnd);
    try {
      const d = createDecipheriv('aes-256-gcm', kek, header.subarray(headerEnd - 12), { authTagLength: 16 });
      d.setAAD(Buffer.concat([header, canonicalContext(context)]));
      d.setAuthTag(blob.subarray(blob.length - 16));
      const pt = d.update(blob.subarray(headerEnd, blob.length - 16));
      d.final();
      return { keyId, keyVersion: version, plaintext: pt };
    } catch {
      throw invalid();
    }
  }
}
