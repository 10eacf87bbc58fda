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
