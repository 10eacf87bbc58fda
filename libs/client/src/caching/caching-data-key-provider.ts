/**
 * Data-key caching for busy encryptors and decryptors, modelled on the AWS Encryption SDK's caching
 * cryptographic materials manager, over the SDK's CryptoClient:
 *
 * - encrypt side: one GenerateDataKey result serves many messages with the same (key id, canonical
 *   encryption context, key length), within `maxAgeMs`, `maxMessagesPerKey` and `maxBytesPerKey`;
 * - decrypt side: an unwrapped data key is reused for the same wrapped blob (keyed by SHA-256 of the
 *   blob, the canonical context and the key id given), within `maxAgeMs`.
 *
 * Trade-off (as with AWS): a cache hit does not reach EKM, so it is neither authorized nor recorded
 * there, and a key disabled or destroyed in EKM keeps working here until its entry ages out or
 * `invalidateKey()` is called. Keep `maxAgeMs` as short as the load allows.
 *
 * Plaintext keys are handed to a synchronous callback and never returned: the cache zeroes them on
 * eviction, so a caller must not keep the buffer after the callback returns.
 */
import { createHash } from 'node:crypto';
import type { CryptoClient } from '../crypto.client';
import type { DataKey, DecryptInput, KeyRef, Plaintext } from '../crypto.types';
import type { StringMap } from '../keys.types';
import { decryptLimits, encryptLimits, type DecryptCacheLimits, type EncryptCacheLimits } from './cache-limits';
import { canonicalContext } from './canonical-context';
import { LruStore } from './lru-store';

/** The SDK calls the provider needs (a `CryptoClient`, or a fake of it in tests). */
export type DataKeySource = Pick<CryptoClient, 'generateDataKey' | 'decrypt'>;

/** Options of {@link CachingDataKeyProvider}. Pass `false` to turn one side's cache off. */
export interface CachingDataKeyProviderOptions {
  readonly encrypt?: Partial<EncryptCacheLimits> | false;
  readonly decrypt?: Partial<DecryptCacheLimits> | false;
  /** Clock in ms (tests inject one). Default `Date.now`. */
  readonly now?: () => number;
}

/** What an encryptor asks for: a data key under `keyId`, bound to `encryptionContext`, for `plaintextLength` bytes. */
export interface EncryptionKeyRequest {
  readonly keyId: KeyRef;
  readonly encryptionContext?: StringMap;
  /** DEK length in bytes (the key spec part of the cache key). Default 32. */
  readonly numberOfBytes?: number;
  /** Bytes this message will encrypt with the key; counted against `maxBytesPerKey`. */
  readonly plaintextLength: number;
}

/** Counters for tests, metrics and the example. */
export interface DataKeyCacheStats {
  readonly generateCalls: number;
  readonly encryptHits: number;
  readonly decryptCalls: number;
  readonly decryptHits: number;
  readonly evictions: number;
  readonly encryptEntries: number;
  readonly decryptEntries: number;
}

/** A synchronous use of a plaintext key. A Promise result is refused: the key may be zeroed while it waits. */
export type KeyUse<K, T> = (key: K) => T extends PromiseLike<unknown> ? never : T;

interface EncryptEntry { readonly key: DataKey; readonly keyRef: string; readonly fetchedAt: number; messages: number; bytes: number }
interface DecryptEntry { readonly key: Plaintext; readonly fetchedAt: number }

/** Data keys for encryptors and decryptors with a local cache bounded by age, uses and bytes (AWS Encryption SDK caching), so a busy ingester does not call EKM per vector. Plaintext keys are zeroed when evicted. */
export class CachingDataKeyProvider {
  private readonly now: () => number;
  private readonly encLimits: EncryptCacheLimits | null;
  private readonly decLimits: DecryptCacheLimits | null;
  private readonly enc: LruStore<EncryptEntry> | null;
  private readonly dec: LruStore<DecryptEntry> | null;
  private counters = { generateCalls: 0, encryptHits: 0, decryptCalls: 0, decryptHits: 0, evictions: 0 };

  /** @throws CacheLimitsInvalidError when a limit is out of range. */
  constructor(private readonly source: DataKeySource, options: CachingDataKeyProviderOptions = {}) {
    this.now = options.now ?? Date.now;
    this.encLimits = options.encrypt === false ? null : encryptLimits(options.encrypt);
    this.decLimits = options.decrypt === false ? null : decryptLimits(options.decrypt);
    this.enc = this.encLimits && new LruStore<EncryptEntry>(this.encLimits.maxEntries, (e) => this.zero(e.key.plaintext));
    this.dec = this.decLimits && new LruStore<DecryptEntry>(this.decLimits.maxEntries, (e) => this.zero(e.key.plaintext));
  }

