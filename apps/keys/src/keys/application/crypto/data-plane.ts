/**
 * The data plane: GenerateDataKey(WithoutPlaintext), Encrypt, Decrypt, ReEncrypt, GenerateMac, VerifyMac.
 * Per call: context check → KeyAccess (state, usage, version, purpose binding, authorizer) → GCM budget
 * (encrypting calls) → KEK from the cache → @ekm/crypto → usage record committed → result.
 * Plaintext leaves only as SecretBytes (zeroed when the reply is serialized).
 */
import {
  assertEncryptionContext, decryptBlob, encryptBlob, EncryptionContextInvalidError, generateDataKey, hmacSha256, parseBlob,
  verifyHmacSha256, type DataKeySpec, type ParsedBlob,
} from '@ekm/crypto';
import type { CryptoOperation } from '../../domain';
import type { BudgetRotation } from './budget-rotation';
import type { CryptoFailure } from './crypto-failures';
import type { KekSource } from './crypto.ports';
import type { DecryptRequest, EncryptRequest, GenerateDataKeyRequest, GenerateMacRequest, ReEncryptRequest, VerifyMacRequest } from './crypto.requests';
import { fromB64 } from './crypto.requests';
import type { GcmBudget } from './gcm-budget';
import { DependencyUnavailableError, runRecorded, type Attempt, type CallMeta, type Outcome, type UsageSink } from './usage-run';
import type { KeyAccess, KeyGrant, Granted } from './key-access';
import { SecretBytes } from './secret-bytes';

type Ctx = Readonly<Record<string, string>>;

export interface DataKeyResult { keyId: string; keyVersion: number; ciphertextBlob: string; plaintext?: SecretBytes }
export interface EncryptResult { keyId: string; keyVersion: number; ciphertextBlob: string }
export interface DecryptResult { keyId: string; keyVersion: number; plaintext: SecretBytes }
export interface ReEncryptResult { keyId: string; keyVersion: number; sourceKeyId: string; sourceKeyVersion: number; ciphertextBlob: string }
export interface MacResult { keyId: string; keyVersion: number; mac: string; macAlgorithm: 'HMAC_SHA_256' }
export interface VerifyMacResult { keyId: string; keyVersion: number | null; macValid: boolean; macAlgorithm: 'HMAC_SHA_256' }

const fail = <T>(failure: CryptoFailure, facts: Attempt<T>['facts']): Attempt<T> => ({ ok: false, failure, facts });

export class DataPlane {
  constructor(
    private readonly access: KeyAccess,
    private readonly keks: KekSource,
    private readonly budget: GcmBudget,
    private readonly rotation: BudgetRotation,
    private readonly usage: UsageSink,
  ) {}

  generateDataKey(req: GenerateDataKeyRequest, meta: CallMeta, withPlaintext: boolean): Promise<Outcome<DataKeyResult>> {
    const operation: CryptoOperation = withPlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext';
    const context = req.encryptionContext ?? {};
    return runRecorded(this.usage, meta, { operation, context }, async () => {
      const bad = contextProblem(context);
      if (bad) return fail(bad, { operation });
      const g = await this.grant(req.keyId, { principal: meta.principal, operation, context });
      if (!g.ok) return fail(g.failure, { operation, context, ...factsOf(g) });
      const facts = { operation, context, keyId: g.grant.keyId, keyVersion: g.grant.version, tenant: g.grant.state.tenant };
      const spent = await this.spend(g.grant);
      if (spent) return fail(spent, facts);
      const spec: DataKeySpec = req.numberOfBytes !== undefined ? { numberOfBytes: req.numberOfBytes } : 'AES_256';
      const dek = generateDataKey(spec);
      try {
        const blob = await this.keks.withKek(g.grant.keyId, g.grant.version, (kek) =>
          dek.use((plaintext) => encryptBlob({ key: kek, keyId: g.grant.keyId, keyVersion: g.grant.version, plaintext, context })));
        const value: DataKeyResult = { keyId: g.grant.keyId, keyVersion: g.grant.version, ciphertextBlob: blob.toString('base64') };
        if (withPlaintext) value.plaintext = SecretBytes.ofMaterial(dek);
        else dek.dispose();
        return { ok: true, value, facts };
      } catch (err) {
        dek.dispose();
        throw err;
      }
    });
  }

