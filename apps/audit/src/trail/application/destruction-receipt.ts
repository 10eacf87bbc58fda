/**
 * Signed destruction receipts: built on request from the trail itself (no separate store), so a
 * receipt says only what the hash-chained trail says, and asking twice gives the same bytes (Ed25519
 * signatures are deterministic and the receipt has no issue time).
 *
 * A receipt names the key, each version with the commitment recorded when its material was created
 * (the `fingerprint` of KeyVersionAdded / KeyMaterialImported: a truncated SHA-256 of the material
 * under a domain prefix, never the material), the KeyDestroyed entry (trail index and chain hash) and
 * the EpochEnded entry of the keys service's roll that destroyed the root-of-trust epoch keys.
 */
import type { DestructionReceiptReply, SignedDestructionReceiptReply } from '@ekm/contracts';
import { canonicalJson, type Json } from '../domain/canonical-json';

/** One trail row, as far as receipts read it. */
export interface ReceiptTrailRow {
  readonly leafIndex: number;
  readonly hash: string;
  readonly entry: { readonly action: string; readonly time: string; readonly tenant?: string; readonly keyId?: string; readonly details?: unknown };
}

// The wire types (`ekm.v1.audit.destruction-receipt`); the SDK's offline check reads the same ones.
export type DestructionReceipt = DestructionReceiptReply;
export type SignedDestructionReceipt = SignedDestructionReceiptReply;

export type ReceiptProblem = 'NOT_DESTROYED' | 'EPOCH_PENDING';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

/**
 * `keyRows`: the key's own entries in trail order; `epochRows`: EpochEnded entries after its
 * KeyDestroyed, in trail order. The receipt cites the first roll that names the key.
 */
export function buildReceipt(keyId: string, keyRows: readonly ReceiptTrailRow[], epochRows: readonly ReceiptTrailRow[]): DestructionReceipt | ReceiptProblem {
  const destroyed = keyRows.find((r) => r.entry.action === 'KeyDestroyed');
  if (destroyed === undefined) return 'NOT_DESTROYED';
  const roll = epochRows.find((r) => r.leafIndex > destroyed.leafIndex && (obj(r.entry.details).destroyedFor as unknown[] | undefined)?.includes(keyId));
  if (roll === undefined) return 'EPOCH_PENDING';
  const versions = new Map<number, { version: number; commitment: string; createdTrailIndex: number }>();
  for (const r of keyRows) {
    if (r.entry.action !== 'KeyVersionAdded' && r.entry.action !== 'KeyMaterialImported') continue;
    const d = obj(r.entry.details);
    if (typeof d.version === 'number' && typeof d.fingerprint === 'string' && !versions.has(d.version)) {
      versions.set(d.version, { version: d.version, commitment: d.fingerprint, createdTrailIndex: r.leafIndex });
    }
  }
  const e = obj(roll.entry.details);
  return {
    v: 1,
    type: 'ekm.destruction-receipt',
    keyId,
    tenant: keyRows.find((r) => typeof r.entry.tenant === 'string')?.entry.tenant ?? null,
    versions: [...versions.values()].sort((a, b) => a.version - b.version),
    commitmentScheme: 'ekm-fingerprint/v1',
    destroyed: { at: destroyed.entry.time, trailIndex: destroyed.leafIndex, entryHash: destroyed.hash },
    epoch: {
      destroyedEpochs: Array.isArray(e.destroyedEpochs) ? e.destroyedEpochs.filter((x): x is string => typeof x === 'string') : [],
      newEpoch: typeof e.epoch === 'string' ? e.epoch : '',
      at: roll.entry.time,
      trailIndex: roll.leafIndex,
      entryHash: roll.hash,
    },
  };
}

export function signReceipt(receipt: DestructionReceipt, signer: { sign(p: string): Buffer; publicKeyRaw: Buffer; keyId: string }): SignedDestructionReceipt {
  const payload = canonicalJson(receipt as unknown as Json);
  return { receipt, payload, signature: signer.sign(payload).toString('base64'), publicKey: signer.publicKeyRaw.toString('base64'), keyId: signer.keyId, algorithm: 'Ed25519' };
}
