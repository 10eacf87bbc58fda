import fc from 'fast-check';
import { CacheTrust, parseRelaySeq, type TrustLoss } from './cache-trust';

function setup(boundMs = 500): { trust: CacheTrust; clock: { t: number }; flushes: TrustLoss[] } {
  const clock = { t: 1_000 };
  const trust = new CacheTrust({ boundMs, now: () => clock.t });
  const flushes: TrustLoss[] = [];
  trust.onFlush((r) => flushes.push(r));
  return { trust, clock, flushes };
}

describe('CacheTrust', () => {
  it('trusts nothing before the first heartbeat, then entries loaded since it', () => {
    const { trust, clock } = setup();
    expect(trust.trustedSince()).toBe(Infinity);
    trust.heartbeat('1:0');
    expect(trust.trustedSince()).toBe(1_000);
    clock.t += 100;
    trust.event('1:1');
    trust.heartbeat('1:1');
    expect(trust.trustedSince()).toBe(1_000);
    expect(trust.isTrusted).toBe(true);
  });

  it('a late heartbeat suspends trust without a flush; the next one trusts only later loads', () => {
    const { trust, clock, flushes } = setup();
    trust.heartbeat('1:0');
    clock.t += 501;
    expect(trust.trustedSince()).toBe(Infinity);
    clock.t += 1_000;
    trust.heartbeat('1:0');
    expect(trust.trustedSince()).toBe(clock.t);
    expect(flushes).toEqual([]);
  });

  it('a skipped sequence number flushes and suspends until the next heartbeat', () => {
    const { trust, clock, flushes } = setup();
    trust.heartbeat('1:0');
    trust.event('1:1');
    trust.event('1:3');
    expect(flushes).toEqual(['gap']);
    expect(trust.trustedSince()).toBe(Infinity);
    clock.t += 10;
    trust.heartbeat('1:3');
    expect(trust.trustedSince()).toBe(clock.t);
  });

  it('a heartbeat ahead of the events seen (the lost message was the last one) flushes', () => {
    const { trust, flushes } = setup();
    trust.heartbeat('1:0');
    trust.event('1:1');
    trust.heartbeat('1:2');
    expect(flushes).toEqual(['gap']);
    expect(trust.isTrusted).toBe(false);
  });

  it('a new fencing token (another relay) flushes; so do a disconnect and a garbled header', () => {
    const { trust, flushes } = setup();
    trust.heartbeat('1:4');
    trust.event('2:1');
    trust.heartbeat('2:1');
    trust.disconnected();
    trust.heartbeat('2:1');
    trust.event('2:x');
    trust.heartbeat(undefined);
    expect(flushes).toEqual(['fencing', 'disconnect', 'gap', 'gap']);
    expect(trust.isTrusted).toBe(false);
  });

  it('parses only <fencing>:<n> with decimal digits', () => {
    expect(parseRelaySeq('12:7')).toEqual({ fencing: '12', n: 7 });
    for (const bad of ['', '1', ':1', '1:', '1:-1', 'a:1', '1:1:1', ' 1:1', '1:9999999999999999']) expect(parseRelaySeq(bad)).toBeNull();
    expect(parseRelaySeq(undefined)).toBeNull();
  });

  it('property: after any message sequence, trust holds only if the last heartbeat is fresh and every number up to it was seen since the last flush', () => {
    type Step = { kind: 'event' | 'beat'; skip: boolean; fencing: 0 | 1; dt: number } | { kind: 'disconnect'; dt: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constantFrom('event' as const, 'beat' as const), skip: fc.boolean(), fencing: fc.constantFrom(0 as const, 1 as const), dt: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ kind: fc.constant('disconnect' as const), dt: fc.integer({ min: 0, max: 400 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const { trust, clock } = setup(500);
        // A faithful relay model: fencing f, counter n; "skip" loses one event before this message.
        let fencing = 1;
        let n = 0;
        // Reference model of what the replica knows.
        let ref: { fencing: number; n: number } | null = null;
        let beatAt = -Infinity;
        let since = Infinity;
        for (const s of steps) {
          clock.t += s.dt;
          if (s.kind === 'disconnect') {
            trust.disconnected();
            ref = null;
            beatAt = -Infinity;
            since = Infinity;
            continue;
          }
          if (s.fencing === 1) {
            fencing++;
            n = 0;
          }
          if (s.skip) n++; // a lost event
          if (s.kind === 'event') {
            n++;
            trust.event(`${fencing}:${n}`);
            if (ref === null) ref = { fencing, n };
            else if (ref.fencing === fencing && ref.n + 1 === n) ref = { fencing, n };
            else {
              ref = { fencing, n };
              beatAt = -Infinity;
              since = Infinity;
            }
          } else {
            trust.heartbeat(`${fencing}:${n}`);
            if (ref === null || (ref.fencing === fencing && ref.n === n)) {
              if (ref === null || clock.t - beatAt > 500) since = clock.t;
              ref = { fencing, n };
              beatAt = clock.t;
            } else {
              ref = null;
              beatAt = -Infinity;
              since = Infinity;
            }
          }
          const expected = clock.t - beatAt <= 500 ? since : Infinity;
          if (trust.trustedSince() !== expected) return false;
          // Safety: trusted implies a heartbeat within the bound.
          if (trust.isTrusted && !(clock.t - beatAt <= 500)) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
