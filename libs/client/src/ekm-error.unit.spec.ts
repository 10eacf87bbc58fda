import { BusErrorCode } from '@ekm/contracts';
import { EkmError, MAX_RETRY_AFTER_MS, retryDelayMs } from './ekm-error';

const limited = (retryAfterMs: unknown): EkmError =>
  new EkmError({ code: BusErrorCode.RateLimited, message: 'principal p-1 is over its rate limit', details: { scope: 'principal', retryAfterMs } });

describe('EkmError: EKM_RATE_LIMITED', () => {
  it('is retriable and carries the service\'s retry hint', () => {
    expect(limited(250).retriable).toBe(true);
    expect(limited(250).retryAfterMs).toBe(250);
    expect(limited('soon').retryAfterMs).toBeUndefined();
    expect(new EkmError({ code: BusErrorCode.Unavailable, message: 'x' }).retryAfterMs).toBeUndefined();
  });

  it('waits the hint plus up to the same again (jitter), never less than the backoff, and gives up on a hint over the cap', () => {
    expect(retryDelayMs(limited(250), 1, () => 0)).toBe(250);
    expect(retryDelayMs(limited(250), 1, () => 0.999)).toBe(500);
    expect(retryDelayMs(limited(1), 2, () => 0.5)).toBe(200); // the backoff of attempt 2 is longer than the hint
    expect(retryDelayMs(limited(MAX_RETRY_AFTER_MS + 1), 1)).toBeUndefined();
    expect(retryDelayMs(new EkmError({ code: BusErrorCode.Unavailable, message: 'x' }), 1)).toBe(100);
    expect(retryDelayMs(new EkmError({ code: BusErrorCode.Unavailable, message: 'x' }), 6)).toBe(1000);
  });
});
