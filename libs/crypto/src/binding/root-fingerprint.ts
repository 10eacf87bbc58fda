/**
 * A fingerprint of the root key that says which root sealed some data without revealing the key:
 * the SHA-256 of a fixed, public value wrapped under the root (a key check value, as HSM vendors
 * print for key ceremonies). AES-KWP is deterministic, so the same root key always gives the same
 * fingerprint, through the software adapter and through C_WrapKey alike; a different root key (or a
 * software root opened with another secret) gives another one. Knowing the fingerprint and the fixed
 * value tells nothing about the key (AES is a pseudorandom permutation).
 */
import { createHash } from 'node:crypto';
import { KeyMaterial } from '../key-material';
import type { RootOfTrust } from '../root-of-trust.port';

/** Version tag of the fingerprint scheme, part of every fingerprint. */
export const ROOT_FINGERPRINT_SCHEME = 'kcv1';

const CHECK_VALUE_INPUT = createHash('sha256').update('EKM root-of-trust check value v1').digest();

/** `kcv1:<32 hex>`: stable for one root key, different for another. */
export async function rootFingerprint(root: RootOfTrust): Promise<string> {
  const probe = KeyMaterial.copyOf(CHECK_VALUE_INPUT);
  try {
    const wrapped = await root.wrapKey(probe);
    return `${ROOT_FINGERPRINT_SCHEME}:${createHash('sha256').update(wrapped).digest('hex').slice(0, 32)}`;
  } finally {
    probe.dispose();
  }
}
