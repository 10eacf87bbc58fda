/**
 * Recomputes the chain over the whole trail and checks it against every signed checkpoint.
 * Finds edited (entry or query columns), deleted, inserted and reordered entries and a tail cut below the last checkpoint,
 * naming the first bad index. Entries after the last checkpoint are only as good as the chain
 * (an attacker who re-hashes them is caught at the next checkpoint).
 */
import { chainHash, GENESIS_HASH, parseCheckpointPayload } from './hash-chain';

export interface TrailRow {
  readonly leafIndex: number;
  readonly entry: string;
  readonly hash: Buffer;
  /** Whether the row's query columns are what its entry says (false: edited apart from the entry); absent when not checked. */
  readonly columnsMatch?: boolean;
}

export interface CheckpointRow {
  readonly treeSize: number;
  readonly root: Buffer;
  readonly payload: string;
  readonly signature: Buffer;
}

/** Where verify reads from (Postgres in the service; arrays in unit tests). */
export interface TrailSource {
  checkpoints(): Promise<readonly CheckpointRow[]>;
  /** Rows with leafIndex > after, ascending, at most `limit`. */
  scan(after: number, limit: number): Promise<readonly TrailRow[]>;
  /** Highest leaf index present (progress total); 0 when empty. */
  head(): Promise<number>;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** Entries read. */
  readonly entries: number;
  readonly firstBadIndex: number | null;
  readonly reason: string;
  /** Valid checkpoints seen and the largest tree size they cover. */
  readonly checkpoints: number;
  readonly signedThrough: number;
}

export interface VerifyOptions {
  readonly verifySignature: (payload: string, signature: Buffer) => boolean;
  readonly batchSize?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

interface Problem {
  readonly index: number;
  readonly reason: string;
}

export async function verifyTrail(src: TrailSource, o: VerifyOptions): Promise<VerifyResult> {
  const problems: Problem[] = [];
  const roots = new Map<number, Buffer>();
  const cps = [...(await src.checkpoints())].sort((a, b) => a.treeSize - b.treeSize);
  for (const cp of cps) {
    const p = parseCheckpointPayload(cp.payload);
    if (!p || p.treeSize !== cp.treeSize || p.root !== cp.root.toString('hex') || !o.verifySignature(cp.payload, cp.signature)) {
      problems.push({ index: cp.treeSize, reason: `checkpoint of tree size ${cp.treeSize} has an invalid signature or payload (forged or altered)` });
      continue;
    }
    roots.set(cp.treeSize, cp.root);
  }
  const signedSizes = [...roots.keys()];
  const signedThrough = signedSizes.length > 0 ? signedSizes[signedSizes.length - 1] : 0;
  const total = await src.head();
  const batch = o.batchSize ?? 2_000;
  let prev = GENESIS_HASH;
  let expected = 1;
  let lastGoodCheckpoint = 0;
  let stop = false;
  // The next batch is read while this one is hashed (Postgres and the hashing overlap).
  let next: Promise<readonly TrailRow[]> | null = src.scan(0, batch);
  while (!stop && next !== null) {
    const rows = await next;
    next = null;
    if (rows.length === 0) break;
    if (rows.length === batch) next = src.scan(rows[rows.length - 1].leafIndex, batch);
    for (const row of rows) {
      if (row.leafIndex !== expected) {
        problems.push({ index: expected, reason: `entry ${expected} is missing (the next stored entry is ${row.leafIndex}): deleted or renumbered` });
        stop = true;
        break;
      }
      const h = chainHash(prev, row.entry);
      if (!h.equals(row.hash)) {
        problems.push({ index: expected, reason: `entry ${expected} does not match its chain hash: edited, inserted or reordered` });
        stop = true;
        break;
      }
      // The chain covers the entry; the query columns are copies of its fields and must agree with it.
      if (row.columnsMatch === false) {
        problems.push({ index: expected, reason: `entry ${expected}'s query columns differ from the entry its hash covers: edited` });
        stop = true;
        break;
      }
      const root = roots.get(expected);
      if (root) {
        if (!h.equals(root)) {
          problems.push({ index: lastGoodCheckpoint + 1, reason: `the chain through ${expected} differs from its signed checkpoint: an entry in ${lastGoodCheckpoint + 1}..${expected} was altered and the chain re-hashed` });
          stop = true;
          break;
        }
        lastGoodCheckpoint = expected;
      }
      prev = h;
      expected++;
    }
    o.onProgress?.(expected - 1, Math.max(total, expected - 1));
  }
  // A read started before a problem stopped the walk: its outcome no longer matters.
  if (next !== null) (next as Promise<readonly TrailRow[]>).catch(() => undefined);
  const entries = expected - 1;
  if (!stop && signedThrough > entries) {
    problems.push({ index: entries + 1, reason: `the trail ends at entry ${entries} but a signed checkpoint covers ${signedThrough} entries: the tail was cut` });
  }
  if (problems.length === 0) {
    return { ok: true, entries, firstBadIndex: null, reason: `chain intact; ${roots.size} checkpoint(s) verified, signed through entry ${signedThrough}`, checkpoints: roots.size, signedThrough };
  }
  const first = problems.reduce((a, b) => (b.index < a.index ? b : a));
  return { ok: false, entries, firstBadIndex: first.index, reason: first.reason, checkpoints: roots.size, signedThrough };
}
