/**
 * Ends epochs. A roll is due when a destroy asked for one (a durable request written with
 * KeyDestroyed / KeyVersionDestroyed), when the newest epoch is older than the schedule, or when no
 * epoch exists yet (the first start after the upgrade: every row is "epoch 0", the bare root wrap).
 *
 * A roll: create the next epoch key in the root of trust, advance the fence (new material goes under
 * it from then on; writers still holding the old value get EpochMovedError and wrap again), re-wrap
 * every other row in batches (each row compare-and-set on its old epoch, so a reader that read the
 * old row still finds the old epoch until the batch commits), write the forward ledger, and only
 * then destroy every older epoch key in the root of trust. Rows left under an old epoch (a destroy
 * racing the roll cannot leave one: its row is gone) stop the destroy until the next tick.
 *
 * The data plane never waits for this: it runs on a timer, one replica at a time (advisory lock), in
 * batches of `batch` rows; the KEK cache keeps serving unwrapped keys throughout.
 */
import { EpochKeyDestroyedError, type RootOfTrust } from '@ekm/crypto';
import type { Logger } from '@ekm/telemetry';
import type { EpochKeyring } from './epoch-keyring';
import { LEGACY_EPOCH, MaterialEpochDestroyedError, type EpochEvents, type EpochStateStore, type ForwardLedger, type StoredKek, type WrappedKek } from './epoch.ports';

export interface EpochRollerOptions {
  /** EKM_EPOCH_ROLL_INTERVAL_MS: the longest an epoch lives; 0 = only destroys end epochs. */
  readonly intervalMs: number;
  /** EKM_EPOCH_REWRAP_BATCH: rows per re-wrap transaction. */
  readonly batch: number;
  readonly now?: () => number;
}

export type RollReason = 'DESTROY' | 'SCHEDULE' | 'FIRST_EPOCH';

export interface RollReport {
  readonly reason: RollReason | null;
  readonly epoch: string;
  readonly rewrapped: number;
  /** Rows restored from a backup whose epoch is gone, taken from the forward ledger. */
  readonly forwarded: number;
  /** Rows whose epoch is gone and that the ledger does not hold: destroyed material. */
  readonly unrecoverable: ReadonlyArray<{ keyId: string; version: number; epoch: string }>;
  readonly destroyedEpochs: readonly string[];
}

export class EpochRoller {
  private readonly now: () => number;

