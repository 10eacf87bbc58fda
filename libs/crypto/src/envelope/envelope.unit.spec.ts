import { createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { EncryptionContextInvalidError, InvalidCiphertextError, InvalidKeyLengthError, UnwrapFailedError } from '../errors';
import { KeyMaterial } from '../key-material';
import { aesGcmDecrypt, aesGcmEncrypt } from './aes-gcm';
import { kwpUnwrap, kwpWrap } from './aes-kwp';
import { dataKeyLength, generateDataKey } from './data-key';
import { canonicalEncryptionContext, MAX_CONTEXT_BYTES, MAX_CONTEXT_ENTRIES } from './encryption-context';
import { hmacSha256, verifyHmacSha256 } from './hmac';

const key = () => KeyMaterial.random(32);

describe('AES-256-GCM', () => {
  it('round trips with AAD; wrong AAD, wrong key, short tag and any flipped byte fail as InvalidCiphertextError', () => {
    const k = key();
    const aad = Buffer.from('aad');
    const sealed = aesGcmEncrypt(k, Buffer.from('hello'), aad);
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.tag).toHaveLength(16);
    expect(aesGcmDecrypt(k, sealed, aad).toString()).toBe('hello');
    expect(() => aesGcmDecrypt(k, sealed, Buffer.from('other'))).toThrow(InvalidCiphertextError);
    expect(() => aesGcmDecrypt(key(), sealed, aad)).toThrow(InvalidCiphertextError);
    expect(() => aesGcmDecrypt(k, { ...sealed, tag: sealed.tag.subarray(0, 4) }, aad)).toThrow(InvalidCiphertextError);
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] ^= 1;
    expect(() => aesGcmDecrypt(k, { ...sealed, ciphertext: flipped }, aad)).toThrow(InvalidCiphertextError);
    expect(() => aesGcmDecrypt(KeyMaterial.random(16), sealed, aad)).toThrow(InvalidCiphertextError);
  });

  it('uses a fresh IV per call', () => {
    const k = key();
    const ivs = new Set(Array.from({ length: 100 }, () => aesGcmEncrypt(k, Buffer.alloc(1), Buffer.alloc(0)).iv.toString('hex')));
    expect(ivs.size).toBe(100);
  });

  it('Node would accept a 4-byte tag without authTagLength: the pitfall our decrypt closes', () => {
    const k = key();
    const sealed = aesGcmEncrypt(k, Buffer.from('x'), Buffer.alloc(0));
    const d = k.use((b) => createDecipheriv('aes-256-gcm', b, sealed.iv));
    expect(() => d.setAuthTag(sealed.tag.subarray(0, 4))).not.toThrow();
  });
});

