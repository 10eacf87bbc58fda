/**
 * The data plane: GenerateDataKey(WithoutPlaintext), Encrypt, Decrypt, ReEncrypt, GenerateMac, VerifyMac,
 * one file per operation (`*.op.ts`) around the shared steps (./data-plane-steps.ts), each run through the
 * service's one pipeline (../call-pipeline.ts): access (KeyAccess: resolve, authorize, checks at access) →
 * GCM budget (encrypting calls) → KEK from the cache → @ekm/crypto → usage record committed → result.
 * Plaintext leaves only as SecretBytes (zeroed when the reply is serialized).
 */
import type { CallMeta, Outcome, UsageSink } from '../call-pipeline';
import type { BudgetRotation } from './budget-rotation';
import type { KekSource } from './crypto.ports';
import type { DecryptRequest, EncryptRequest, GenerateDataKeyRequest, GenerateMacRequest, ReEncryptRequest, VerifyMacRequest } from '@ekm/contracts';
import { DataPlaneSteps } from './data-plane-steps';
import { decrypt, type DecryptResult } from './decrypt.op';
import { encrypt, type EncryptResult } from './encrypt.op';
import type { GcmBudget } from './gcm-budget';
import { generateDataKey, type DataKeyResult } from './generate-data-key.op';
import type { KeyAccess } from './key-access';
import { generateMac, verifyMac, type MacResult, type VerifyMacResult } from './mac.op';
import { reEncrypt, type ReEncryptResult } from './re-encrypt.op';

export type { DataKeyResult, DecryptResult, EncryptResult, MacResult, ReEncryptResult, VerifyMacResult };

export class DataPlane {
  private readonly steps: DataPlaneSteps;

  constructor(access: KeyAccess, keks: KekSource, budget: GcmBudget, rotation: BudgetRotation, private readonly usage: UsageSink) {
    this.steps = new DataPlaneSteps(access, keks, budget, rotation);
  }

  generateDataKey(req: GenerateDataKeyRequest, meta: CallMeta, withPlaintext: boolean): Promise<Outcome<DataKeyResult>> {
    return generateDataKey(this.steps, this.usage, req, meta, withPlaintext);
  }

  encrypt(req: EncryptRequest, meta: CallMeta): Promise<Outcome<EncryptResult>> {
    return encrypt(this.steps, this.usage, req, meta);
  }

  decrypt(req: DecryptRequest, meta: CallMeta): Promise<Outcome<DecryptResult>> {
    return decrypt(this.steps, this.usage, req, meta);
  }

  reEncrypt(req: ReEncryptRequest, meta: CallMeta): Promise<Outcome<ReEncryptResult>> {
    return reEncrypt(this.steps, this.usage, req, meta);
  }

  generateMac(req: GenerateMacRequest, meta: CallMeta): Promise<Outcome<MacResult>> {
    return generateMac(this.steps, this.usage, req, meta);
  }

  verifyMac(req: VerifyMacRequest, meta: CallMeta): Promise<Outcome<VerifyMacResult>> {
    return verifyMac(this.steps, this.usage, req, meta);
  }
}
