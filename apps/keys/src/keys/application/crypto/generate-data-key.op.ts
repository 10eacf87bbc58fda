/** GenerateDataKey(WithoutPlaintext): context → grant (primary version) → GCM budget → DEK wrapped under the KEK. */
import { encryptBlob, generateDataKey as newDataKey, type DataKeySpec } from '@ekm/crypto';
import type { CryptoOperation } from '../../domain';
import { runRecorded, type CallMeta, type Outcome, type UsageSink } from '../call-pipeline';
import type { GenerateDataKeyRequest } from '@ekm/contracts';
import type { DataPlaneSteps } from './data-plane-steps';
import { SecretBytes } from './secret-bytes';

export interface DataKeyResult { keyId: string; keyVersion: number; ciphertextBlob: string; plaintext?: SecretBytes }

export function generateDataKey(steps: DataPlaneSteps, usage: UsageSink, req: GenerateDataKeyRequest, meta: CallMeta, withPlaintext: boolean): Promise<Outcome<DataKeyResult>> {
  const operation: CryptoOperation = withPlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext';
  const context = req.encryptionContext ?? {};
  return runRecorded(usage, meta, { operation, context }, async () => {
    const admitted = await steps.begin(req.keyId, meta, { operation, context, spend: true });
    if (!admitted.ok) return admitted;
    const { grant: { keyId, version }, facts } = admitted;
    const spec: DataKeySpec = req.numberOfBytes !== undefined ? { numberOfBytes: req.numberOfBytes } : 'AES_256';
    const dek = newDataKey(spec);
    try {
      const blob = await steps.keks.withKek(keyId, version, (kek) =>
        dek.use((plaintext) => encryptBlob({ key: kek, keyId, keyVersion: version, plaintext, context })));
      const value: DataKeyResult = { keyId, keyVersion: version, ciphertextBlob: blob.toString('base64') };
      if (withPlaintext) value.plaintext = SecretBytes.ofMaterial(dek);
      else dek.dispose();
      return { ok: true, value, facts };
    } catch (err) {
      dek.dispose();
      throw err;
    }
  });
}
