/** Encrypt: context → grant (primary version) → GCM budget → the caller's plaintext sealed under the KEK (zeroed after). */
import { encryptBlob } from '@ekm/crypto';
import { runRecorded, type CallMeta, type Outcome, type UsageSink } from '../call-pipeline';
import type { EncryptRequest } from '@ekm/contracts';
import type { DataPlaneSteps } from './data-plane-steps';

export interface EncryptResult { keyId: string; keyVersion: number; ciphertextBlob: string }

export function encrypt(steps: DataPlaneSteps, usage: UsageSink, req: EncryptRequest, meta: CallMeta): Promise<Outcome<EncryptResult>> {
  const operation = 'Encrypt';
  const context = req.encryptionContext ?? {};
  const plaintext = Buffer.from(req.plaintext, 'base64');
  return runRecorded(usage, meta, { operation, context }, async () => {
    try {
      const admitted = await steps.begin(req.keyId, meta, { operation, context, spend: true });
      if (!admitted.ok) return admitted;
      const { grant: { keyId, version }, facts } = admitted;
      const blob = await steps.keks.withKek(keyId, version, (kek) => encryptBlob({ key: kek, keyId, keyVersion: version, plaintext, context }));
      return { ok: true, value: { keyId, keyVersion: version, ciphertextBlob: blob.toString('base64') }, facts };
    } finally {
      plaintext.fill(0);
    }
  });
}
