import fc from 'fast-check';
import { canonicalEncryptionContext } from '@ekm/crypto';
import { EkmError } from '../ekm-error';
import { CacheLimitsInvalidError } from './cache-limits';
import { canonicalContext } from './canonical-context';
import { CachingDataKeyProvider, type CachingDataKeyProviderOptions } from './caching-data-key-provider';
import { FakeCryptoClient } from './fake-crypto-client.test-harness';

const ctx = { tenant: 't1', collection: 'docs', asset: 'a1' };

function setup(options: CachingDataKeyProviderOptions = {}) {
  const fake = new FakeCryptoClient();
  const keyId = fake.createKey();
  let t = 0;
  const provider = new CachingDataKeyProvider(fake, { now: () => t, ...options });
  /** One encryption of `bytes`; returns the (live) plaintext buffer and blob the provider handed out. */
  const use = (bytes: number, encryptionContext: Record<string, string> = ctx, extra: { numberOfBytes?: number; keyId?: string } = {}) =>
    provider.withEncryptionKey({ keyId: extra.keyId ?? keyId, encryptionContext, plaintextLength: bytes, ...(extra.numberOfBytes ? { numberOfBytes: extra.numberOfBytes } : {}) },
      (k) => ({ plaintext: k.plaintext, blob: k.ciphertextBlob, copy: Buffer.from(k.plaintext) }));
  return { fake, keyId, provider, use, setNow: (ms: number) => { t = ms; } };
}

const isZero = (b: Buffer) => b.every((x) => x === 0);

