/**
 * Per-principal rate limits against the real keys service (in-process, real Postgres and nats-server,
 * EKM_AUTH=disabled so the Ekm-Principal header names the caller): a noisy principal far above its
 * limit gets EKM_RATE_LIMITED for the excess and nothing is written for those requests, while a quiet
 * principal interleaved with the flood is answered every time. No timing is asserted: the only use of
 * the clock is the bound on how many tokens can have refilled while the test ran.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BusErrorCode, type Reply } from '@ekm/contracts';
import { EkmClient, EkmError } from '@ekm/client';
import { startKeysHarness, type Harness } from '../../apps/keys/src/keys/adapters/nats/keys-admin.test-harness';

const RPS = 1;
const BURST = 20;
const NOISY_REQUESTS = 200;
const QUIET_REQUESTS = 10;

describe('rate limits per principal (keys service)', () => {
  let h: Harness;
  const tenant = `rl-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    h = await startKeysHarness({ EKM_RATE_LIMIT_RPS: String(RPS), EKM_RATE_LIMIT_BURST: String(BURST) });
  });
  afterAll(async () => {
    await h?.close();
  });

  const keyStreams = async (): Promise<{ streams: number; events: number }> => {
    const { rows } = await h.db.query<{ streams: string; events: string }>(
      `SELECT count(DISTINCT stream_id) AS streams, count(*) AS events FROM ekm_keys.events WHERE stream_id LIKE 'key-%'`,
    );
    return { streams: Number(rows[0].streams), events: Number(rows[0].events) };
  };

  it('refuses a noisy principal\'s excess (nothing written for it) while a quiet principal is answered every time', async () => {
    // Events per created key, from one create by a third principal (its bucket is untouched by the rest).
    const before0 = await keyStreams();
    expect((await h.call('create-key', { tenant }, { principal: 'p-probe' })).ok).toBe(true);
    const before = await keyStreams();
    const eventsPerKey = before.events - before0.events;
    expect(before.streams - before0.streams).toBe(1);

    const started = performance.now();
    const flood = Array.from({ length: NOISY_REQUESTS }, () => h.call('create-key', { tenant }, { principal: 'p-noisy' }));
    const quiet: Reply<unknown>[] = [];
    for (let i = 0; i < QUIET_REQUESTS; i++) quiet.push(await h.call('create-key', { tenant }, { principal: 'p-quiet' }));
    const noisy = await Promise.all(flood);
    const elapsedS = (performance.now() - started) / 1000;

    expect(quiet.filter((r) => !r.ok)).toEqual([]);
    const admitted = noisy.filter((r) => r.ok).length;
    const refusals = noisy.flatMap((r) => (r.ok ? [] : [r.error]));
    expect(refusals.filter((e) => e.code !== BusErrorCode.RateLimited)).toEqual([]);
    // The burst at least, and no more than the burst plus what refilled while the test ran.
    expect(admitted).toBeGreaterThanOrEqual(BURST);
    expect(admitted).toBeLessThanOrEqual(BURST + Math.ceil(elapsedS * RPS));
    expect(refusals.length).toBe(NOISY_REQUESTS - admitted);
    for (const e of refusals) {
      expect(e.details).toMatchObject({ scope: 'principal', ratePerSecond: RPS, burst: BURST });
      expect(e.details?.retryAfterMs).toBeGreaterThanOrEqual(1);
      expect(e.message).toMatch(/^principal p-noisy is over its rate limit on the keys service/);
    }

    // Exactly the answered creates were written: a refused request reached no handler and no database.
    const after = await keyStreams();
    expect(after.streams - before.streams).toBe(admitted + QUIET_REQUESTS);
    expect(after.events - before.events).toBe((admitted + QUIET_REQUESTS) * eventsPerKey);

    const metrics = await h.svc.context.metrics.render();
    expect(metrics).toContain(`ekm_rate_limited_total{operation="create-key",scope="principal",service="keys"} ${refusals.length}`);
  });

  it('the SDK surfaces a refusal as a retriable EkmError with the retry hint', async () => {
    // No Ekm-Principal header: the caller is the single `anonymous` bucket of EKM_AUTH=disabled.
    const client = EkmClient.fromConnection(h.nc, { maxAttempts: 1 });
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: BURST + 10 }, () => client.call('keys', 'status', {})));
    const refilled = Math.ceil(((performance.now() - started) / 1000) * RPS);
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(errors.length).toBeGreaterThanOrEqual(10 - refilled);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e).toBeInstanceOf(EkmError);
      const err = e as EkmError;
      expect(err.code).toBe(BusErrorCode.RateLimited);
      expect(err.retriable).toBe(true);
      expect(err.retryAfterMs).toBeGreaterThanOrEqual(1);
    }
  });
});
