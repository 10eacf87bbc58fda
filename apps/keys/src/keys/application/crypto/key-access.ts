/**
 * The checks every data-plane call makes before touching material, in this order (ARCHITECTURE §5, §8
 * "authorization first"): resolve id/alias → the key exists → authorizer (on the key's tenant and tags
 * and the caller's context) → usage for the spec → version choice (encrypt: the primary; decrypt: the
 * blob's version) → purpose binding (requiredContext). Nothing about the key's state is looked at for a
 * caller the authorizer refuses. (That a key id or alias exists is not hidden: key ids are random.)
 */
import { asKeyId, checkDecryptAllowed, checkPurposeBinding, checkUsage, selectEncryptVersion, type CryptoOperation, type ExistingKeyState } from '../../domain';
import type { Authorizer, KeyStateReader } from '../ports';
import { rejected, type CryptoFailure } from './crypto-failures';

export type EncryptionContextMap = Readonly<Record<string, string>>;

/** The permission that lets a caller decrypt under a revoked key or a compromised version. */
export const DECRYPT_COMPROMISED = 'keys:DecryptCompromised';

/** A key the caller may use now, and the version to use. */
export interface KeyGrant {
  readonly keyId: string;
  readonly version: number;
  readonly state: ExistingKeyState;
}

export type Granted = { ok: true; grant: KeyGrant } | { ok: false; failure: CryptoFailure; keyId?: string; version?: number };

export interface AccessRequest {
  readonly principal: string;
  readonly operation: CryptoOperation;
  /** `keys:<Action>` for the authorizer; defaults to `keys:<operation>`. */
  readonly action?: string;
  readonly context: EncryptionContextMap;
  /** Decrypt-side calls name the version (from the blob); encrypt-side calls use the primary. */
  readonly version?: number;
  /** When the key reference came from a blob: an unknown key or version is INVALID_CIPHERTEXT, not KEY_NOT_FOUND. */
  readonly fromBlob?: boolean;
}

export class KeyAccess {
  constructor(
    private readonly reader: KeyStateReader,
    private readonly authorizer: Authorizer,
  ) {}

  /**
   * A revoked key or a compromised version opens only (a) as the source of a ReEncrypt, where the
   * plaintext never leaves EKM and the data moves to a sound version, or (b) with the explicit
   * permission `keys:DecryptCompromised` (never implied by allow-all). Asked only for such versions.
   */
  private async mayUseCompromised(keyId: string, state: ExistingKeyState, version: number, req: AccessRequest): Promise<boolean> {
    if (state.status !== 'Compromised' && state.versions.get(version)?.status !== 'Compromised') return false;
    if (req.operation === 'ReEncrypt') return true;
    const decision = await this.authorizer.authorize({
      principal: req.principal, action: DECRYPT_COMPROMISED, resource: { keyId, tenant: state.tenant, tags: state.tags }, encryptionContext: req.context,
    });
    return decision.allowed;
  }

  /** `alias/<name>` or a key id → key id, or null. */
  resolve(keyRef: string): Promise<string | null> {
    return this.reader.resolve(keyRef);
  }

  async check(keyId: string, req: AccessRequest): Promise<Granted> {
    const state = await this.reader.load(keyId);
    if (state === null) return { ok: false, failure: req.fromBlob ? { kind: 'INVALID_CIPHERTEXT' } : { kind: 'KEY_NOT_FOUND', keyRef: keyId }, keyId };
    const id = asKeyId(keyId);
    // Authorization first: a caller who may not use the key learns nothing of its state, usage, versions
    // or required context (those refusals would otherwise tell tenant B that A's key is disabled, or
    // which collection it is bound to). The decision sees the caller's context, never the key's.
    const action = req.action ?? `keys:${req.operation}`;
    const decision = await this.authorizer.authorize({
      principal: req.principal,
      action,
      resource: { keyId, tenant: state.tenant, tags: state.tags },
      encryptionContext: req.context,
    });
    if (!decision.allowed) return { ok: false, failure: { kind: 'FORBIDDEN', keyId, action, reason: decision.reason }, keyId };
    const usage = checkUsage(state.spec, req.operation, id);
    if (!usage.ok) return { ok: false, failure: rejected(usage.rejection), keyId };
    const choice = req.version === undefined
      ? selectEncryptVersion(state, id)
      : checkDecryptAllowed(state, req.version, { allowCompromised: await this.mayUseCompromised(keyId, state, req.version, req) }, id);
    if (!choice.ok) {
      // A version number that never existed can only come from a forged or damaged blob.
      const failure: CryptoFailure = req.fromBlob && choice.rejection.code === 'VERSION_NOT_FOUND' ? { kind: 'INVALID_CIPHERTEXT' } : rejected(choice.rejection);
      return { ok: false, failure, keyId, ...(req.version !== undefined ? { version: req.version } : {}) };
    }
    const binding = checkPurposeBinding(state.requiredContext, req.context, id);
    if (!binding.ok) return { ok: false, failure: rejected(binding.rejection), keyId, version: choice.version };
    return { ok: true, grant: { keyId, version: choice.version, state } };
  }

  /** resolve + check; an unknown reference is KEY_NOT_FOUND naming what the caller sent. */
  async checkRef(keyRef: string, req: AccessRequest): Promise<Granted> {
    const keyId = await this.resolve(keyRef);
    if (keyId === null) return { ok: false, failure: { kind: 'KEY_NOT_FOUND', keyRef } };
    return this.check(keyId, req);
  }
}
