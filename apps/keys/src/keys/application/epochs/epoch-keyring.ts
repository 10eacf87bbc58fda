/**
 * Wraps new KEK versions under the current epoch and opens stored ones under whatever epoch they
 * name: the legacy root wrap ("epoch 0", data from before epochs), a live epoch key, or, for a row
 * restored from a backup whose epoch is gone, the forward ledger's copy under a live epoch.
 */
import { EpochKeyDestroyedError, type KeyMaterial, type RootOfTrust } from '@ekm/crypto';
import {
  EpochMovedError, LEGACY_EPOCH, MaterialEpochDestroyedError, type EpochStateStore, type ForwardLedger, type StoredKek, type WrappedKek,
} from './epoch.ports';

/** How long a replica trusts its view of the fence before re-reading it (a move also refreshes it). */
const FENCE_TTL_MS = 1_000;

/** The EpochKeyring of this process (bound in keys.module.ts). */
export const EPOCH_KEYRING = Symbol('EPOCH_KEYRING');

export class EpochKeyring {
  private cached: { epoch: string; at: number } | null = null;

  constructor(
    private readonly root: RootOfTrust,
    private readonly state: EpochStateStore,
    private readonly ledger: ForwardLedger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The epoch new material is wrapped under. A fence naming an epoch the root no longer has (a restored database) is moved to the newest live one. */
  async current(): Promise<string> {
    if (this.cached && this.now() - this.cached.at < FENCE_TTL_MS) return this.cached.epoch;
    let epoch = await this.state.fence();
    if (epoch !== LEGACY_EPOCH) {
      const live = (await this.root.epochs.list()).map((e) => e.id);
      if (!live.includes(epoch)) {
        const newest = live.at(-1);
        epoch = newest === undefined ? epoch : await this.state.advanceFence(newest);
      }
    }
    this.cached = { epoch, at: this.now() };
    return epoch;
  }

  /** Forget the cached fence (after a move, or when the roller advanced it). */
  refresh(): void {
    this.cached = null;
  }

  /** A fresh KEK from the root of trust and its wrap under the current epoch. The caller disposes `material`. */
  async generateKek(): Promise<{ material: KeyMaterial; wrapped: WrappedKek }> {
    const epoch = await this.current();
    const { material, wrapped } = epoch === LEGACY_EPOCH ? await this.root.generateKek() : await this.root.epochs.generateKek(epoch);
    return { material, wrapped: { epoch, wrapped } };
  }

  async wrap(material: KeyMaterial): Promise<WrappedKek> {
    const epoch = await this.current();
    return { epoch, wrapped: await this.wrapUnder(epoch, material) };
  }

  async wrapUnder(epoch: string, material: KeyMaterial): Promise<Buffer> {
    return epoch === LEGACY_EPOCH ? this.root.wrapKey(material) : this.root.epochs.wrap(epoch, material);
  }

  /** Opens a stored version. Throws MaterialEpochDestroyedError when its epoch is gone and the ledger does not hold it. */
  async unwrap(row: StoredKek): Promise<KeyMaterial> {
    if (row.epoch === LEGACY_EPOCH) return this.root.unwrapKey(row.wrapped);
    try {
      return await this.root.epochs.unwrap(row.epoch, row.wrapped);
    } catch (e) {
      if (!(e instanceof EpochKeyDestroyedError)) throw e;
    }
    const forward = await this.ledger.lookup(row.keyId, row.version, row.materialRef);
    if (forward === null || forward.epoch === row.epoch) throw new MaterialEpochDestroyedError(row.keyId, row.version, row.epoch);
    try {
      return await this.root.epochs.unwrap(forward.epoch, forward.wrapped);
    } catch (e) {
      if (e instanceof EpochKeyDestroyedError) throw new MaterialEpochDestroyedError(row.keyId, row.version, row.epoch);
      throw e;
    }
  }

  /**
   * Runs a wrap-and-store once more under the new epoch when the fence moved in between (EpochMovedError
   * at the store), or when the cached epoch was already destroyed by a roll (EpochKeyDestroyedError at the wrap).
   */
  async retryOnEpochMove<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof EpochMovedError) && !(e instanceof EpochKeyDestroyedError)) throw e;
      this.refresh();
      return fn();
    }
  }
}
