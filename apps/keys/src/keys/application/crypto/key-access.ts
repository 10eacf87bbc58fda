/**
 * The access steps of the keys service's one pipeline (./../call-pipeline.ts), for every call that names
 * a key, lifecycle and data plane alike, in this order (ARCHITECTURE §5, §8 "authorization first"):
 * resolve id/alias → the key exists → authorizer (on the key's tenant, tags and aliases and the caller's
 * context) → the checks at access (`checkAtAccess`: usage for the spec, version choice, purpose binding).
 * Nothing about the key's state is looked at for a caller the authorizer refuses. (That a key id or
 * alias exists is not hidden: key ids are random.) Reader and authorizer failures are "dependency
 * unavailable" (EKM_UNAVAILABLE), never an allow.
 */
import { asKeyId, checkDecryptAllowed, checkPurposeBinding, checkUsage, selectEncryptVersion, type CryptoOperation, type ExistingKeyState } from '../../domain';
import { DependencyUnavailableError } from '../dependency-unavailable';
import type { AuthorizationDecision, AuthorizationRequest, Authorizer, KeyStateReader } from '../ports';
import { rejected, type CallFailure } from '../call-failures';
import type { TenantSealGate } from '../tenants/tenant-seal.ports';

export type EncryptionContextMap = Readonly<Record<string, string>>;

/** The permission that lets a caller decrypt under a revoked key or a compromised version. */
export const DECRYPT_COMPROMISED = 'keys:DecryptCompromised';

/** A key the caller may use now, and the version to use. */
export interface KeyGrant {
  readonly keyId: string;
  readonly version: number;
  readonly state: ExistingKeyState;
}

export type Granted = { ok: true; grant: KeyGrant } | { ok: false; failure: CallFailure; keyId?: string; version?: number };

/** A key the caller may act on (lifecycle calls: the operation itself checks the state). */
export type Authorized = { ok: true; keyId: string; state: ExistingKeyState } | { ok: false; failure: CallFailure; keyId?: string };

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

const KEY_STATE_OR_AUTHORIZER = 'key state or authorizer';

export class KeyAccess {
  constructor(
    private readonly reader: KeyStateReader,
    private readonly authorizer: Authorizer,
    /** The tenant kill switch, asked after authorization (so a sealed tenant is not revealed to others). */
    private readonly seals: TenantSealGate,
  ) {}

  /** `alias/<name>` or a key id → key id, or null. */
  async resolve(keyRef: string): Promise<string | null> {
    try {
      return await this.reader.resolve(keyRef);
    } catch (err) {
      throw unavailable(err);
    }
  }

  /**
   * Lifecycle calls that name a key: resolve → exists → authorize `action` on the key's resource.
   * An unknown reference is KEY_NOT_FOUND naming what the caller sent.
   */
  async authorizeRef(keyRef: string, principal: string, action: string): Promise<Authorized> {
    const keyId = await this.resolve(keyRef);
    const state = keyId === null ? null : await this.load(keyId);
    if (keyId === null || state === null) return { ok: false, failure: { kind: 'KEY_NOT_FOUND', keyRef } };
    const decision = await this.decide({ principal, action, resource: resourceOf(keyId, state) });
    if (!decision.allowed) return { ok: false, failure: { kind: 'FORBIDDEN', keyId, action, reason: decision.reason, principal }, keyId };
    if (await this.isSealed(state.tenant)) return { ok: false, failure: { kind: 'TENANT_SEALED', tenant: state.tenant }, keyId };
    return { ok: true, keyId, state };
  }

  /** Lifecycle calls without a key yet (CreateKey, ListKeys): authorize on the resource the request names. */
  authorize(req: AuthorizationRequest): Promise<AuthorizationDecision> {
    return this.decide(req);
  }

  /**
   * The tenant kill switch, for lifecycle calls that name a tenant but no key (CreateKey, ListKeys of a
   * tenant). Asked only after the caller was authorized, so a sealed tenant is not revealed to others.
   * A seal store that cannot be read refuses (DependencyUnavailableError), never answers "open".
   */
  async isSealed(tenant: string): Promise<boolean> {
    return this.sealOf(tenant);
  }

  private sealOf(tenant: string): boolean | Promise<boolean> {
    return this.seals.isSealed(tenant);
  }

  /** Data-plane calls: resolve + check; an unknown reference is KEY_NOT_FOUND naming what the caller sent. */
  async checkRef(keyRef: string, req: AccessRequest): Promise<Granted> {
    // One async frame for resolve, load and authorize on the hot path (each guarded wrapper was a promise more).
    let keyId: string | null;
    let state: ExistingKeyState | null;
    try {
      keyId = await this.reader.resolve(keyRef);
      if (keyId === null) return { ok: false, failure: { kind: 'KEY_NOT_FOUND', keyRef } };
      state = await this.reader.load(keyId);
    } catch (err) {
      throw unavailable(err);
    }
    return this.checkState(keyId, state, req);
  }

