/**
 * The trail's hash chain and checkpoint payloads (docs/siem.md, "Verifying"):
 * `h_0` = 32 zero bytes; `h_i = SHA-256(h_{i-1} || utf8(canonical(entry_i)))`, leaves numbered from 1.
 * A checkpoint signs `canonical({v:1, treeSize:n, root:hex(h_n), signedAt, keyId})` with Ed25519.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';

export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/**
 * One-shot `crypto.hash` over `prev || utf8(entry)`: the same digest as a streaming Hash, without a Hash
 * object per entry (constructing it was ~30 % of verify's CPU, and most of its garbage).
 */
export function chainHash(prev: Buffer, entryText: string): Buffer {
  const input = Buffer.allocUnsafe(prev.length + Buffer.byteLength(entryText, 'utf8'));
  prev.copy(input, 0);
  input.write(entryText, prev.length, 'utf8');
  return hash('sha256', input, 'buffer');
}

export interface CheckpointPayload {
  readonly v: 1;
  readonly treeSize: number;
  readonly root: string;
  readonly signedAt: string;
  readonly keyId: string;
}

export function checkpointPayload(p: Omit<CheckpointPayload, 'v'>): string {
  return canonicalJson({ v: 1, treeSize: p.treeSize, root: p.root, signedAt: p.signedAt, keyId: p.keyId });
}

/** Parses a stored payload; null when it is not one (a forged or corrupted row). */
export function parseCheckpointPayload(text: string): CheckpointPayload | null {
  try {
    const p = JSON.parse(text) as Partial<CheckpointPayload>;
    if (p.v !== 1 || !Number.isSafeInteger(p.treeSize) || typeof p.root !== 'string' || !/^[0-9a-f]{64}$/.test(p.root)) return null;
    if (typeof p.signedAt !== 'string' || typeof p.keyId !== 'string') return null;
    return p as CheckpointPayload;
  } catch {
    return null;
  }
}
