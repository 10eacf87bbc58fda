/**
 * AES-GCM invocation budget per KEK version (NIST SP 800-38D: random 96-bit IVs, at most 2^32 uses).
 *
 * Each process takes numbers from Postgres in blocks (`reserved += block`), so the hot path is a local
 * increment; a crash wastes the rest of a block and never reuses a number. The count a call gets is an
 * upper bound of the real number of encryptions, which errs on the safe side. When a count crosses
 * `threshold * budget` the process asks once for a rotation; at the budget itself encryption stops
 * (BUDGET_EXHAUSTED, retriable) until the new primary is visible.
 */
import { needsBudgetRotation, isBudgetExhausted } from '../../domain';
import type { GcmCounterStore } from './crypto.ports';

export type BudgetTake =
  | { ok: true; count: number; rotate: boolean }
  | { ok: false; reason: 'EXHAUSTED'; count: number };

interface Block {
  next: number;
  end: number;
}

export class GcmBudget {
  private readonly blocks = new Map<string, Block>();
  private readonly refills = new Map<string, Promise<void>>();

  constructor(
    private readonly store: GcmCounterStore,
    private readonly budget: number,
    private readonly blockSize: number,
    private readonly threshold: number,
  ) {
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError('gcm block size must be an integer >= 1');
  }

  /** Takes one invocation number for (keyId, version). Throws when the counter store fails. */
  async take(keyId: string, version: number): Promise<BudgetTake> {
    const k = `${keyId}:${version}`;
    for (;;) {
      const b = this.blocks.get(k);
      if (b && b.next <= b.end) {
        const count = b.next++;
        if (isBudgetExhausted(count - 1, this.budget)) return { ok: false, reason: 'EXHAUSTED', count };
        return { ok: true, count, rotate: needsBudgetRotation(count, this.budget, this.threshold) };
      }
      await this.refill(k, keyId, version);
    }
  }

  /** One reservation in flight per key version; concurrent callers wait for it. */
  private refill(k: string, keyId: string, version: number): Promise<void> {
    let p = this.refills.get(k);
    if (!p) {
      p = this.store.reserve(keyId, version, this.blockSize).then((end) => {
        this.blocks.set(k, { next: end - this.blockSize + 1, end });
      }).finally(() => this.refills.delete(k));
      this.refills.set(k, p);
    }
    return p;
  }

  /** Forget local blocks of a key (its versions will not encrypt again, or it was rotated). */
  forget(keyId: string): void {
    for (const k of [...this.blocks.keys()]) if (k.startsWith(`${keyId}:`)) this.blocks.delete(k);
  }
}