  async check(keyId: string, req: AccessRequest): Promise<Granted> {
    return this.checkState(keyId, await this.load(keyId), req);
  }

  private async checkState(keyId: string, state: ExistingKeyState | null, req: AccessRequest): Promise<Granted> {
    if (state === null) return { ok: false, failure: req.fromBlob ? { kind: 'INVALID_CIPHERTEXT' } : { kind: 'KEY_NOT_FOUND', keyRef: keyId }, keyId };
    // Authorization first: a caller who may not use the key learns nothing of its state, usage, versions
    // or required context (those refusals would otherwise tell tenant B that A's key is disabled, or
    // which collection it is bound to). The decision sees the caller's context, never the key's.
    const action = req.action ?? `keys:${req.operation}`;
    const decision = await this.decide({ principal: req.principal, action, resource: resourceOf(keyId, state), encryptionContext: req.context });
    if (!decision.allowed) return { ok: false, failure: { kind: 'FORBIDDEN', keyId, action, reason: decision.reason }, keyId };
    // The seal answer is synchronous while this replica's cache is fresh (the hot path stays one frame).
    const seal = this.sealOf(state.tenant);
    const sealed = typeof seal === 'boolean' ? seal : await seal;
    // Only a compromised version or a revoked key needs one more decision before the checks at access.
    const may = sealed || req.version === undefined ? false : this.mayUseCompromised(keyId, state, req.version, req);
    return this.checkAtAccess(keyId, state, req, typeof may === 'boolean' ? may : await may, sealed);
  }

  /**
   * The checks at access, for a caller already authorized: every rule on the key's state that gates a
   * data-plane use of it is here, in one place (the tenant kill switch, usage for the spec, version,
   * purpose binding). The seal comes first: a sealed tenant's keys say nothing more about themselves.
   */
  private checkAtAccess(keyId: string, state: ExistingKeyState, req: AccessRequest, allowCompromised: boolean, sealed: boolean): Granted {
    if (sealed) return { ok: false, failure: { kind: 'TENANT_SEALED', tenant: state.tenant }, keyId };
    const id = asKeyId(keyId);
    const usage = checkUsage(state.spec, req.operation, id);
    if (!usage.ok) return { ok: false, failure: rejected(usage.rejection), keyId };
    const choice = req.version === undefined
      ? selectEncryptVersion(state, id)
      : checkDecryptAllowed(state, req.version, { allowCompromised }, id);
    if (!choice.ok) {
      // A version number that never existed can only come from a forged or damaged blob.
      const failure: CallFailure = req.fromBlob && choice.rejection.code === 'VERSION_NOT_FOUND' ? { kind: 'INVALID_CIPHERTEXT' } : rejected(choice.rejection);
      return { ok: false, failure, keyId, ...(req.version !== undefined ? { version: req.version } : {}) };
    }
    const binding = checkPurposeBinding(state.requiredContext, req.context, id);
    if (!binding.ok) return { ok: false, failure: rejected(binding.rejection), keyId, version: choice.version };
    return { ok: true, grant: { keyId, version: choice.version, state } };
  }

  /**
   * A revoked key or a compromised version opens only (a) as the source of a ReEncrypt, where the
   * plaintext never leaves EKM and the data moves to a sound version, or (b) with the explicit
   * permission `keys:DecryptCompromised` (never implied by allow-all). Asked only for such versions.
   */
  private mayUseCompromised(keyId: string, state: ExistingKeyState, version: number, req: AccessRequest): boolean | Promise<boolean> {
    if (state.status !== 'Compromised' && state.versions.get(version)?.status !== 'Compromised') return false;
    if (req.operation === 'ReEncrypt') return true;
    return this.askCompromised(keyId, state, req);
  }

  private async askCompromised(keyId: string, state: ExistingKeyState, req: AccessRequest): Promise<boolean> {
    const decision = await this.decide({ principal: req.principal, action: DECRYPT_COMPROMISED, resource: resourceOf(keyId, state), encryptionContext: req.context });
    return decision.allowed;
  }

  private async load(keyId: string): Promise<ExistingKeyState | null> {
    try {
      return await this.reader.load(keyId);
    } catch (err) {
      throw unavailable(err);
    }
  }

  private async decide(req: AuthorizationRequest): Promise<AuthorizationDecision> {
    try {
      return await this.authorizer.authorize(req);
    } catch (err) {
      throw unavailable(err);
    }
  }
}

/** The resource the authorizer decides on: the key's tenant, tags and aliases (already loaded: no second read). */
function resourceOf(keyId: string, state: ExistingKeyState): AuthorizationRequest['resource'] {
  return { keyId, tenant: state.tenant, tags: state.tags, aliases: state.aliases };
}

function unavailable(err: unknown): DependencyUnavailableError {
  return new DependencyUnavailableError(err instanceof DependencyUnavailableError ? err.what : KEY_STATE_OR_AUTHORIZER);
}
