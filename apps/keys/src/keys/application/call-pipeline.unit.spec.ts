import { runRecorded, type UsageSink } from './call-pipeline';
import type { UsageRecord } from './usage-recorder';

const collect = (): UsageSink & { records: UsageRecord[] } => {
  const records: UsageRecord[] = [];
  return { records, record: (r) => { records.push(r); return Promise.resolve(); } };
};

describe('runRecorded and the deadline', () => {
  it('a call whose deadline passed is not started: EKM_DEADLINE_EXCEEDED, recorded FAILED', async () => {
    const sink = collect();
    let started = false;
    const out = await runRecorded(sink, { requestId: 'r-late', principal: 'p', deadline: Date.now() - 1 }, { operation: 'Encrypt' }, () => {
      started = true;
      return Promise.resolve({ ok: true as const, value: 1, facts: { operation: 'Encrypt' } });
    });
    expect(started).toBe(false);
    expect(out).toEqual({ ok: false, failure: { kind: 'DEADLINE_EXCEEDED', step: 'authorization' } });
    expect(sink.records).toEqual([expect.objectContaining({ requestId: 'r-late', outcome: 'FAILED', errorCode: 'EKM_DEADLINE_EXCEEDED' })]);
  });

  it('a call within its deadline (or without one) runs', async () => {
    for (const deadline of [Date.now() + 60_000, undefined]) {
      const sink = collect();
      const meta = deadline === undefined ? { requestId: 'r', principal: 'p' } : { requestId: 'r', principal: 'p', deadline };
      const out = await runRecorded(sink, meta, { operation: 'Encrypt' }, () => Promise.resolve({ ok: true as const, value: 7, facts: { operation: 'Encrypt' } }));
      expect(out).toEqual({ ok: true, value: 7 });
      expect(sink.records).toEqual([expect.objectContaining({ outcome: 'ALLOWED' })]);
    }
  });
});
