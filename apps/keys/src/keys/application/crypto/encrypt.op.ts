/** Encrypt: context → grant (primary version) → GCM budget → the caller's plaintext sealed under the KEK (zeroed after). */
import { encryptBlob } from '@ekm/crypto';
import { runRecorded, type CallMeta, type Outcome, type UsageSink } from '../call-pipeline';
import type { EncryptRequest } from '@ekm/contracts';
import { contextProblem, failed, grantedFacts, refusedFacts, type DataPlaneSteps } from './data-plane-steps';

export interface EncryptResult { keyId: string; keyVersion: number; ciphertextBlob: string }

export function encrypt(steps: DataPlaneSteps, usage: UsageSink, req: EncryptRequest, meta: CallMeta): Promise<Outcome<EncryptResult>> {
  const operation = 'Encrypt';
  const context = req.encryptionContext ?? {};
  const plaintext = Buffer.from(req.plaintext, 'base64');
  return runRecorded(usage, meta, { operation, context }, async () => {
    try {
      const bad = contextProblem(context);
      if (bad) return failed(bad, { operation });
      const g = await steps.grant(req.keyId, { principal: meta.principal, operation, context });
      if (!g.ok) return failed(g.failure, refusedFacts(operation, context, g));
      const { keyId, version } = g.grant;
      const facts = grantedFacts(operation, context, g.grant);
      const spent = await steps.spend(g.grant);
      if (spent) return failed(spent, facts);
      const blob = await steps.keks.withKek(keyId, version, (kek) => encryptBlob({ key: kek, keyId, keyVersion: version, plaintext, context }));
      return { ok: true, value: { keyId, keyVersion: version, ciphertextBlob: blob.toString('base64') }, facts };
    } finally {
      plaintext.fill(0);
    }
  });
}
