import type { AuthenticatedPrincipal } from '@ekm/auth';
import { createLogger } from '@ekm/telemetry';
import { KeyedBuckets } from './keyed-buckets';
import { RequestMetrics } from './metrics';
import { isServicePrincipal, RequestRateLimit } from './request-rate-limit';

const who = (principalId: string, tenant = 't1', roles = ['app']): AuthenticatedPrincipal => ({ principalId, tenant, roles });

/** A logger that keeps its warn calls. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; warnings: Record<string, unknown>[] } {
  const logger = createLogger('keys', { level: 'silent' });
  const warnings: Record<string, unknown>[] = [];
  logger.warn = ((obj: Record<string, unknown>) => { warnings.push(obj); }) as typeof logger.warn;
  return { logger, warnings };
}

describe('KeyedBuckets', () => {
  it('keeps one bucket per key: one key running dry leaves the others full', () => {
    const b = new KeyedBuckets({ ratePerSecond: 1, burst: 2 });
    expect([b.take('noisy', 0), b.take('noisy', 0), b.take('noisy', 0)].map((r) => r.ok)).toEqual([true, true, false]);
    expect([b.take('quiet', 0), b.take('quiet', 0)].map((r) => r.ok)).toEqual([true, true]);
  });

  it('forgets idle (refilled) buckets as new keys arrive, so the map tracks only the active keys', () => {
    const b = new KeyedBuckets({ ratePerSecond: 10, burst: 5 });
    for (let i = 0; i < 1000; i++) b.take(`k${i}`, i * 1000); // each key is idle (full again) 0.5 s after its one request
    expect(b.size).toBeLessThanOrEqual(2);
  });

  it('never holds more than maxKeys buckets under a flood of distinct keys that are all still draining', () => {
    const b = new KeyedBuckets({ ratePerSecond: 1, burst: 1 }, 100);
    for (let i = 0; i < 10_000; i++) b.take(`k${i}`, 0);
    expect(b.size).toBe(100);
  });

  it('keeps a recently used bucket when the cold end is evicted (least recently used goes first)', () => {
    const b = new KeyedBuckets({ ratePerSecond: 1, burst: 1 }, 3);
    b.take('noisy', 0);
    b.take('a', 0);
    b.take('b', 0);
    expect(b.take('noisy', 0).ok).toBe(false); // touched: now the most recent
    b.take('c', 0); // evicts `a`, the coldest
    expect(b.take('noisy', 0).ok).toBe(false);
    expect(b.take('a', 0).ok).toBe(true); // a new, full bucket
  });

  it('reports a key\'s refusals at most once per interval, with the count since the last report', () => {
    const b = new KeyedBuckets({ ratePerSecond: 1, burst: 1 }, 10, 60_000);
    b.take('k', 0);
    expect(b.take('k', 0)).toEqual({ ok: false, retryAfterMs: 1000, report: { refused: 1 } });
    for (let i = 0; i < 5; i++) expect(b.take('k', 0)).not.toHaveProperty('report');
    b.take('k', 59_999.5); // admitted: refilled
    expect(b.take('k', 59_999.5)).not.toHaveProperty('report');
    expect(b.take('k', 60_000)).toMatchObject({ ok: false, report: { refused: 7 } });
  });

  it('refuses limits that would admit nothing', () => {
    expect(() => new KeyedBuckets({ ratePerSecond: 0, burst: 5 })).toThrow(/rate must be > 0/);
    expect(() => new KeyedBuckets({ ratePerSecond: 5, burst: 0 })).toThrow(/burst >= 1/);
  });
});

describe('RequestRateLimit', () => {
  it('refuses the excess with EKM_RATE_LIMITED, a retry hint and a metric by operation (no principal label)', async () => {
    const metrics = new RequestMetrics('keys');
    const { logger } = recordingLogger();
    const rl = new RequestRateLimit({ service: 'keys', principal: { ratePerSecond: 4, burst: 2 }, logger, metrics, clock: () => 0 });
    expect(rl.admit(who('p-1'), 'encrypt')).toBeNull();
    expect(rl.admit(who('p-1'), 'encrypt')).toBeNull();
    expect(rl.admit(who('p-1'), 'decrypt')).toEqual({
      ok: false,
      error: {
        code: 'EKM_RATE_LIMITED',
        message: 'principal p-1 is over its rate limit on the keys service (4 requests/s, burst 2); retry after 250 ms',
        details: { scope: 'principal', retryAfterMs: 250, ratePerSecond: 4, burst: 2 },
      },
    });
    expect(rl.admit(who('p-2'), 'decrypt')).toBeNull();
    const text = await metrics.render();
    expect(text).toContain('ekm_rate_limited_total{operation="decrypt",scope="principal",service="keys"} 1');
    expect(text).not.toMatch(/ekm_rate_limited_total\{[^}]*p-1/);
  });

  it('logs one warning per principal per interval, not one per refusal', () => {
    const { logger, warnings } = recordingLogger();
    const rl = new RequestRateLimit({ service: 'keys', principal: { ratePerSecond: 1, burst: 1 }, logger, clock: () => 0 });
    for (let i = 0; i < 100; i++) rl.admit(who('p-noisy'), 'encrypt');
    for (let i = 0; i < 10; i++) rl.admit(who('p-other'), 'encrypt');
    expect(warnings).toEqual([
      expect.objectContaining({ event: 'rate-limited', scope: 'principal', principalId: 'p-noisy', refused: 1 }),
      expect.objectContaining({ event: 'rate-limited', scope: 'principal', principalId: 'p-other', refused: 1 }),
    ]);
  });

  it('limits a tenant across its principals, never the operator scope *, and charges the principal first', () => {
    const { logger } = recordingLogger();
    const rl = new RequestRateLimit({ service: 'policy', principal: { ratePerSecond: 1, burst: 2 }, tenant: { ratePerSecond: 1, burst: 3 }, logger, clock: () => 0 });
    // p-a is refused by its own bucket on the 3rd request: the tenant bucket keeps 1 of its 3 tokens.
    expect([0, 1, 2].map(() => rl.admit(who('p-a', 'acme'), 'decide')?.error.details?.scope ?? 'ok')).toEqual(['ok', 'ok', 'principal']);
    expect([0, 1].map(() => rl.admit(who('p-b', 'acme'), 'decide')?.error.details?.scope ?? 'ok')).toEqual(['ok', 'tenant']);
    expect(rl.admit(who('p-c', 'other'), 'decide')).toBeNull();
    expect(rl.admit(who('op-1', '*'), 'decide')).toBeNull();
    expect(rl.admit(who('op-1', '*'), 'decide')).toBeNull();
    expect(rl.admit(who('op-1', '*'), 'decide')?.error.details?.scope).toBe('principal');
    expect(rl.bucketCount).toEqual({ principal: 4, tenant: 2 });
  });

  it('does not limit service sessions (service:<name> with role service), which carry every user\'s traffic', () => {
    const { logger } = recordingLogger();
    const rl = new RequestRateLimit({ service: 'policy', principal: { ratePerSecond: 1, burst: 1 }, logger, clock: () => 0 });
    for (let i = 0; i < 50; i++) expect(rl.admit(who('service:keys', '*', ['service']), 'decide')).toBeNull();
    expect(isServicePrincipal(who('service:keys', '*', ['admin']))).toBe(false); // EKM_AUTH=disabled claims get role admin
    expect(isServicePrincipal(who('p-123', 't1', ['service']))).toBe(false); // an admin-created principal given role "service"
    expect(rl.bucketCount.principal).toBe(0);
  });
});