  encrypt(req: EncryptRequest, meta: CallMeta): Promise<Outcome<EncryptResult>> {
    const operation = 'Encrypt';
    const context = req.encryptionContext ?? {};
    const plaintext = Buffer.from(req.plaintext, 'base64');
    return runRecorded(this.usage, meta, { operation, context }, async () => {
      try {
        const bad = contextProblem(context);
        if (bad) return fail(bad, { operation });
        const g = await this.grant(req.keyId, { principal: meta.principal, operation, context });
        if (!g.ok) return fail(g.failure, { operation, context, ...factsOf(g) });
        const facts = { operation, context, keyId: g.grant.keyId, keyVersion: g.grant.version, tenant: g.grant.state.tenant };
        const spent = await this.spend(g.grant);
        if (spent) return fail(spent, facts);
        const blob = await this.keks.withKek(g.grant.keyId, g.grant.version, (kek) =>
          encryptBlob({ key: kek, keyId: g.grant.keyId, keyVersion: g.grant.version, plaintext, context }));
        return { ok: true, value: { keyId: g.grant.keyId, keyVersion: g.grant.version, ciphertextBlob: blob.toString('base64') }, facts };
      } finally {
        plaintext.fill(0);
      }
    });
  }

  decrypt(req: DecryptRequest, meta: CallMeta): Promise<Outcome<DecryptResult>> {
    const operation = 'Decrypt';
    const context = req.encryptionContext ?? {};
    return runRecorded(this.usage, meta, { operation, context }, async () => {
      const opened = await this.openBlob(req.ciphertextBlob, req.keyId, context, meta, operation, 'keys:Decrypt');
      if (!opened.ok) return fail(opened.failure, opened.facts);
      return { ok: true, value: { keyId: opened.keyId, keyVersion: opened.version, plaintext: SecretBytes.adopt(opened.plaintext) }, facts: opened.facts };
    });
  }

  reEncrypt(req: ReEncryptRequest, meta: CallMeta): Promise<Outcome<ReEncryptResult>> {
    const operation = 'ReEncrypt';
    const srcContext = req.sourceEncryptionContext ?? {};
    const dstContext = req.destinationEncryptionContext ?? {};
    return runRecorded(this.usage, meta, { operation, context: dstContext }, async () => {
      const bad = contextProblem(dstContext, 'destinationEncryptionContext');
      if (bad) return fail(bad, { operation });
      const src = await this.openBlob(req.ciphertextBlob, req.sourceKeyId, srcContext, meta, operation, 'keys:ReEncryptFrom', 'sourceEncryptionContext');
      if (!src.ok) return fail(src.failure, src.facts);
      try {
        const dstRef = req.destinationKeyId ?? src.keyId;
        const g = await this.grant(dstRef, { principal: meta.principal, operation, action: 'keys:ReEncryptTo', context: dstContext });
        if (!g.ok) return fail(g.failure, { operation, context: dstContext, ...factsOf(g) });
        const facts = { operation, context: dstContext, keyId: g.grant.keyId, keyVersion: g.grant.version, tenant: g.grant.state.tenant };
        const spent = await this.spend(g.grant);
        if (spent) return fail(spent, facts);
        const blob = await this.keks.withKek(g.grant.keyId, g.grant.version, (kek) =>
          encryptBlob({ key: kek, keyId: g.grant.keyId, keyVersion: g.grant.version, plaintext: src.plaintext, context: dstContext }));
        const value = { keyId: g.grant.keyId, keyVersion: g.grant.version, sourceKeyId: src.keyId, sourceKeyVersion: src.version, ciphertextBlob: blob.toString('base64') };
        return { ok: true, value, facts, extra: [{ ...src.facts, operation: 'ReEncryptFrom' }] };
      } finally {
        src.plaintext.fill(0);
      }
    });
  }

  generateMac(req: GenerateMacRequest, meta: CallMeta): Promise<Outcome<MacResult>> {
    const operation = 'GenerateMac';
    const context = req.encryptionContext ?? {};
    return runRecorded(this.usage, meta, { operation, context }, async () => {
      const bad = contextProblem(context);
      if (bad) return fail(bad, { operation });
      const g = await this.grant(req.keyId, { principal: meta.principal, operation, context });
      if (!g.ok) return fail(g.failure, { operation, context, ...factsOf(g) });
      const facts = { operation, context, keyId: g.grant.keyId, keyVersion: g.grant.version, tenant: g.grant.state.tenant };
      const message = Buffer.from(req.message, 'base64');
      const mac = await this.keks.withKek(g.grant.keyId, g.grant.version, (k) => hmacSha256(k, message));
      return { ok: true, value: { keyId: g.grant.keyId, keyVersion: g.grant.version, mac: mac.toString('base64'), macAlgorithm: 'HMAC_SHA_256' }, facts };
    });
  }

