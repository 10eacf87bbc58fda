/**
 * ReEncrypt: open the source blob (`keys:ReEncryptFrom`) → grant the destination key (`keys:ReEncryptTo`,
 * primary version) → GCM budget → seal under it. The plaintext never leaves EKM and is zeroed after.
 * Two usage records: the destination's, and the source's as `ReEncryptFrom`.
 */
import { encryptBlob } from '@ekm/crypto';
import { runRecorded, type CallMeta, type Outcome, type UsageSink } from '../call-pipeline';
import type { ReEncryptRequest } from '@ekm/contracts';
import { contextProblem, failed, type DataPlaneSteps } from './data-plane-steps';

export interface ReEncryptResult { keyId: string; keyVersion: number; sourceKeyId: string; sourceKeyVersion: number; ciphertextBlob: string }

export function reEncrypt(steps: DataPlaneSteps, usage: UsageSink, req: ReEncryptRequest, meta: CallMeta): Promise<Outcome<ReEncryptResult>> {
  const operation = 'ReEncrypt';
  const srcContext = req.sourceEncryptionContext ?? {};
  const dstContext = req.destinationEncryptionContext ?? {};
  return runRecorded(usage, meta, { operation, context: dstContext }, async () => {
    const bad = contextProblem(dstContext, 'destinationEncryptionContext');
    if (bad) return failed(bad, { operation });
    const src = await steps.openBlob(req.ciphertextBlob, req.sourceKeyId, srcContext, meta, operation, 'keys:ReEncryptFrom', 'sourceEncryptionContext');
    if (!src.ok) return failed(src.failure, src.facts);
    try {
      const dstRef = req.destinationKeyId ?? src.keyId;
      // The destination context was checked first, before the blob was opened.
      const admitted = await steps.admit(dstRef, meta, { operation, context: dstContext, action: 'keys:ReEncryptTo', spend: true });
      if (!admitted.ok) return admitted;
      const { grant: { keyId, version }, facts } = admitted;
      const blob = await steps.keks.withKek(keyId, version, (kek) => encryptBlob({ key: kek, keyId, keyVersion: version, plaintext: src.plaintext, context: dstContext }));
      const value = { keyId, keyVersion: version, sourceKeyId: src.keyId, sourceKeyVersion: src.version, ciphertextBlob: blob.toString('base64') };
      return { ok: true, value, facts, extra: [{ ...src.facts, operation: 'ReEncryptFrom' }] };
    } finally {
      src.plaintext.fill(0);
    }
  });
}
