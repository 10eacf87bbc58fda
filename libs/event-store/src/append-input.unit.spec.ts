import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { eventIdFor, uuidV5 } from './append-input';

describe('event ids', () => {
  it('implements UUID v5 (same as Python uuid.uuid5(NAMESPACE_DNS, www.example.com))', () => {
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(uuidV5('www.example.com', dns)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the same ids as the hand-written v5 it replaced (event ids already stored stay derivable)', () => {
    const previous = (name: string, namespace: Buffer): string => {
      const b = Buffer.from(createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16));
      b[6] = (b[6]! & 0x0f) | 0x50;
      b[8] = (b[8]! & 0x3f) | 0x80;
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    };
    const ns = Buffer.from('6f1f4a0e2b7c4d1e9a35c8e07b1d2f44', 'hex');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (name, raw) => {
      expect(uuidV5(name, ns)).toBe(previous(name, ns));
      expect(uuidV5(name, Buffer.from(raw))).toBe(previous(name, Buffer.from(raw)));
    }), { numRuns: 500 });
  });

  it('is deterministic per (stream, command, index) and separates different triples', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.nat(10), fc.string(), fc.string(), fc.nat(10), (s1, c1, i1, s2, c2, i2) => {
        expect(eventIdFor(s1, c1, i1)).toBe(eventIdFor(s1, c1, i1));
        expect(eventIdFor(s1, c1, i1)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        if (s1 !== s2 || c1 !== c2 || i1 !== i2) expect(eventIdFor(s1, c1, i1)).not.toBe(eventIdFor(s2, c2, i2));
      }),
    );
    expect(eventIdFor('a:b', 'c', 0)).not.toBe(eventIdFor('a', 'b:c', 0));
  });
});
