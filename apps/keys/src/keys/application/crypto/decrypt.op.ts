/** Decrypt: the blob names key and version → (the keyId given must be the blob's) → grant that version → open. */
import { runRecorded, type CallMeta, type Outcome, type UsageSink } from '../call-pipeline';
import type { DecryptRequest } from '@ekm/contracts';
import { failed, type DataPlaneSteps } from './data-plane-steps';
import { SecretBytes } from './secret-bytes';

export interface DecryptResult { keyId: string; keyVersion: number; plaintext: SecretBytes }

export function decrypt(steps: DataPlaneSteps, usage: UsageSink, req: DecryptRequest, meta: CallMeta): Promise<Outcome<DecryptResult>> {
  const operation = 'Decrypt';
  const context = req.encryptionContext ?? {};
  return runRecorded(usage, meta, { operation, context }, async () => {
    const opened = await steps.openBlob(req.ciphertextBlob, req.keyId, context, meta, operation, 'keys:Decrypt');
    if (!opened.ok) return failed(opened.failure, opened.facts);
    return { ok: true, value: { keyId: opened.keyId, keyVersion: opened.version, plaintext: SecretBytes.adopt(opened.plaintext) }, facts: opened.facts };
  });
}
