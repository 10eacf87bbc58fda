// The spec recomputes the stored chain hashes independently of the code under test, so it hashes itself.
// eslint-disable-next-line @typescript-eslint/no-restricted-imports
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, type Json } from './canonical-json';

/** IEEE-754 bit pattern (hex) -> the double it encodes. */
const double = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0);

describe('canonicalJson is RFC 8785 (JCS)', () => {
  it('reproduces the RFC\'s own example (section 3.2.2: numbers, string escaping, literals)', () => {
    const input = JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],'
      + '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}') as Json;
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
      + '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('sorts keys by UTF-16 code units (section 3.2.3)', () => {
    const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // Object.keys would list the integer-like "1" first, so read the order off the text.
    const text = canonicalJson(input);
    const order = ['Carriage Return', 'One', 'Control', 'Latin Small', 'Euro Sign', 'Emoji', 'Hebrew'].map((v) => text.indexOf(v));
    expect(order.every((at, i) => at > (i === 0 ? 0 : order[i - 1]!))).toBe(true);
  });

  it.each([
    ['0000000000000000', '0'], ['8000000000000000', '0'], ['0000000000000001', '5e-324'], ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'], ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'], ['c340000000000000', '-9007199254740992'], ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'], ['44b52d02c7e14af6', '1e+23'], ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'], ['444b1ae4d6e2ef4f', '999999999999999900000'], ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'], ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'], ['41b3de4355555554', '333333333.33333325'], ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'], ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'], ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('serialises the double 0x%s as %s (appendix B)', (bits, text) => {
    expect(canonicalJson(double(bits))).toBe(text);
  });

  it('refuses what RFC 8785 cannot encode and what is not plain data', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => canonicalJson({ f: (() => 1) as unknown as Json })).toThrow(TypeError);
    expect(() => canonicalJson({ d: new Date(0) as unknown as Json })).toThrow(TypeError);
    expect(() => canonicalJson([Symbol('s') as unknown as Json])).toThrow(TypeError);
    expect(() => canonicalJson(1n as unknown as Json)).toThrow(TypeError);
  });

  it('drops undefined members and writes undefined array slots as null, like JSON.stringify', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true }, u: undefined })).toBe('{"a":{"c":true,"d":[1,"x",null]},"b":1}');
    expect(canonicalJson([1, undefined as unknown as Json])).toBe('[1,null]');
  });

  it('is stable under key order and parses back to the same text (property)', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const text = canonicalJson(v as Json);
      expect(canonicalJson(JSON.parse(text) as Json)).toBe(text);
      const reversed = JSON.parse(JSON.stringify(v), (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x)) as Json;
      expect(canonicalJson(reversed)).toBe(text);
    }));
  });
});

/**
 * Entries and hashes written by the hand-written encoder EKM used before the `canonicalize` package:
 * a stored trail holds exactly these bytes, so re-encoding the parsed entry must give them back and the
 * chain must come out the same, or a trail written before the switch would stop verifying.
 */
describe('trails written before the package switch', () => {
  const stored = [
    {
      entry: '{"action":"Decrypt","actor":{"principal":"alice"},"category":"key_usage","encryptionContext":{"collection":"docs","é":"ü","€":"😀"},"errorCode":"EKM_FORBIDDEN","keyId":"k","keyVersion":2,"leafIndex":1,"outcome":"denied","reason":"explicit deny","request":{"id":"r","traceId":"t"},"resource":{"id":"k","type":"key"},"schema":"ekm.audit.v1","source":{"eventId":"e-1","eventType":"KeyUsageRecorded","globalPosition":"9","service":"keys","streamId":"usage-1","streamPosition":3},"tenant":"acme","time":"2026-01-02T03:04:05.000Z","timeMs":1767323045000}',
      hash: '47c343a3351bd40c836c650d467049e641486120e49c409500da51701e80af4a',
    },
    {
      entry: '{"action":"KeyRotated","actor":{"principal":"ops"},"category":"key_lifecycle","keyId":"k","keyVersion":3,"leafIndex":2,"numbers":[0,-1,1.5,1e+21,1e-7,123456789012345680000,0.000001],"outcome":"success","reason":"line\\nbreak \\"quoted\\" \\\\ tab\\t ctl\\u0001","schema":"ekm.audit.v1","time":"2026-01-02T03:04:06.000Z","timeMs":1767323046000}',
      hash: '50ece2e3ac567ea865c9db6f9d5682e38be52944a374a2c6121abf7c5e06e991',
    },
  ];
  const checkpoint = '{"keyId":"audit-1","root":"50ece2e3ac567ea865c9db6f9d5682e38be52944a374a2c6121abf7c5e06e991","signedAt":"2026-01-02T03:05:00.000Z","treeSize":2,"v":1}';

  it('re-encodes every stored entry to the stored bytes and the chain to the stored hashes', () => {
    let h = Buffer.alloc(32);
    for (const row of stored) {
      const text = canonicalJson(JSON.parse(row.entry) as Json);
      expect(text).toBe(row.entry);
      h = createHash('sha256').update(h).update(text, 'utf8').digest();
      expect(h.toString('hex')).toBe(row.hash);
    }
  });

  it('re-encodes the stored checkpoint payload byte for byte', () => {
    expect(canonicalJson({ v: 1, treeSize: 2, root: stored[1]!.hash, signedAt: '2026-01-02T03:05:00.000Z', keyId: 'audit-1' })).toBe(checkpoint);
  });
});
