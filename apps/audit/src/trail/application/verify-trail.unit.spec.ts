import { generateKeyPairSync, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { chainHash, checkpointPayload, GENESIS_HASH } from './hash-chain';
import { verifyTrail, type CheckpointRow, type TrailRow, type TrailSource } from './verify-trail';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const verifySignature = (p: string, s: Buffer): boolean => verify(null, Buffer.from(p), publicKey, s);

function build(n: number, every: number): { rows: TrailRow[]; cps: CheckpointRow[] } {
  const rows: TrailRow[] = [];
  const cps: CheckpointRow[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const entry = `{"leafIndex":${i},"v":"e${i}"}`;
    prev = chainHash(prev, entry);
    rows.push({ leafIndex: i, entry, hash: prev });
    if (i % every === 0) {
      const payload = checkpointPayload({ treeSize: i, root: prev.toString('hex'), signedAt: 't', keyId: 'k' });
      cps.push({ treeSize: i, root: prev, payload, signature: sign(null, Buffer.from(payload), privateKey) });
    }
  }
  return { rows, cps };
}

const source = (rows: TrailRow[], cps: CheckpointRow[]): TrailSource => ({
  checkpoints: async () => cps,
  head: async () => (rows.length ? rows[rows.length - 1].leafIndex : 0),
  scan: async (after, limit) => rows.filter((r) => r.leafIndex > after).sort((a, b) => a.leafIndex - b.leafIndex).slice(0, limit),
});

describe('verifyTrail (pure)', () => {
  it('accepts an intact trail and an empty one', async () => {
    const { rows, cps } = build(25, 10);
    expect(await verifyTrail(source(rows, cps), { verifySignature, batchSize: 7 })).toMatchObject({ ok: true, entries: 25, checkpoints: 2, signedThrough: 20 });
    expect(await verifyTrail(source([], []), { verifySignature })).toMatchObject({ ok: true, entries: 0 });
  });

  it('names the first bad index of any single edit, deletion or swap (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 40 }), fc.nat(), fc.constantFrom('edit', 'delete', 'swap'), async (n, pick, kind) => {
      const { rows, cps } = build(n, 5);
      const i = (pick % (n - 1)) + 1;
      const t = rows.map((r) => ({ ...r }));
      if (kind === 'edit') t[i - 1] = { ...t[i - 1], entry: t[i - 1].entry.replace('"e', '"x') };
      if (kind === 'delete') t.splice(i - 1, 1);
      if (kind === 'swap') [t[i - 1], t[i]] = [{ ...t[i], leafIndex: i }, { ...t[i - 1], leafIndex: i + 1 }];
      const r = await verifyTrail(source(t, cps), { verifySignature, batchSize: 4 });
      expect(r).toMatchObject({ ok: false, firstBadIndex: i });
    }));
  });

  it('reports progress up to the total', async () => {
    const { rows, cps } = build(30, 10);
    const seen: number[] = [];
    await verifyTrail(source(rows, cps), { verifySignature, batchSize: 8, onProgress: (d) => seen.push(d) });
    expect(seen[seen.length - 1]).toBe(30);
  });
});
