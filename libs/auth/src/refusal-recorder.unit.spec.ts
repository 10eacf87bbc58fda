import { InMemoryEventStore } from '@ekm/event-store';
import { ACCESS_DENIED, AuthFailureRecorder, RefusalRecorder } from './auth-failure-recorder';

describe('RefusalRecorder (a flood cannot fill the trail)', () => {
  const denied = (at: string, requestId?: string) => ({ principal: 'p', principalTenant: 'tb', operation: 'AuditQuery', errorCode: 'EKM_FORBIDDEN', reason: 'r', service: 'audit', at, ...(requestId ? { requestId } : {}) });

  it('records at most perKeyPerMinute per principal; the next admitted record says how many were left out', async () => {
    let now = 0;
    const store = new InMemoryEventStore();
    const r = new RefusalRecorder(store, 'refusals-x', undefined, { perKeyPerMinute: 5, globalPerMinute: 1000, clock: () => now });
    const admitted = Array.from({ length: 50 }, (_, i) => r.record(ACCESS_DENIED, denied(new Date(now).toISOString(), `rq-${i}`), 'p'));
    expect(admitted.filter(Boolean)).toHaveLength(5);
    // Another principal is not starved by p's flood.
    expect(r.record(ACCESS_DENIED, denied(new Date(now).toISOString()), 'q')).toBe(true);
    now = 60_000; // next window
    expect(r.record(ACCESS_DENIED, denied(new Date(now).toISOString(), 'rq-late'), 'p')).toBe(true);
    await r.flush();
    const events = await store.readStream('refusals-x');
    expect(events).toHaveLength(7);
    expect(events.every((e) => e.type === ACCESS_DENIED)).toBe(true);
    expect(events.at(-1)!.data).toMatchObject({ requestId: 'rq-late', suppressed: 45 });
    expect(events.at(-1)!.meta).toMatchObject({ actor: 'p', correlationId: 'rq-late' });
  });

  it('a batch the store refuses for a moment is retried and recorded once; a store that never answers gives up after maxAttempts', async () => {
    const store = new InMemoryEventStore();
    let failures = 2;
    let calls = 0;
    const flaky = new Proxy(store, {
      get: (t, k) => (k === 'appendToStream' ? async (...a: Parameters<InMemoryEventStore['appendToStream']>) => {
        calls++;
        if (failures-- > 0) throw new Error('timeout exceeded when trying to connect');
        return t.appendToStream(...a);
      } : Reflect.get(t, k)),
    });
    const r = new RefusalRecorder(flaky, 'refusals-f', undefined, { retryBaseMs: 1 });
    r.record(ACCESS_DENIED, denied('1970-01-01T00:00:00.000Z', 'rq-1'), 'p');
    r.record(ACCESS_DENIED, denied('1970-01-01T00:00:00.000Z', 'rq-2'), 'p');
    await r.flush();
    expect(calls).toBe(3);
    expect((await store.readStream('refusals-f')).map((e) => (e.data as { requestId: string }).requestId)).toEqual(['rq-1', 'rq-2']);

    failures = Infinity;
    calls = 0;
    const errors: string[] = [];
    const logger = { warn: () => undefined, error: (_: unknown, m: string) => errors.push(m) } as never;
    const dead = new RefusalRecorder(flaky, 'refusals-g', logger, { retryBaseMs: 1, maxAttempts: 3 });
    dead.record(ACCESS_DENIED, denied('1970-01-01T00:00:00.000Z', 'rq-3'), 'p');
    await dead.flush();
    expect(calls).toBe(3);
    expect(errors).toEqual(['refusals could not be recorded']);
  });

  it('caps the whole process per minute, whatever the principal names', async () => {
    const store = new InMemoryEventStore();
    const r = new RefusalRecorder(store, 'refusals-y', undefined, { perKeyPerMinute: 100, globalPerMinute: 20, clock: () => 0 });
    let admitted = 0;
    for (let i = 0; i < 500; i++) if (r.record(ACCESS_DENIED, denied('1970-01-01T00:00:00.000Z'), `made-up-${i}`)) admitted++;
    expect(admitted).toBe(20);
    await r.flush();
    expect(await store.readStream('refusals-y')).toHaveLength(20);
  });

  it('AuthFailureRecorder keys the limit by the claimed principal', async () => {
    const store = new InMemoryEventStore();
    const r = new AuthFailureRecorder(store, 'auth-failures-z', undefined, { perKeyPerMinute: 3, clock: () => 0 });
    for (let i = 0; i < 10; i++) r.record({ subject: 'ekm.v1.policy.login', reason: 'LOGIN_PROOF_INVALID', principalClaimed: 'victim', service: 'policy', at: '1970-01-01T00:00:00.000Z' });
    await r.flush();
    expect(await store.readStream('auth-failures-z')).toHaveLength(3);
  });
});