describe('CachingDataKeyProvider: encrypt-side limits hold exactly', () => {
  it('maxMessagesPerKey N: N messages share one data key, message N+1 calls GenerateDataKey again', async () => {
    const { fake, use } = setup({ encrypt: { maxMessagesPerKey: 3 } });
    const uses = [await use(1), await use(1), await use(1)];
    expect(fake.calls.generateDataKey).toBe(1);
    expect(new Set(uses.map((u) => u.blob.toString('hex'))).size).toBe(1);
    // The third use exhausted the key: it left the cache (zeroed) right after that use.
    expect(isZero(uses[0]!.plaintext)).toBe(true);
    const fourth = await use(1);
    expect(fake.calls.generateDataKey).toBe(2);
    expect(fourth.copy.equals(uses[0]!.copy)).toBe(false);
  });

  it('maxMessagesPerKey 1: every message gets its own key', async () => {
    const { fake, use } = setup({ encrypt: { maxMessagesPerKey: 1 } });
    for (let i = 0; i < 4; i++) await use(10);
    expect(fake.calls.generateDataKey).toBe(4);
  });

  it('maxBytesPerKey B: messages up to exactly B bytes share a key; one byte more gets a fresh key', async () => {
    const { fake, provider, use } = setup({ encrypt: { maxBytesPerKey: 100 } });
    const a = await use(40);
    await use(60); // 100 in total: exactly the limit
    expect(fake.calls.generateDataKey).toBe(1);
    await use(0); // an empty message adds no bytes
    expect(fake.calls.generateDataKey).toBe(1);
    await use(1); // would make 101
    expect(fake.calls.generateDataKey).toBe(2);
    expect(isZero(a.plaintext)).toBe(true); // the refused entry was evicted and zeroed
    expect(provider.stats().encryptEntries).toBe(1);
  });

  it('a message that would cross the byte limit gets a fresh key, and the fresh key counts only that message', async () => {
    const { fake, use } = setup({ encrypt: { maxBytesPerKey: 100 } });
    await use(40);
    const b = await use(61); // 40 + 61 > 100
    expect(fake.calls.generateDataKey).toBe(2);
    const c = await use(39); // 61 + 39 = 100 fits the fresh key
    expect(fake.calls.generateDataKey).toBe(2);
    expect(c.blob.equals(b.blob)).toBe(true);
  });

  it('one message larger than maxBytesPerKey uses a key of its own that is never cached', async () => {
    const { fake, provider, use } = setup({ encrypt: { maxBytesPerKey: 100 } });
    const big = await use(101);
    expect(isZero(big.plaintext)).toBe(true);
    expect(provider.stats().encryptEntries).toBe(0);
    await use(5);
    await use(5);
    expect(fake.calls.generateDataKey).toBe(2);
  });

  it('maxAgeMs: used while now - fetchedAt < maxAgeMs; at exactly maxAgeMs a new key is fetched and the old one zeroed', async () => {
    const { fake, use, setNow } = setup({ encrypt: { maxAgeMs: 1000 } });
    setNow(5000);
    const first = await use(1);
    setNow(5999);
    await use(1);
    expect(fake.calls.generateDataKey).toBe(1);
    setNow(6000);
    await use(1);
    expect(fake.calls.generateDataKey).toBe(2);
    expect(isZero(first.plaintext)).toBe(true);
  });

  it('maxEntries: the least recently used partition is evicted and zeroed', async () => {
    const { fake, provider, use } = setup({ encrypt: { maxEntries: 2 } });
    const a = await use(1, { tenant: 'a' });
    await use(1, { tenant: 'b' });
    await use(1, { tenant: 'a' }); // a is now most recent
    await use(1, { tenant: 'c' }); // evicts b
    expect(provider.stats().encryptEntries).toBe(2);
    expect(isZero(a.plaintext)).toBe(false);
    expect(fake.calls.generateDataKey).toBe(3);
    await use(1, { tenant: 'b' });
    expect(fake.calls.generateDataKey).toBe(4);
  });

  it('partitions by key id, canonical context (not key order) and key length', async () => {
    const { fake, use } = setup();
    const other = fake.createKey();
    await use(1, { x: '1', y: '2' });
    await use(1, { y: '2', x: '1' });
    expect(fake.calls.generateDataKey).toBe(1);
    await use(1, { x: '1', y: '3' });
    await use(1, { x: '1', y: '2' }, { numberOfBytes: 16 });
    await use(1, { x: '1', y: '2' }, { keyId: other });
    expect(fake.calls.generateDataKey).toBe(4);
  });

  it('property: across random message sizes, no data key exceeds N messages or B bytes, and keys are fetched only when a limit forces it', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 50 }), fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }),
      async (n, b, sizes) => {
        const { fake, use } = setup({ encrypt: { maxMessagesPerKey: n, maxBytesPerKey: b } });
        const perKey = new Map<string, { messages: number; bytes: number }>();
        let expected = 0;
        let model: { messages: number; bytes: number } | null = null; // the model's cached entry
        for (const size of sizes) {
          const u = await use(size);
          const k = u.blob.toString('hex');
          const s = perKey.get(k) ?? { messages: 0, bytes: 0 };
          s.messages++;
          s.bytes += size;
          perKey.set(k, s);
          if (model && model.messages + 1 <= n && model.bytes + size <= b) {
            model.messages++;
            model.bytes += size;
          } else {
            expected++;
            model = size > b ? null : { messages: 1, bytes: size };
            if (model && model.messages >= n) model = null;
          }
        }
        expect(fake.calls.generateDataKey).toBe(expected);
        for (const s of perKey.values()) {
          expect(s.messages).toBeLessThanOrEqual(n);
          if (s.messages > 1) expect(s.bytes).toBeLessThanOrEqual(b);
        }
      }), { numRuns: 150 });
  });

  it('turned off: every message calls GenerateDataKey and its key is zeroed after the callback', async () => {
    const { fake, use } = setup({ encrypt: false });
    const a = await use(1);
    await use(1);
    expect(fake.calls.generateDataKey).toBe(2);
    expect(isZero(a.plaintext)).toBe(true);
  });

  it('refuses an asynchronous callback (the key could be zeroed while it waits)', async () => {
    const { provider, keyId } = setup();
    await expect(provider.withEncryptionKey({ keyId, plaintextLength: 1 }, (() => Promise.resolve(1)) as never)).rejects.toThrow(TypeError);
    await expect(provider.withEncryptionKey({ keyId, plaintextLength: -1 }, () => 1)).rejects.toThrow(RangeError);
  });

  it('rejects out-of-range limits with a typed error naming the field', () => {
    const fake = new FakeCryptoClient();
    for (const [encrypt, field] of [[{ maxMessagesPerKey: 0 }, 'maxMessagesPerKey'], [{ maxMessagesPerKey: 2 ** 32 + 1 }, 'maxMessagesPerKey'],
      [{ maxBytesPerKey: -1 }, 'maxBytesPerKey'], [{ maxAgeMs: 0 }, 'maxAgeMs'], [{ maxEntries: 1.5 }, 'maxEntries']] as const) {
      expect(() => new CachingDataKeyProvider(fake, { encrypt })).toThrow(expect.objectContaining({ code: 'CACHE_LIMITS_INVALID', field }));
    }
    expect(() => new CachingDataKeyProvider(fake, { decrypt: { maxEntries: 0 } })).toThrow(CacheLimitsInvalidError);
  });
});

