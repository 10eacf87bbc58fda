/**
 * What the load generator sends: the benchmarked operations, their request bodies (built from the
 * fixture of keys and blobs the harness prepared) and the mixed load's weights. Pure; shared by the
 * orchestrator and the worker process.
 */
import { randomBytes } from 'node:crypto';

export const BENCH_OPS = ['generate-data-key', 'decrypt', 'encrypt', 're-encrypt', 'generate-data-key-batch', 'decrypt-batch', 'mixed'] as const;
export type BenchOp = (typeof BENCH_OPS)[number];

/** Items per batch request (the limit is 100; vector ingest batches are usually small). */
export const BATCH_ITEMS = 10;

/** The mixed load of docs/performance.md: operation and weight in percent. */
export const MIXED_WEIGHTS = [
  ['generate-data-key', 40], ['decrypt', 40], ['encrypt', 10], ['re-encrypt', 5], ['rotate-key', 3], ['describe-key', 2],
] as const;

export interface FixtureKey { readonly keyId: string; readonly tenant: string; readonly context: Readonly<Record<string, string>> }
export interface FixtureBlob { readonly keyIndex: number; readonly ciphertextBlob: string }
export interface Fixture { readonly keys: readonly FixtureKey[]; readonly blobs: readonly FixtureBlob[] }

/** A request to send: the keys operation (its subject is `ekm.v1.keys.<op>`) and the JSON body. */
export interface BenchRequest { readonly op: string; readonly body: string }

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];
const PLAINTEXT_32 = (): string => randomBytes(32).toString('base64');

/** Request bodies for `op`, drawn at random over the fixture's keys and blobs. */
export function requestMaker(op: BenchOp, fx: Fixture): () => BenchRequest {
  const key = (): FixtureKey => pick(fx.keys);
  const blob = (): { ciphertextBlob: string; encryptionContext: Readonly<Record<string, string>> } => {
    const b = pick(fx.blobs);
    return { ciphertextBlob: b.ciphertextBlob, encryptionContext: fx.keys[b.keyIndex].context };
  };
  const single: Record<Exclude<BenchOp, 'mixed'>, () => BenchRequest> = {
    'generate-data-key': () => { const k = key(); return { op: 'generate-data-key', body: JSON.stringify({ keyId: k.keyId, encryptionContext: k.context }) }; },
    decrypt: () => ({ op: 'decrypt', body: JSON.stringify(blob()) }),
    encrypt: () => { const k = key(); return { op: 'encrypt', body: JSON.stringify({ keyId: k.keyId, plaintext: PLAINTEXT_32(), encryptionContext: k.context }) }; },
    're-encrypt': () => {
      const b = blob();
      return { op: 're-encrypt', body: JSON.stringify({ ciphertextBlob: b.ciphertextBlob, sourceEncryptionContext: b.encryptionContext, destinationEncryptionContext: b.encryptionContext }) };
    },
    'generate-data-key-batch': () => {
      const items = Array.from({ length: BATCH_ITEMS }, () => { const k = key(); return { keyId: k.keyId, encryptionContext: k.context }; });
      return { op: 'generate-data-key-batch', body: JSON.stringify({ items }) };
    },
    'decrypt-batch': () => ({ op: 'decrypt-batch', body: JSON.stringify({ items: Array.from({ length: BATCH_ITEMS }, blob) }) }),
  };
  if (op !== 'mixed') return single[op];
  const extra: Record<'rotate-key' | 'describe-key', () => BenchRequest> = {
    'rotate-key': () => ({ op: 'rotate-key', body: JSON.stringify({ keyId: key().keyId }) }),
    'describe-key': () => ({ op: 'describe-key', body: JSON.stringify({ keyId: key().keyId }) }),
  };
  const table: Array<() => BenchRequest> = [];
  for (const [name, weight] of MIXED_WEIGHTS) {
    const make = name === 'rotate-key' || name === 'describe-key' ? extra[name] : single[name];
    for (let i = 0; i < weight; i++) table.push(make);
  }
  return () => pick(table)();
}

/** Items per request of `op` (batch requests carry {@link BATCH_ITEMS}). */
export const itemsPerRequest = (op: BenchOp): number => (op.endsWith('-batch') ? BATCH_ITEMS : 1);
