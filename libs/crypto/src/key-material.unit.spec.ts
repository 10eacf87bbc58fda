import { inspect } from 'node:util';
import fc from 'fast-check';
import { KeyMaterialDisposedError } from './errors';
import { KeyMaterial, keyFingerprint } from './key-material';

describe('KeyMaterial', () => {
  it('never shows its bytes in JSON.stringify, util.inspect, String(), template strings or nested objects', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }), (bytes) => {
        const m = KeyMaterial.copyOf(bytes);
        const hex = Buffer.from(bytes).toString('hex');
        const b64 = Buffer.from(bytes).toString('base64');
        const renderings = [JSON.stringify(m), JSON.stringify({ nested: { m } }), inspect(m, { showHidden: true, depth: 10 }), inspect({ m }), String(m), `${m}`, m.toString(), `${[m]}`];
        for (const r of renderings) {
          expect(r).not.toContain(hex);
          expect(r).not.toContain(b64);
          expect(r).not.toMatch(/\d+,\d+,\d+/); // no byte arrays either
        }
        expect(`${m}`).toBe('[KeyMaterial redacted]');
        expect(JSON.stringify({ m })).toBe('{"m":{}}');
      }),
    );
    expect((KeyMaterial.random(4) as unknown as { toJSON?: unknown }).toJSON).toBeUndefined();
  });

  it('dispose() zero-fills the very buffer it adopted and makes use() throw', () => {
    const raw = Buffer.from([1, 2, 3, 4]);
    const m = KeyMaterial.adopt(raw);
    expect(m.use((b) => b.equals(Buffer.from([1, 2, 3, 4])))).toBe(true);
    m.dispose();
    expect(raw.equals(Buffer.alloc(4))).toBe(true);
    expect(m.isDisposed).toBe(true);
    expect(() => m.use((b) => b)).toThrow(KeyMaterialDisposedError);
    expect(() => m.dispose()).not.toThrow();
  });

  it('copyOf copies; random has the length asked; empty material is refused', () => {
    const raw = Buffer.from([9, 9]);
    const m = KeyMaterial.copyOf(raw);
    m.dispose();
    expect(raw.equals(Buffer.from([9, 9]))).toBe(true);
    expect(KeyMaterial.random(17).length).toBe(17);
    expect(() => KeyMaterial.adopt(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => KeyMaterial.random(0)).toThrow();
  });

  it('fingerprint: 16 hex chars, deterministic, differs between materials, contains no material', () => {
    const a = KeyMaterial.copyOf(Buffer.alloc(32, 1));
    const b = KeyMaterial.copyOf(Buffer.alloc(32, 2));
    expect(keyFingerprint(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyFingerprint(a)).toBe(keyFingerprint(KeyMaterial.copyOf(Buffer.alloc(32, 1))));
    expect(keyFingerprint(a)).not.toBe(keyFingerprint(b));
    expect(Buffer.alloc(32, 1).toString('hex')).not.toContain(keyFingerprint(a));
  });
});
