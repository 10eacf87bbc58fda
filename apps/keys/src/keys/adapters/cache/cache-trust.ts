/**
 * When a replica may trust what it cached beyond the short TTL: the outbox relay stamps every lifecycle
 * event with `Ekm-Relay-Seq` = `<fencing>:<n>` (n = 1, 2, 3… per lease) and, while caught up, publishes a
 * heartbeat carrying its latest n at least every 250 ms. A replica that heard a heartbeat within
 * `boundMs` and saw every n up to it has received every lifecycle event committed before that
 * heartbeat's read, so an entry loaded since then is still current unless an invalidation dropped it.
 *
 * Anything else is a loss of trust: a skipped n (a lost message), a new fencing (another relay took
 * over, possibly after losing its predecessor's last messages), a heartbeat that is late (relay down,
 * stuck, far behind or cut off) and a NATS disconnect. A gap or a disconnect also fires `onFlush`
 * (entries may be stale: drop them); a late heartbeat only suspends trust (entries fall back to the TTL).
 * Trust is regained at the next heartbeat, and only for entries loaded after it (`trustedSince`).
 */

export interface CacheTrustOptions {
  /** Longest silence of the relay before trust lapses (the cross-replica staleness bound). */
  readonly boundMs: number;
  /** Monotonic clock, ms. */
  readonly now?: () => number;
}

export type TrustLoss = 'gap' | 'fencing' | 'disconnect';

interface Position {
  readonly fencing: string;
  readonly n: number;
}

const SEQ = /^(\d{1,20}):(\d{1,15})$/;

/** `<fencing>:<n>`, or null for anything else (a forged or garbled header counts as a gap). */
export function parseRelaySeq(value: string | undefined): Position | null {
  const m = value === undefined ? null : SEQ.exec(value);
  if (!m) return null;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? { fencing: m[1], n } : null;
}

export class CacheTrust {
  private readonly now: () => number;
  private position: Position | null = null;
  private lastBeatAt = -Infinity;
  /** Entries loaded at or after this instant may be trusted while the heartbeat is fresh. */
  private since = Infinity;
  private readonly flushListeners: Array<(reason: TrustLoss) => void> = [];
  readonly stats = { heartbeats: 0, gaps: 0, flushes: 0 };

  constructor(private readonly options: CacheTrustOptions) {
    if (!(options.boundMs > 0)) throw new RangeError('boundMs must be > 0');
    this.now = options.now ?? (() => performance.now());
  }

  /** Called on a gap, a fencing change or a disconnect: every cached entry may be stale. */
  onFlush(listener: (reason: TrustLoss) => void): void {
    this.flushListeners.push(listener);
  }

  /**
   * The earliest load time that is trusted now, or +Infinity when nothing beyond the TTL is: compare a
   * load's START time with it (a load that began before trust was regained read unverified state).
   */
  trustedSince(): number {
    return this.now() - this.lastBeatAt <= this.options.boundMs ? this.since : Infinity;
  }

  get isTrusted(): boolean {
    return this.trustedSince() !== Infinity;
  }

  /** A sequenced lifecycle event arrived (after its invalidation was applied). */
  event(relaySeq: string | undefined): void {
    const p = parseRelaySeq(relaySeq);
    if (p && this.position && p.fencing === this.position.fencing && p.n === this.position.n + 1) {
      this.position = p;
      return;
    }
    // The first message after start or a flush has nothing to follow: adopt it, trust nothing older.
    if (p && this.position === null) {
      this.position = p;
      return;
    }
    this.lose(p && this.position && p.fencing !== this.position.fencing ? 'fencing' : 'gap', p);
  }

  heartbeat(relaySeq: string | undefined): void {
    const p = parseRelaySeq(relaySeq);
    const at = this.now();
    if (p && this.position && p.fencing === this.position.fencing && p.n === this.position.n) {
      this.stats.heartbeats++;
      if (at - this.lastBeatAt > this.options.boundMs) this.since = at; // regained after a silence
      this.lastBeatAt = at;
      return;
    }
    if (p && this.position === null) {
      // Nothing heard before (start, or after a flush): from now on every event is followed.
      this.position = p;
      this.since = at;
      this.lastBeatAt = at;
      this.stats.heartbeats++;
      return;
    }
    this.lose(p && this.position && p.fencing !== this.position.fencing ? 'fencing' : 'gap', null);
  }

  /** The connection dropped: messages may have been lost while it was down. */
  disconnected(): void {
    this.lose('disconnect', null);
  }

  private lose(reason: TrustLoss, adopt: Position | null): void {
    if (reason !== 'disconnect') this.stats.gaps++;
    this.stats.flushes++;
    this.position = adopt;
    this.lastBeatAt = -Infinity;
    this.since = Infinity;
    for (const l of this.flushListeners) l(reason);
  }
}

/** Nest token: the one CacheTrust of a keys process, shared by both caches and the invalidator. */
export const KEY_CACHE_TRUST = Symbol('KEY_CACHE_TRUST');

/**
 * Whether an entry loaded at `loadedAt` (the load's start, monotonic ms) may be served at `now`: within
 * the short TTL always; beyond it only while trust holds for loads that began after trust was (re)gained,
 * and never past `maxAgeMs`.
 */
export const isEntryFresh = (loadedAt: number, now: number, ttlMs: number, maxAgeMs: number, trustedSince: number): boolean =>
  now - loadedAt < ttlMs || (loadedAt >= trustedSince && now - loadedAt < maxAgeMs);
