/**
 * The key projection for rebuilds only (`ekm admin rebuild`, `rebuildProjection`): it folds every batch
 * like KeyProjection but writes each key's rows once, at `finish` (or when more than `maxDeferred` keys
 * wait), instead of after every batch that touches it. A key touched by many batches was rewritten each
 * time, and in one long transaction none of those row versions can be pruned: most of a 1,000,000-event
 * rebuild was these rewrites. Never used inline: there the rows must be there at commit.
 */
import type { TransactionContext, RecordedEvent } from '@ekm/event-store';
import type { KeyState } from '../../domain';
import { keyStreamId } from '../../application/key-stream';
import { isExisting, KeyProjection, type Folded } from './key-projection';

/** Keys written per statement when deferred writes are flushed (bounds the parameter arrays). */
const WRITE_CHUNK = 5_000;
/** Deferred keys held before they are written anyway (bounds memory in a very long rebuild). */
const MAX_DEFERRED = 100_000;

export interface RebuildKeyProjectionOptions {
  /** Keys per statement when deferred writes are flushed (default 5,000; tests use tiny values). */
  readonly writeChunk?: number;
  /** Deferred keys held before they are written anyway (default 100,000). */
  readonly maxDeferred?: number;
}

/** Per-transaction state of a rebuild. */
interface Deferred {
  /** Keys folded since their last write, in the order of their last change. */
  readonly pending: Map<string, Folded>;
  /** The state last written per key stream (what its rows hold now). */
  readonly written: Map<string, KeyState>;
}

export class RebuildKeyProjection extends KeyProjection {
  private readonly deferred = new WeakMap<TransactionContext, Deferred>();

  constructor(service = 'keys', private readonly options: RebuildKeyProjectionOptions = {}) {
    super(service);
  }

  override async apply(tx: TransactionContext, events: readonly RecordedEvent[]): Promise<void> {
    const folded = await this.fold(tx, events);
    if (folded === null) return;
    let d = this.deferred.get(tx);
    if (d === undefined) this.deferred.set(tx, (d = { pending: new Map(), written: new Map() }));
    for (const [id, f] of folded.touched) {
      d.pending.delete(id);
      d.pending.set(id, f);
    }
    if (d.pending.size > (this.options.maxDeferred ?? MAX_DEFERRED)) await this.flushDeferred(tx, d);
  }

  /** Writes what the rebuild has folded but not written yet. */
  async finish(tx: TransactionContext): Promise<void> {
    const d = this.deferred.get(tx);
    if (d === undefined) return;
    await this.flushDeferred(tx, d);
  }

  private async flushDeferred(tx: TransactionContext, d: Deferred): Promise<void> {
    const all = [...d.pending.values()].filter(isExisting);
    d.pending.clear();
    const before = new Map(all.map((f) => [keyStreamId(f.state.keyId), d.written.get(keyStreamId(f.state.keyId))]));
    // Aliases last, in ONE call for every key: an alias that moved between two keys is dropped by the
    // first before the second takes it, whichever chunk each key's rows fell in.
    const chunk = this.options.writeChunk ?? WRITE_CHUNK;
    for (let i = 0; i < all.length; i += chunk) await this.write(tx, all.slice(i, i + chunk), before, { aliases: false });
    await this.writeChangedAliases(tx, all, before);
    for (const f of all) d.written.set(keyStreamId(f.state.keyId), f.state);
  }
}