describe('AES-KWP (RFC 5649)', () => {
  it('round trips any length; the output is the 8-byte-padded length + 8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (data) => {
        const kek = Buffer.alloc(32, 7);
        const w = kwpWrap(kek, Buffer.from(data));
        expect(w.length).toBe(Math.ceil(data.length / 8) * 8 + 8);
        expect(kwpUnwrap(kek, w).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('any bit flip, truncation or wrong key is UnwrapFailedError', () => {
    const kek = Buffer.alloc(32, 3);
    const w = kwpWrap(kek, Buffer.alloc(32, 9));
    for (let bit = 0; bit < w.length * 8; bit++) {
      const v = Buffer.from(w);
      v[bit >> 3] ^= 1 << (bit & 7);
      expect(() => kwpUnwrap(kek, v)).toThrow(UnwrapFailedError);
    }
    for (let len = 0; len < w.length; len++) expect(() => kwpUnwrap(kek, w.subarray(0, len))).toThrow(UnwrapFailedError);
    expect(() => kwpUnwrap(Buffer.alloc(32, 4), w)).toThrow(UnwrapFailedError);
  });
});

describe('HMAC-SHA256', () => {
  it('produces 32-byte MACs and verifies them (wrong message, key or length is false)', () => {
    const k = KeyMaterial.copyOf(Buffer.alloc(32, 0x0b));
    const mac = hmacSha256(k, Buffer.from('Hi There'));
    expect(mac).toHaveLength(32);
    expect(verifyHmacSha256(k, Buffer.from('Hi There'), mac)).toBe(true);
    expect(verifyHmacSha256(k, Buffer.from('Hi there'), mac)).toBe(false);
    expect(verifyHmacSha256(k, Buffer.from('Hi There'), mac.subarray(0, 31))).toBe(false);
    expect(verifyHmacSha256(KeyMaterial.random(32), Buffer.from('Hi There'), mac)).toBe(false);
    expect(() => hmacSha256(KeyMaterial.random(16), Buffer.alloc(0))).toThrow(InvalidKeyLengthError);
  });
});

describe('data keys', () => {
  it('AES_256 is 32 bytes; 1..1024 bytes allowed; anything else is InvalidKeyLengthError', () => {
    expect(generateDataKey('AES_256').length).toBe(32);
    expect(generateDataKey({ numberOfBytes: 1 }).length).toBe(1);
    expect(generateDataKey({ numberOfBytes: 1024 }).length).toBe(1024);
    for (const n of [0, -1, 1025, 1.5, Number.NaN]) expect(() => dataKeyLength({ numberOfBytes: n })).toThrow(InvalidKeyLengthError);
  });
});

describe('canonical encryption context', () => {
  const ctxArb = fc.dictionary(fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }), fc.string({ maxLength: 12, unit: 'grapheme' }), { maxKeys: 8 });

  it('is independent of insertion order', () => {
    fc.assert(
      fc.property(ctxArb, (ctx) => {
        const reversed = Object.fromEntries(Object.entries(ctx).reverse());
        expect(canonicalEncryptionContext(reversed).equals(canonicalEncryptionContext(ctx))).toBe(true);
      }),
    );
  });

  it('is injective: different contexts never encode the same', () => {
    fc.assert(
      fc.property(ctxArb, ctxArb, (a, b) => {
        const same = JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
        expect(canonicalEncryptionContext(a).equals(canonicalEncryptionContext(b))).toBe(same);
      }),
    );
    // classic concatenation ambiguities
    const enc = (c: Record<string, string>) => canonicalEncryptionContext(c).toString('hex');
    expect(enc({ ab: 'c' })).not.toBe(enc({ a: 'bc' }));
    expect(enc({ a: '', b: '' })).not.toBe(enc({ a: 'b' }));
  });

  it('has a fixed layout', () => {
    expect(canonicalEncryptionContext({}).toString('hex')).toBe('00000000');
    expect(canonicalEncryptionContext({ b: '2', a: '1' }).toString('hex')).toBe('00000002' + '00000001' + '61' + '00000001' + '31' + '00000001' + '62' + '00000001' + '32');
  });

  it('rejects non-objects, non-string values, empty keys, lone surrogates and oversize contexts with typed errors', () => {
    const problem = (ctx: unknown) => {
      try {
        canonicalEncryptionContext(ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(EncryptionContextInvalidError);
        return (e as EncryptionContextInvalidError).problem;
      }
      return 'accepted';
    };
    expect(problem(null)).toBe('NOT_AN_OBJECT');
    expect(problem(['a'])).toBe('NOT_AN_OBJECT');
    expect(problem(new Map())).toBe('NOT_AN_OBJECT');
    expect(problem({ a: 1 })).toBe('VALUE_NOT_STRING');
    expect(problem({ a: { b: 'c' } })).toBe('VALUE_NOT_STRING');
    expect(problem({ '': 'x' })).toBe('EMPTY_KEY');
    expect(problem({ a: '\ud800' })).toBe('MALFORMED_STRING');
    expect(problem({ '\udc00': 'a' })).toBe('MALFORMED_STRING');
    expect(problem({ [Symbol('s')]: 'a' })).toBe('NOT_AN_OBJECT');
    expect(problem(Object.fromEntries(Array.from({ length: MAX_CONTEXT_ENTRIES + 1 }, (_, i) => [`k${i}`, 'v'])))).toBe('TOO_MANY_ENTRIES');
    expect(problem({ a: 'x'.repeat(MAX_CONTEXT_BYTES) })).toBe('TOO_LARGE');
    expect(problem(Object.assign(Object.create(null) as object, { a: 'b' }))).toBe('accepted');
  });
});
