/** `npm run bench` options of the scale rows (test/bench/bench-options.ts). */
import { BenchUsageError, parseBenchArgs } from '../bench/bench-options';

describe('bench options: scale rows', () => {
  it('has no scale rows unless asked', () => {
    expect(parseBenchArgs(['--quick']).scale).toBeUndefined();
  });

  it('--scale: 1,000,000 entries and 100,000 keys; --quick: 100,000 and 10,000', () => {
    expect(parseBenchArgs(['--scale']).scale).toEqual({ trailEntries: 1_000_000, spreadKeys: 100_000, concurrency: 64 });
    expect(parseBenchArgs(['--quick', '--scale']).scale).toEqual({ trailEntries: 100_000, spreadKeys: 10_000, concurrency: 64 });
  });

  it('--trail-entries / --spread-keys set the sizes, imply --scale, and 0 skips a pair', () => {
    expect(parseBenchArgs(['--quick', '--trail-entries', '1000000', '--spread-keys', '0']).scale).toEqual({ trailEntries: 1_000_000, spreadKeys: 0, concurrency: 64 });
  });

  it('refuses what it cannot run', () => {
    expect(() => parseBenchArgs(['--scale', '--stack'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--scale', '--profile'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--spread-keys', '150'])).toThrow(/at least 200/);
    expect(() => parseBenchArgs(['--trail-entries', '-3'])).toThrow(BenchUsageError);
  });
});
