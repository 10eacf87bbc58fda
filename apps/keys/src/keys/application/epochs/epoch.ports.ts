/**
 * Ports of epoch keys on the keys side: where wrapped KEK versions say which epoch wraps them, the
 * fence that tells every writer the current epoch, the durable requests to end an epoch (a destroy),
 * and the forward ledger that lets a restored backup find its live keys again.
 */
import type { TransactionContext } from '@ekm/event-store';
import { MaterialMissingError } from '../crypto/crypto.ports';

/** Material stored before epochs existed: wrapped directly under the root key ("epoch 0"). */
export const LEGACY_EPOCH = '0';

/** One wrapped KEK version and the epoch that wraps it. Wrapped bytes only, never material. */
export interface WrappedKek {
  readonly epoch: string;
  readonly wrapped: Buffer;
  /**
   * The tenant whose root key wraps the material inside the epoch layer (../tenant-roots); absent on
   * rows written before tenant roots, which the epoch layer alone opens. The epoch roller never needs it.
   */
  readonly tenantRoot?: string | null;
}

export interface StoredKek extends WrappedKek {
  readonly keyId: string;
  readonly version: number;
  readonly materialRef: string;
}

/** A writer wrapped under an epoch the fence has moved past: wrap again under the current one. */
export class EpochMovedError extends Error {
  override readonly name = 'EpochMovedError';
  constructor(readonly wrappedUnder: string, readonly current: string) {
    super(`material was wrapped under epoch ${wrappedUnder} but the current epoch is ${current}; wrap it again`);
  }
}

/** The version's material is wrapped only under a destroyed epoch and no later epoch holds it. */
export class MaterialEpochDestroyedError extends MaterialMissingError {
  override readonly name = 'MaterialEpochDestroyedError';
  constructor(keyId: string, version: number, readonly epoch: string) {
    super(keyId, version);
    this.message = `version ${version} of key ${keyId} is wrapped under epoch ${epoch}, which was destroyed; it was not live at the epoch roll that followed, so no backup can bring it back`;
  }
}

export const EPOCH_STATE_STORE = Symbol('EPOCH_STATE_STORE');
export interface EpochStateStore {
  /** The epoch every new wrap must use (the fence row). */
  fence(): Promise<string>;
  /** Moves the fence forward to `epoch` (never back); waits for writers holding the old value. */
  advanceFence(epoch: string): Promise<string>;
  /** Inside a material write: throws EpochMovedError unless `epoch` is the fence. */
  checkFence(tx: TransactionContext, epoch: string): Promise<void>;
  /** Records, in the destroy's transaction, that the current epoch must end. */
  requestRoll(tx: TransactionContext, reason: string, keyId: string): Promise<void>;
  /** Highest open request id, or null when none is open. */
  openRequest(): Promise<number | null>;
  /** Closes every open request up to `upTo`; returns the key ids they were written for. */
  closeRequests(upTo: number): Promise<string[]>;
  /** Rows not under `epoch`, ordered by (key_id, version), after the given row. */
  rowsOutside(epoch: string, limit: number, after?: { keyId: string; version: number }): Promise<StoredKek[]>;
  /** Rows under `epoch`, in pages (for the forward ledger). */
  rowsUnder(epoch: string, limit: number, after?: { keyId: string; version: number }): Promise<StoredKek[]>;
  /** Compare-and-set per row on its old epoch; returns how many rows moved. */
  rewrap(moves: ReadonlyArray<{ keyId: string; version: number; from: string; to: WrappedKek }>): Promise<number>;
  /** Row counts by epoch. */
  countByEpoch(): Promise<Record<string, number>>;
  /** One roller at a time across replicas; null when another holds it. */
  tryLock(): Promise<(() => Promise<void>) | null>;
}

/**
 * Live KEK versions as wrapped under the epoch of the last completed roll, kept beside the root of
 * trust (the data dir), not in the database: a restored database backup whose epoch is gone finds
 * its live keys here, and only those (a key destroyed before the roll is not in it).
 */
export const FORWARD_LEDGER = Symbol('FORWARD_LEDGER');

/**
 * `EpochEnded`, appended to the keys log's `root-epochs` stream once old epoch keys are destroyed, so
 * the audit trail holds the fact (destruction receipts cite it). Ids and key ids only.
 */
export interface EpochEnded {
  readonly epoch: string;
  readonly destroyedEpochs: readonly string[];
  readonly reason: string;
  /** Keys whose destroy asked for this roll. */
  readonly destroyedFor: readonly string[];
  readonly endedAt: string;
}
export const EPOCH_EVENTS = Symbol('EPOCH_EVENTS');
export interface EpochEvents {
  epochEnded(e: EpochEnded): Promise<void>;
}
export interface ForwardLedger {
  write(epoch: string, entries: readonly StoredKek[]): Promise<void>;
  lookup(keyId: string, version: number, materialRef: string): Promise<WrappedKek | null>;
}
