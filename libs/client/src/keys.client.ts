/**
 * Typed lifecycle API of the keys service (`ekm.v1.keys.*` control plane). Mutations take an optional
 * `requestId`: it is the call's idempotency key, sent on every retry of that call, so a retried
 * mutation happens once; pass your own to make a retry across process restarts idempotent too.
 * Every call can also fail with the transport codes `EKM_TIMEOUT`, `EKM_UNAVAILABLE` (retried
 * automatically), `EKM_VALIDATION`, `EKM_FORBIDDEN` and `EKM_AUDIT_UNAVAILABLE`.
 */
import type { CallOptions, EkmClient } from './ekm-client';
import type {
  CreateKeyInput, ImportParameters, KeyInfo, KeyPage, KeyRotationStatus, KeyVersionInfo, ListKeysInput, StringMap,
  WrappingAlgorithm, WrappingKeySpec,
} from './keys.types';
import { send, type ReplyData, type RequestBody, type WireOperation } from './wire-contract';

/** The part of {@link EkmClient} the typed clients need (tests pass a recording fake). */
export type Caller = Pick<EkmClient, 'call'>;

/** Per-call options of typed methods: timeout, attempts and (for mutations) the idempotency key. */
export type KeysCallOptions = CallOptions;

/** Lifecycle operations of the keys service. Keys are referenced by id or `alias/<name>`. */
export class KeysClient {
  constructor(private readonly caller: Caller) {}

  /** The body and reply are the operation's contract (wire-contract.ts): a body the schema refuses does not compile. */
  protected call<O extends WireOperation<'keys'>>(operation: O, body: RequestBody<'keys', O>, opts?: KeysCallOptions): Promise<ReplyData<'keys', O>> {
    return send(this.caller, 'keys', operation, body, opts);
  }

  /** Creates a key (`EKM` keys are `Enabled` with version 1; `EXTERNAL` keys are `PendingImport`). Errors: `EKM_VALIDATION`, `EKM_UNSUPPORTED`. */
  createKey(input: CreateKeyInput, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('create-key', input, opts);
  }

  /** The key's material-free description. Errors: `EKM_KEY_NOT_FOUND`. */
  describeKey(keyId: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('describe-key', { keyId }, opts);
  }

  /** One page of keys matching the filters (cursor pagination; follow `nextCursor`). */
  listKeys(input: ListKeysInput = {}, opts?: KeysCallOptions): Promise<KeyPage> {
    return this.call('list-keys', input, opts);
  }

  /** Every version of a key, oldest first. Errors: `EKM_KEY_NOT_FOUND`. */
  async listKeyVersions(keyId: string, opts?: KeysCallOptions): Promise<readonly KeyVersionInfo[]> {
    return (await this.call('list-key-versions', { keyId }, opts)).versions;
  }

  /**
   * Disables one version (it no longer decrypts; the primary cannot be disabled). The rotation service is
   * asked first whether the version still protects live assets: `force: true` skips that guard and is
   * recorded as `DisableKeyVersionForced`. Errors: `EKM_KEY_NOT_FOUND`, `EKM_VERSION_NOT_FOUND`,
   * `EKM_PRIMARY_VERSION_LOCKED`, `EKM_VERSION_IN_USE` (live assets), `EKM_UNAVAILABLE` (guard unreachable).
   */
  disableKeyVersion(keyId: string, version: number, opts?: KeysCallOptions & { force?: boolean }): Promise<KeyInfo> {
    return this.call('disable-key-version', { keyId, version, force: opts?.force ?? false }, opts);
  }

  /**
   * Marks one non-primary version Compromised: it never encrypts or returns to use, decrypts only for
   * principals with the explicit permission `keys:DecryptCompromised`, and its data can be moved to the
   * primary with ReEncrypt. Rotate first when the primary is the exposed one. Idempotent.
   * Errors: `EKM_KEY_NOT_FOUND`, `EKM_VERSION_NOT_FOUND`, `EKM_PRIMARY_VERSION_LOCKED`, `EKM_KEY_NOT_ACTIVE` (destroyed).
   */
  markKeyVersionCompromised(keyId: string, version: number, opts?: KeysCallOptions & { reason?: string }): Promise<KeyInfo> {
    return this.call('mark-key-version-compromised', { keyId, version, reason: opts?.reason ?? '' }, opts);
  }

  /** Re-enables a disabled version for decryption. Errors: `EKM_KEY_NOT_FOUND`, `EKM_VERSION_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE` (destroyed). */
  enableKeyVersion(keyId: string, version: number, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('enable-key-version', { keyId, version }, opts);
  }

  /**
   * Destroys one disabled version's material (crypto-shredding of that version; irreversible). Same
   * re-wrap guard and `force` as {@link disableKeyVersion}. Errors: as disableKeyVersion, and
   * `EKM_KEY_NOT_ACTIVE` when the version is not disabled first.
   */
  destroyKeyVersion(keyId: string, version: number, opts?: KeysCallOptions & { force?: boolean }): Promise<KeyInfo> {
    return this.call('destroy-key-version', { keyId, version, force: opts?.force ?? false }, opts);
  }

  /** Adds `alias/<name>` to a key (`alias` with or without the prefix). Errors: `EKM_KEY_NOT_FOUND`, `EKM_CONFLICT` (alias taken), `EKM_VALIDATION`. */
  createAlias(keyId: string, alias: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('create-alias', { keyId, alias }, opts);
  }

  /** Removes an alias from a key. Errors: `EKM_KEY_NOT_FOUND`, `EKM_NOT_FOUND` (no such alias). */
  deleteAlias(keyId: string, alias: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('delete-alias', { keyId, alias }, opts);
  }