  /** Checks the MAC against every enabled version, newest first (a MAC does not name its version). */
  verifyMac(req: VerifyMacRequest, meta: CallMeta): Promise<Outcome<VerifyMacResult>> {
    const operation = 'VerifyMac';
    const context = req.encryptionContext ?? {};
    return runRecorded(this.usage, meta, { operation, context }, async () => {
      const bad = contextProblem(context);
      if (bad) return fail(bad, { operation });
      const g = await this.grant(req.keyId, { principal: meta.principal, operation, context });
      if (!g.ok) return fail(g.failure, { operation, context, ...factsOf(g) });
      const message = Buffer.from(req.message, 'base64');
      const mac = Buffer.from(req.mac, 'base64');
      const versions = [...g.grant.state.versions.values()].filter((v) => v.status === 'Enabled').map((v) => v.version).sort((a, b) => b - a);
      let matched: number | null = null;
      for (const v of versions) {
        if (await this.keks.withKek(g.grant.keyId, v, (k) => verifyHmacSha256(k, message, mac))) {
          matched = v;
          break;
        }
      }
      const facts = { operation, context, keyId: g.grant.keyId, tenant: g.grant.state.tenant, ...(matched !== null ? { keyVersion: matched } : {}) };
      return { ok: true, value: { keyId: g.grant.keyId, keyVersion: matched, macValid: matched !== null, macAlgorithm: 'HMAC_SHA_256' }, facts };
    });
  }

  /** Parses the blob, checks the keyId given (must be the blob's key), access to its version, and decrypts. */
  private async openBlob(b64: string, keyRef: string | undefined, context: Ctx, meta: CallMeta, operation: CryptoOperation, action: string, contextField = 'encryptionContext'):
  Promise<{ ok: true; keyId: string; version: number; plaintext: Buffer; facts: Attempt<never>['facts'] } | { ok: false; failure: CryptoFailure; facts: Attempt<never>['facts'] }> {
    const bad = contextProblem(context, contextField);
    if (bad) return { ok: false, failure: bad, facts: { operation } };
    const bytes = fromB64(b64);
    let parsed: ParsedBlob;
    try {
      if (bytes === null) throw new Error('not base64');
      parsed = parseBlob(bytes);
    } catch {
      return { ok: false, failure: { kind: 'INVALID_CIPHERTEXT' }, facts: { operation, context } };
    }
    if (keyRef !== undefined) {
      const given = await this.resolve(keyRef);
      if (given === null) return { ok: false, failure: { kind: 'KEY_NOT_FOUND', keyRef }, facts: { operation, context } };
      // Decision (issue 3): a blob of another key is a ciphertext problem, reported without detail.
      if (given !== parsed.keyId) return { ok: false, failure: { kind: 'INVALID_CIPHERTEXT' }, facts: { operation, context, keyId: given } };
    }
    const g = await this.guarded(() => this.access.check(parsed.keyId, { principal: meta.principal, operation, action, context, version: parsed.keyVersion, fromBlob: true }));
    if (!g.ok) return { ok: false, failure: g.failure, facts: { operation, context, ...factsOf(g) } };
    const facts = { operation, context, keyId: g.grant.keyId, keyVersion: g.grant.version, tenant: g.grant.state.tenant };
    const plaintext = await this.keks.withKek(g.grant.keyId, g.grant.version, (kek) => decryptBlob(parsed, kek, context));
    return { ok: true, keyId: g.grant.keyId, version: g.grant.version, plaintext, facts };
  }

  private grant(keyRef: string, req: Parameters<KeyAccess['check']>[1]): Promise<Granted> {
    return this.guarded(() => this.access.checkRef(keyRef, req));
  }

  private resolve(keyRef: string): Promise<string | null> {
    return this.guarded(() => this.access.resolve(keyRef));
  }

  /** State reader and authorizer failures are "dependency unavailable", not bugs. */
  private async guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new DependencyUnavailableError(err instanceof DependencyUnavailableError ? err.what : 'key state or authorizer');
    }
  }

  /** Takes one GCM invocation; starts the forced rotation at the threshold; refuses at the budget. */
  private async spend(grant: KeyGrant): Promise<CryptoFailure | null> {
    let taken;
    try {
      taken = await this.budget.take(grant.keyId, grant.version);
    } catch {
      throw new DependencyUnavailableError('the AES-GCM counter store');
    }
    if (!taken.ok || taken.rotate) void this.rotation.request(grant.keyId, grant.version);
    return taken.ok ? null : { kind: 'BUDGET_EXHAUSTED', keyId: grant.keyId, version: grant.version };
  }
}

function contextProblem(context: unknown, field = 'encryptionContext'): CryptoFailure | null {
  try {
    assertEncryptionContext(context);
    return null;
  } catch (err) {
    if (err instanceof EncryptionContextInvalidError) return { kind: 'INVALID_CONTEXT', field, message: err.message };
    throw err;
  }
}

function factsOf(g: Extract<Granted, { ok: false }>): { keyId?: string; keyVersion?: number } {
  return { ...(g.keyId !== undefined ? { keyId: g.keyId } : {}), ...(g.version !== undefined ? { keyVersion: g.version } : {}) };
}
