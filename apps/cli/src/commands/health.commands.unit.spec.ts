import { trailLine } from './health.commands';

describe('ekm health: the audit trail line', () => {
  it('shows entries, quarantined entries, records waiting and the age of the oldest', () => {
    expect(trailLine({ head: 120, quarantined: 2, unappended: 7, oldestUnappendedAgeMs: 65_400, signing: { trusted: true, reason: null } }))
      .toBe('audit trail: 120 entries, 2 quarantined, 7 record(s) waiting (oldest 65 s)\n');
  });

  it('says loudly when the signer stopped signing, and why', () => {
    expect(trailLine({ head: 5, quarantined: 0, unappended: 0, oldestUnappendedAgeMs: null, signing: { trusted: false, reason: 'entry 6 was not appended by this service' } }))
      .toMatch(/SIGNING STOPPED: entry 6 was not appended by this service/);
  });

  it('prints nothing for services without a trail', () => {
    expect(trailLine(undefined)).toBe('');
  });
});
