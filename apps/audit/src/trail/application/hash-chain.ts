/**
 * The trail's hash chain and checkpoint payloads (docs/siem.md, "Verifying"):
 * `h_0` = 32 zero bytes; `h_i = SHA-256(h_{i-1} || utf8(canonical(entry_i)))`, leaves numbered from 1.
 * A checkpoint signs `canonical({v:1, treeSize:n, root:hex(h_n), signedAt, keyId})` with Ed25519.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';

export const GENESIS_HASH: Buffer = Buffer.alloc(32);

export function chainHash(prev: Buffer, entryText: string): Buffer {
  return createHash('sha256').update(prev).update(entryText, 'utf8').digest();
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