describe('CachingDataKeyProvider: decrypt-side cache', () => {
  async function wrapped() {
    const s = setup({ decrypt: { maxAgeMs: 1000, maxEntries: 2 } });
    const dk = await s.fake.generateDataKey({ keyId: s.keyId, encryptionContext: ctx });
    const open = (blob = dk.ciphertextBlob, encryptionContext: Record<string, string> = ctx) =>
      s.provider.withDecryptionKey({ ciphertextBlob: blob, encryptionContext }, (k) => ({ live: k.plaintext, copy: Buffer.from(k.plaintext) }));
    return { ...s, dk, open };
  }

  it('unwraps one blob once within maxAgeMs; at exactly maxAgeMs it asks EKM again and zeroes the old key', async () => {
    const { fake, dk, open, setNow } = await wrapped();
    const first = await open();
    expect(first.copy.equals(dk.plaintext)).toBe(true);
    setNow(999);
    await open();
    expect(fake.calls.decrypt).toBe(1);
    setNow(1000);
    await open();
    expect(fake.calls.decrypt).toBe(2);
    expect(isZero(first.live)).toBe(true);
  });

  it('a different context is a different entry, checked by EKM (and refused there)', async () => {
    const { fake, open } = await wrapped();
    await open();
    await expect(open(undefined, { ...ctx, asset: 'other' })).rejects.toMatchObject({ code: 'EKM_INVALID_CIPHERTEXT' });
    expect(fake.calls.decrypt).toBe(2);
  });

  it('failures are not cached; maxEntries evicts the least recently used; invalidateKey drops a key\'s entries', async () => {
    const { fake, keyId, provider, dk, open } = await wrapped();
    const flipped = Buffer.from(dk.ciphertextBlob);
    flipped[flipped.length - 1]! ^= 1;
    await expect(open(flipped)).rejects.toBeInstanceOf(EkmError);
    await expect(open(flipped)).rejects.toBeInstanceOf(EkmError);
    expect(fake.calls.decrypt).toBe(2);
    const a = await open();
    const b = await fake.generateDataKey({ keyId, encryptionContext: ctx });
    const c = await fake.generateDataKey({ keyId, encryptionContext: ctx });
    await open(b.ciphertextBlob);
    await open(c.ciphertextBlob); // evicts the first blob's key
    expect(isZero(a.live)).toBe(true);
    expect(provider.stats().decryptEntries).toBe(2);
    expect(provider.invalidateKey(keyId)).toBe(2);
    expect(provider.stats().decryptEntries).toBe(0);
  });
});

describe('canonicalContext', () => {
  it('is byte-identical to the encoding EKM authenticates (@ekm/crypto)', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 6 }), (m) => {
      let expected: Buffer;
      try {
        expected = canonicalEncryptionContext(m);
      } catch {
        return; // lone surrogates: EKM refuses the context itself
      }
      expect(canonicalContext(m).equals(expected)).toBe(true);
    }));
  });
});
