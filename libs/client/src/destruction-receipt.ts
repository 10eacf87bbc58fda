/**
 * Destruction receipts (`ekm.v1.audit.destruction-receipt`) and their offline check. A receipt is
 * signed with the audit trail's Ed25519 key over `payload`, the canonical JSON of `receipt`; the check
 * needs no service: the signature, the payload against the receipt shown, and the key id.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import type { DestructionReceiptReply, SignedDestructionReceiptReply } from '@ekm/contracts';

/** What the trail says about a destroyed key: versions with creation-time commitments, the destroy, and the epoch roll. */
export type DestructionReceipt = DestructionReceiptReply;
/** The receipt as `ekm.v1.audit.destruction-receipt` returns it, signed over `payload` (canonical JSON of `receipt`). */
export type SignedDestructionReceipt = SignedDestructionReceiptReply;

export type ReceiptCheck = { readonly ok: true; readonly keyId: string; readonly trustedKey: boolean } | { readonly ok: false; readonly reason: string };

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Verifies a receipt offline. `trustedPublicKey` (base64 raw Ed25519, the audit service's published
 * key): when given, the receipt must be signed by it; without it the embedded key is used and
 * `trustedKey` is false (the receipt is consistent, but anyone could have made it).
 */
export function verifyDestructionReceipt(signed: unknown, trustedPublicKey?: string): ReceiptCheck {
  const s = signed as Partial<SignedDestructionReceipt> | null;
  if (typeof s !== 'object' || s === null || typeof s.payload !== 'string' || typeof s.signature !== 'string' || typeof s.publicKey !== 'string') {
    return { ok: false, reason: 'not a signed destruction receipt (payload, signature and publicKey are required)' };
  }
  if (s.algorithm !== 'Ed25519') return { ok: false, reason: 'unknown signature algorithm' };
  const publicKeyB64 = trustedPublicKey ?? s.publicKey;
  const raw = Buffer.from(publicKeyB64, 'base64');
  if (raw.length !== 32) return { ok: false, reason: 'the public key is not a 32-byte Ed25519 key' };
  if (trustedPublicKey !== undefined && s.publicKey !== trustedPublicKey) return { ok: false, reason: 'the receipt is signed by another key than the trusted audit key' };
  let good = false;
  try {
    good = verify(null, Buffer.from(s.payload, 'utf8'), createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' }), Buffer.from(s.signature, 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'the signature does not verify: the receipt was altered or not signed by this key' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(s.payload);
  } catch {
    return { ok: false, reason: 'the signed payload is not JSON' };
  }
  if (stable(parsed) !== stable(s.receipt)) return { ok: false, reason: 'the receipt shown differs from the signed payload (edited)' };
  if ((parsed as { type?: unknown }).type !== 'ekm.destruction-receipt') return { ok: false, reason: 'the signed payload is not a destruction receipt' };
  const keyId = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  if (s.keyId !== keyId) return { ok: false, reason: 'keyId does not name the signing key' };
  return { ok: true, keyId, trustedKey: trustedPublicKey !== undefined };
}

/** Key-order-independent JSON, to compare the displayed receipt with the signed one. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