  /**
   * Runs `use` with a data key for one message of `plaintextLength` bytes: a cached one when every
   * limit still allows this message, else a fresh GenerateDataKey (which is cached unless this one
   * message alone passes `maxBytesPerKey`). Errors: those of `CryptoClient.generateDataKey`.
   */
  async withEncryptionKey<T>(req: EncryptionKeyRequest, use: KeyUse<DataKey, T>): Promise<T> {
    const length = req.plaintextLength;
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('plaintextLength must be a safe integer >= 0');
    const cacheKey = this.encryptCacheKey(req);
    const cached = this.takeCached(cacheKey, length);
    if (cached) {
      this.counters.encryptHits++;
      return this.run(cached.key, use, () => this.afterUse(cacheKey, cached));
    }
    this.counters.generateCalls++;
    const key = await this.source.generateDataKey({
      keyId: req.keyId,
      ...(req.encryptionContext !== undefined ? { encryptionContext: req.encryptionContext } : {}),
      ...(req.numberOfBytes !== undefined ? { numberOfBytes: req.numberOfBytes } : {}),
    });
    const limits = this.encLimits;
    if (!this.enc || !limits || length > limits.maxBytesPerKey) return this.run(key, use, () => this.zero(key.plaintext));
    const entry: EncryptEntry = { key, keyRef: req.keyId, fetchedAt: this.now(), messages: 1, bytes: length };
    this.enc.set(cacheKey, entry);
    return this.run(key, use, () => this.afterUse(cacheKey, entry));
  }

  /**
   * Runs `use` with the unwrapped data key of `input.ciphertextBlob`: cached when the same blob was
   * unwrapped with the same context (and key id check) within `maxAgeMs`, else through EKM's Decrypt.
   * Errors: those of `CryptoClient.decrypt` (`EKM_INVALID_CIPHERTEXT`, `EKM_KEY_NOT_ACTIVE`, ...).
   */
  async withDecryptionKey<T>(input: DecryptInput, use: KeyUse<Plaintext, T>): Promise<T> {
    const cacheKey = this.decryptCacheKey(input);
    const entry = this.dec?.get(cacheKey);
    if (entry && this.decLimits && this.now() - entry.fetchedAt < this.decLimits.maxAgeMs) {
      this.counters.decryptHits++;
      return this.run(entry.key, use, () => undefined);
    }
    if (entry) this.evict(this.dec, cacheKey);
    this.counters.decryptCalls++;
    const key = await this.source.decrypt(input);
    if (!this.dec) return this.run(key, use, () => this.zero(key.plaintext));
    this.dec.set(cacheKey, { key, fetchedAt: this.now() });
    return this.run(key, use, () => undefined);
  }

  /** Drops (and zeroes) every cached key of `keyId` (the resolved id, or the reference it was requested by). */
  invalidateKey(keyId: string): number {
    const n = (this.enc?.deleteWhere((e) => e.key.keyId === keyId || e.keyRef === keyId) ?? 0)
      + (this.dec?.deleteWhere((e) => e.key.keyId === keyId) ?? 0);
    this.counters.evictions += n;
    return n;
  }

  /** Drops and zeroes everything. */
  clear(): void {
    this.counters.evictions += (this.enc?.size ?? 0) + (this.dec?.size ?? 0);
    this.enc?.clear();
    this.dec?.clear();
  }

  stats(): DataKeyCacheStats {
    return { ...this.counters, encryptEntries: this.enc?.size ?? 0, decryptEntries: this.dec?.size ?? 0 };
  }

  /** The cached entry if this message fits every limit (and counts it); otherwise evicts it. */
  private takeCached(cacheKey: string, length: number): EncryptEntry | undefined {
    const limits = this.encLimits;
    const entry = this.enc?.get(cacheKey);
    if (!entry || !limits) return undefined;
    const fits = this.now() - entry.fetchedAt < limits.maxAgeMs
      && entry.messages + 1 <= limits.maxMessagesPerKey
      && entry.bytes + length <= limits.maxBytesPerKey;
    if (!fits) {
      this.evict(this.enc, cacheKey);
      return undefined;
    }
    entry.messages++;
    entry.bytes += length;
    return entry;
  }

  /** An entry that can encrypt no further message leaves now rather than at its next lookup. */
  private afterUse(cacheKey: string, entry: EncryptEntry): void {
    if (this.encLimits && entry.messages >= this.encLimits.maxMessagesPerKey) this.evict(this.enc, cacheKey);
  }

  private run<K, T>(key: K, use: KeyUse<K, T>, done: () => void): T {
    try {
      const out = use(key) as T;
      if (typeof (out as { then?: unknown } | null)?.then === 'function') {
        throw new TypeError('a data-key callback must be synchronous (the key may be zeroed while a promise waits)');
      }
      return out;
    } finally {
      done();
    }
  }

  private evict<E extends object>(store: LruStore<E> | null, cacheKey: string): void {
    if (!store) return;
    const before = store.size;
    store.delete(cacheKey);
    this.counters.evictions += before - store.size;
  }

  private zero(b: Buffer): void {
    b.fill(0);
  }

  private encryptCacheKey(req: EncryptionKeyRequest): string {
    return digest([Buffer.from(req.keyId, 'utf8'), Buffer.from(String(req.numberOfBytes ?? 32)), canonicalContext(req.encryptionContext)]);
  }

  private decryptCacheKey(input: DecryptInput): string {
    return digest([input.ciphertextBlob, canonicalContext(input.encryptionContext), Buffer.from(input.keyId ?? '', 'utf8')]);
  }
}

/** SHA-256 over length-prefixed parts (injective: no two part lists share an encoding). */
function digest(parts: readonly Buffer[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    h.update(len).update(p);
  }
  return h.digest('base64');
}
