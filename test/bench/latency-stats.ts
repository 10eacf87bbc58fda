/** Percentiles of a latency sample (pure). Latencies are milliseconds; the sample is sorted in place. */

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile of an ascending array (`q` in 0..1); 0 for an empty array. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export function summarize(samples: Float64Array): LatencySummary {
  samples.sort();
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i];
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    count: samples.length,
    meanMs: round(samples.length ? sum / samples.length : 0),
    p50Ms: round(percentile(samples, 0.5)),
    p99Ms: round(percentile(samples, 0.99)),
    p999Ms: round(percentile(samples, 0.999)),
    maxMs: round(samples.length ? samples[samples.length - 1] : 0),
  };
}

/** A growable Float64Array: a latency per completed request without boxing every number. */
export class SampleBuffer {
  private data = new Float64Array(1 << 16);
  private n = 0;

  push(x: number): void {
    if (this.n === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = x;
  }

  get length(): number {
    return this.n;
  }

  /** A copy of the samples (the buffer can be reused). */
  take(): Float64Array {
    return this.data.slice(0, this.n);
  }
}
