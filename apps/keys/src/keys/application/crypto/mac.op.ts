/** GenerateMac (primary version) and VerifyMac (every enabled version, newest first: a MAC does not name its version). */
import { hmacSha256, verifyHmacSha256 } from '@ekm/crypto';
import { runRecorded, type CallMeta, type Outcome, type UsageSink } from '../call-pipeline';
import type { GenerateMacRequest, VerifyMacRequest } from '@ekm/contracts';
import type { DataPlaneSteps } from './data-plane-steps';

export interface MacResult { keyId: string; keyVersion: number; mac: string; macAlgorithm: 'HMAC_SHA_256' }
export interface VerifyMacResult { keyId: string; keyVersion: number | null; macValid: boolean; macAlgorithm: 'HMAC_SHA_256' }

export function generateMac(steps: DataPlaneSteps, usage: UsageSink, req: GenerateMacRequest, meta: CallMeta): Promise<Outcome<MacResult>> {
  const operation = 'GenerateMac';
  const context = req.encryptionContext ?? {};
  return runRecorded(usage, meta, { operation, context }, async () => {
    const admitted = await steps.begin(req.keyId, meta, { operation, context });
    if (!admitted.ok) return admitted;
    const { grant: { keyId, version }, facts } = admitted;
    const message = Buffer.from(req.message, 'base64');
    const mac = await steps.keks.withKek(keyId, version, (k) => hmacSha256(k, message));
    return { ok: true, value: { keyId, keyVersion: version, mac: mac.toString('base64'), macAlgorithm: 'HMAC_SHA_256' }, facts };
  });
}

export function verifyMac(steps: DataPlaneSteps, usage: UsageSink, req: VerifyMacRequest, meta: CallMeta): Promise<Outcome<VerifyMacResult>> {
  const operation = 'VerifyMac';
  const context = req.encryptionContext ?? {};
  return runRecorded(usage, meta, { operation, context }, async () => {
    const admitted = await steps.begin(req.keyId, meta, { operation, context });
    if (!admitted.ok) return admitted;
    const { keyId, state } = admitted.grant;
    const message = Buffer.from(req.message, 'base64');
    const mac = Buffer.from(req.mac, 'base64');
    const versions = [...state.versions.values()].filter((v) => v.status === 'Enabled').map((v) => v.version).sort((a, b) => b - a);
    let matched: number | null = null;
    for (const v of versions) {
      if (await steps.keks.withKek(keyId, v, (k) => verifyHmacSha256(k, message, mac))) {
        matched = v;
        break;
      }
    }
    const facts = { operation, context, keyId, tenant: state.tenant, ...(matched !== null ? { keyVersion: matched } : {}) };
    return { ok: true, value: { keyId, keyVersion: matched, macValid: matched !== null, macAlgorithm: 'HMAC_SHA_256' }, facts };
  });
}