  /** Sets tags (merging; a given tag key overwrites). Errors: `EKM_KEY_NOT_FOUND`, `EKM_VALIDATION` (at most 50 tags). */
  tagKey(keyId: string, tags: StringMap, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('tag-key', { keyId, tags }, opts);
  }

  /** Removes tags by key. Errors: `EKM_KEY_NOT_FOUND`. */
  untagKey(keyId: string, tagKeys: readonly string[], opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('untag-key', { keyId, tagKeys }, opts);
  }

  /** Replaces the key's description (at most 8192 characters). Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE` (destroyed), `EKM_VALIDATION`. */
  updateKeyDescription(keyId: string, description: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('update-key-description', { keyId, description }, opts);
  }

  /**
   * Adds a new primary version now; older versions stay decrypt-only. `reason` (default `ON_DEMAND`) is
   * recorded; `expectedVersion` (the key's stream version) makes the rotation conditional, as the
   * scheduler sends it. Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`, `EKM_UNSUPPORTED` (EXTERNAL keys), `EKM_CONFLICT`.
   */
  rotateKey(keyId: string, opts?: KeysCallOptions & { reason?: 'ON_DEMAND' | 'SCHEDULED'; expectedVersion?: number }): Promise<KeyInfo> {
    return this.call('rotate-key', {
      keyId, ...(opts?.reason !== undefined ? { reason: opts.reason } : {}), ...(opts?.expectedVersion !== undefined ? { expectedVersion: opts.expectedVersion } : {}),
    }, opts);
  }

  /** Turns on automatic rotation every `periodDays` whole days (1–2560; default 365). Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`, `EKM_VALIDATION`. */
  enableKeyRotation(keyId: string, periodDays?: number, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('enable-key-rotation', periodDays === undefined ? { keyId } : { keyId, periodDays }, opts);
  }

  /** Turns off automatic rotation. Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`. */
  disableKeyRotation(keyId: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('disable-key-rotation', { keyId }, opts);
  }

  /** Rotation settings and the last rotation time. Errors: `EKM_KEY_NOT_FOUND`. */
  getKeyRotationStatus(keyId: string, opts?: KeysCallOptions): Promise<KeyRotationStatus> {
    return this.call('get-key-rotation-status', { keyId }, opts);
  }

  /** `Disabled` → `Enabled`. Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE` (message names the state). */
  enableKey(keyId: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('enable-key', { keyId }, opts);
  }

  /** `Enabled` → `Disabled`: every replica refuses it within 1 s. Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`. */
  disableKey(keyId: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('disable-key', { keyId }, opts);
  }

  /** Marks the key `Compromised`: it never encrypts again (irreversible). Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`, `EKM_VALIDATION`. */
  revokeKey(keyId: string, reason: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('revoke-key', { keyId, reason }, opts);
  }

  /** Schedules destruction after `pendingWindowDays` whole days (7–30, default 30). Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`, `EKM_VALIDATION`. */
  scheduleKeyDeletion(keyId: string, pendingWindowDays?: number, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('schedule-key-deletion', pendingWindowDays === undefined ? { keyId } : { keyId, pendingWindowDays }, opts);
  }

  /** `PendingDeletion` → `Disabled`. Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`. */
  cancelKeyDeletion(keyId: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('cancel-key-deletion', { keyId }, opts);
  }

  /** Crypto-shreds the key once its deletion date passed: its blobs become undecryptable forever. Errors: `EKM_KEY_NOT_FOUND`, `EKM_KEY_NOT_ACTIVE`. */
  destroyKey(keyId: string, opts?: KeysCallOptions & { expectedVersion?: number }): Promise<KeyInfo> {
    return this.call('destroy-key', { keyId, ...(opts?.expectedVersion !== undefined ? { expectedVersion: opts.expectedVersion } : {}) }, opts);
  }

  /** Expires an import token whose validity passed (sent by the rotation scheduler; idempotent). Errors: `EKM_KEY_NOT_FOUND`. */
  expireImportToken(keyId: string, tokenId: string, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('expire-import-token', { keyId, tokenId }, opts);
  }

  /**
   * A wrapping public key and single-use import token (valid 24 h) for an `EXTERNAL` key. Defaults:
   * `RSAES_OAEP_SHA_256`, `RSA_4096`. Errors: `EKM_KEY_NOT_FOUND`, `EKM_UNSUPPORTED` (origin EKM), `EKM_KEY_NOT_ACTIVE`.
   */
  async getParametersForImport(
    keyId: string, wrappingAlgorithm: WrappingAlgorithm = 'RSAES_OAEP_SHA_256', wrappingKeySpec: WrappingKeySpec = 'RSA_4096', opts?: KeysCallOptions,
  ): Promise<ImportParameters> {
    const r = await this.call('get-parameters-for-import', { keyId, wrappingAlgorithm, wrappingKeySpec }, opts);
    return { ...r, publicKey: Buffer.from(r.publicKey, 'base64'), importToken: Buffer.from(r.importToken, 'base64') };
  }

  /**
   * Imports wrapped material (see `wrapKeyMaterial`) as the key's next version and enables the key.
   * Errors: `EKM_IMPORT_TOKEN_INVALID` (unknown, expired, used, other key or algorithm), `EKM_VALIDATION`
   * (material not 32 bytes after unwrap), `EKM_KEY_NOT_FOUND`, `EKM_UNSUPPORTED`.
   */
  importKeyMaterial(keyId: string, importToken: Buffer, encryptedKeyMaterial: Buffer, opts?: KeysCallOptions): Promise<KeyInfo> {
    return this.call('import-key-material', {
      keyId, importToken: importToken.toString('base64'), encryptedKeyMaterial: encryptedKeyMaterial.toString('base64'),
    }, opts);
  }
}