  constructor(
    private readonly root: RootOfTrust,
    private readonly state: EpochStateStore,
    private readonly ledger: ForwardLedger,
    private readonly keyring: EpochKeyring,
    private readonly logger: Logger,
    private readonly opts: EpochRollerOptions,
    private readonly events?: EpochEvents,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** One pass: roll if due, finish any unfinished roll. Null when another replica holds the lock. */
  async tick(): Promise<RollReport | null> {
    const unlock = await this.state.tryLock();
    if (unlock === null) return null;
    try {
      return await this.pass();
    } finally {
      await unlock();
    }
  }

  private async pass(): Promise<RollReport> {
    const request = await this.state.openRequest();
    const live = await this.root.epochs.list();
    const newest = live.at(-1);
    let reason: RollReason | null = null;
    if (newest === undefined) reason = 'FIRST_EPOCH';
    else if (request !== null) reason = 'DESTROY';
    else if (this.opts.intervalMs > 0 && this.now() - Date.parse(newest.createdAt) >= this.opts.intervalMs) reason = 'SCHEDULE';
    let epoch: string;
    if (reason !== null) {
      epoch = (await this.root.epochs.create()).id;
      await this.state.advanceFence(epoch);
      this.logger.info({ epoch, reason }, 'epoch started');
    } else {
      epoch = await this.state.advanceFence(newest!.id); // a restored database's fence catches up
    }
    this.keyring.refresh();
    const moved = await this.rewrapAll(epoch);
    const counts = await this.state.countByEpoch();
    const destroyedEpochs: string[] = [];
    const stale = Object.keys(counts).filter((e) => e !== epoch && live.some((l) => l.id === e));
    const older = live.filter((e) => e.id < epoch);
    if (stale.length === 0) {
      // Rewritten only when it changed: a new epoch, rows moved, or older keys about to go.
      if (reason !== null || moved.rewrapped > 0 || older.length > 0) await this.writeLedger(epoch);
      for (const old of older) {
        await this.root.epochs.destroy(old.id);
        destroyedEpochs.push(old.id);
      }
      const destroyedFor = request !== null ? await this.state.closeRequests(request) : [];
      if (destroyedEpochs.length > 0) {
        this.logger.info({ epoch, destroyedEpochs }, 'old epoch keys destroyed in the root of trust');
        // After the fact: a crash before this line leaves the epochs destroyed and no event (logged above).
        await this.events?.epochEnded({ epoch, destroyedEpochs, reason: reason ?? 'CATCH_UP', destroyedFor, endedAt: new Date(this.now()).toISOString() });
      }
    } else {
      this.logger.warn({ epoch, stale }, 'rows still under older epochs; their keys stay until the next pass');
    }
    for (const u of moved.unrecoverable) this.logger.warn(u, 'key version wrapped only under a destroyed epoch: its material is gone');
    return { reason, epoch, ...moved, destroyedEpochs };
  }

  private async rewrapAll(epoch: string): Promise<Pick<RollReport, 'rewrapped' | 'forwarded' | 'unrecoverable'>> {
    let rewrapped = 0;
    let forwarded = 0;
    const unrecoverable: Array<{ keyId: string; version: number; epoch: string }> = [];
    let after: { keyId: string; version: number } | undefined;
    for (;;) {
      const rows = await this.state.rowsOutside(epoch, this.opts.batch, after);
      if (rows.length === 0) break;
      after = { keyId: rows.at(-1)!.keyId, version: rows.at(-1)!.version };
      const moves: Array<{ keyId: string; version: number; from: string; to: WrappedKek }> = [];
      for (const row of rows) {
        const to = await this.rewrapOne(row, epoch);
        if (to === null) {
          unrecoverable.push({ keyId: row.keyId, version: row.version, epoch: row.epoch });
          continue;
        }
        if (row.epoch !== LEGACY_EPOCH && !(await this.isLive(row.epoch))) forwarded++;
        moves.push({ keyId: row.keyId, version: row.version, from: row.epoch, to });
      }
      rewrapped += await this.state.rewrap(moves);
    }
    return { rewrapped, forwarded, unrecoverable };
  }

  private async rewrapOne(row: StoredKek, epoch: string): Promise<WrappedKek | null> {
    let material;
    try {
      material = await this.keyring.unwrap(row);
    } catch (e) {
      if (e instanceof MaterialEpochDestroyedError || e instanceof EpochKeyDestroyedError) return null;
      throw e;
    }
    try {
      return { epoch, wrapped: await this.keyring.wrapUnder(epoch, material) };
    } finally {
      material.dispose();
    }
  }

  private liveCache: { ids: Set<string>; at: number } | null = null;
  private async isLive(epoch: string): Promise<boolean> {
    if (!this.liveCache || this.now() - this.liveCache.at > 1000) this.liveCache = { ids: new Set((await this.root.epochs.list()).map((e) => e.id)), at: this.now() };
    return this.liveCache.ids.has(epoch);
  }

  private async writeLedger(epoch: string): Promise<void> {
    const entries: StoredKek[] = [];
    let after: { keyId: string; version: number } | undefined;
    for (;;) {
      const page = await this.state.rowsUnder(epoch, 5_000, after);
      if (page.length === 0) break;
      entries.push(...page);
      after = { keyId: page.at(-1)!.keyId, version: page.at(-1)!.version };
    }
    await this.ledger.write(epoch, entries);
  }
}
