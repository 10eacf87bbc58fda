/**
 * Ports of the key service's application layer. The control plane (lifecycle commands, projections,
 * key_material) and the data plane (GenerateDataKey/Encrypt/Decrypt/...) meet here; adapters bind them
 * in keys.module.ts with these symbol tokens.
 */
import type { KeyMaterial, RootOfTrust } from '@ekm/crypto';
import type { TransactionContext } from '@ekm/event-store';
import type { Decision, ExistingKeyState, KeyCommand, KeyRejection } from '../domain';
import type { StoredKek, WrappedKek } from './epochs/epoch.ports';

export const ROOT_OF_TRUST = Symbol('ROOT_OF_TRUST');
export type { RootOfTrust };

/** Epoch-wrapped KEK versions, outside the event log (ARCHITECTURE §3): deletable for crypto-shredding. */
export const KEY_MATERIAL_STORE = Symbol('KEY_MATERIAL_STORE');
export interface KeyMaterialStore {
  /**
   * Stores the epoch-wrapped material of one version, inside the append transaction. `materialRef` is the
   * event's `materialRef` (default `<keyId>/<version>`), unique per row. Throws EpochMovedError when
   * `wrapped.epoch` is no longer the current epoch (wrap again and retry).
   */
  put(tx: TransactionContext, keyId: string, version: number, wrapped: WrappedKek, materialRef?: string): Promise<void>;
  /** The wrapped material and its epoch, or null when absent (destroyed, or never stored). */
  get(keyId: string, version: number): Promise<StoredKek | null>;
  /** Deletes one version's material (DestroyKeyVersion) and asks for the epoch to end, in the append transaction. */
  deleteVersion(tx: TransactionContext, keyId: string, version: number): Promise<void>;
  /** Deletes every version's material (DestroyKey) and asks for the epoch to end, in the transaction that appends KeyDestroyed. */
  deleteAll(tx: TransactionContext, keyId: string): Promise<number>;
}

/** Current key state for the data plane (cached; invalidated by key events within 1 s on every replica). */
export const KEY_STATE_READER = Symbol('KEY_STATE_READER');
export interface KeyStateReader {
  /** Folded state of a key, or null when the key id is unknown. */
  load(keyId: string): Promise<ExistingKeyState | null>;
  /** `alias/<name>` → key id; a key id is returned unchanged when it exists; null when unknown. */
  resolve(keyIdOrAlias: string): Promise<string | null>;
  /** Drops cached state of a key (called on its events). */
  invalidate(keyId: string): void;
}

/** Result of a lifecycle command after the append. */
export type CommandOutcome = { ok: true; state: ExistingKeyState; streamVersion: number } | { ok: false; rejection: KeyRejection };

/** load stream -> decide -> append (with inline projection and material writes), bounded conflict retries. */
export const KEY_COMMAND_HANDLER = Symbol('KEY_COMMAND_HANDLER');
export interface KeyCommandHandler {
  handle(cmd: KeyCommand, opts?: { material?: { version: number; wrapped: WrappedKek }; expectedVersion?: number }): Promise<CommandOutcome>;
}
export type { Decision };

/**
 * The authorization seam (ARCHITECTURE §5): the policy service's Decide (`PolicyAuthorizer`, EKM_AUTHZ=policy),
 * or `AllowAllAuthorizer` in development only (refused when EKM_ENV=production); authorizer.provider.ts selects.
 */
export const AUTHORIZER = Symbol('AUTHORIZER');
export interface AuthorizationRequest {
  readonly principal: string;
  /** `keys:<Operation>` in PascalCase, e.g. `keys:GenerateDataKey`. */
  readonly action: string;
  readonly resource: {
    readonly keyId?: string; readonly tenant?: string; readonly tags?: Readonly<Record<string, string>>;
    /** The key's aliases when the caller already holds its state (KeyAccess), so the authorizer need not read it again. */
    readonly aliases?: ReadonlySet<string>;
  };
  readonly encryptionContext?: Readonly<Record<string, string>>;
}
export type AuthorizationDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };
export interface Authorizer {
  authorize(req: AuthorizationRequest): Promise<AuthorizationDecision>;
}

export type { KeyMaterial };

/** The group-committed, fail-closed usage recorder (./usage-recorder.ts); one per process. */
export const USAGE_RECORDER = Symbol('USAGE_RECORDER');

/**
 * Secret key (32 bytes) under which identifiers are derived from request ids (CreateKey's key id, import
 * token ids): a retried request names the same key, but nobody without the key can compute the id of a
 * key from its request id. Derived from EKM_AUTH_SECRET, so every replica derives the same ids.
 */
export const ID_DERIVATION_KEY = Symbol('ID_DERIVATION_KEY');
