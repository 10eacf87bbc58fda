import { InMemoryEventStore, type EventStore, type RecordedEvent } from '@ekm/event-store';
import { AuditUnavailableError, UsageRecorder, UsageRecordRefusedError, USAGE_BATCH_EVENT, type UsageBatchData, type UsageRecord } from './usage-recorder';

/** The records of a stream's batch events, in order. */
const recordsOf = (events: readonly RecordedEvent[]): UsageRecord[] => events.flatMap((e) => [...(e.data as UsageBatchData).records]);
const readRecords = async (store: InMemoryEventStore, stream: string): Promise<UsageRecord[]> => recordsOf(await store.readStream(stream));

const rec = (i: number): UsageRecord => ({
  requestId: `r-${i}`, principal: 'svc-a', operation: 'GenerateDataKey', keyId: 'k', keyVersion: 1,
  encryptionContext: { tenant: 't', collection: 'c' }, outcome: 'ALLOWED', at: new Date(0).toISOString(),
});

describe('UsageRecorder', () => {
  it('commits every record before resolving, sharing transactions under concurrency', async () => {
    const store = new InMemoryEventStore();
    const appendSpy = jest.spyOn(store, 'appendToStream');
    const recorder = new UsageRecorder(store, { streamId: 'usage-test', maxBatch: 64 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => recorder.record(rec(i))));
    const events = await store.readStream('usage-test');
    expect(recordsOf(events).map((r) => r.requestId).sort()).toEqual(Array.from({ length: 200 }, (_, i) => `r-${i}`).sort());
    // One event per group commit, holding each record unchanged.
    expect(events.every((e) => e.type === USAGE_BATCH_EVENT)).toBe(true);
    expect(events).toHaveLength(appendSpy.mock.calls.length);
    expect(appendSpy.mock.calls.every((c) => c[1].length === 1)).toBe(true);
    expect(recordsOf(events).find((r) => r.requestId === 'r-7')).toEqual(rec(7));
    expect(events.every((e) => (e.data as UsageBatchData).records.length <= 64)).toBe(true);
    // 200 concurrent records in batches of at most 64: at least 4 and far fewer than 200 commits.
    expect(appendSpy.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(appendSpy.mock.calls.length).toBeLessThan(20);
    expect(recorder.pending).toBe(0);
  });

  it('caps a batch by serialized bytes, not only by count', async () => {
    const store = new InMemoryEventStore();
    const recorder = new UsageRecorder(store, { streamId: 'usage-test', maxBatch: 512, maxBatchBytes: 4_096 });
    const big = (i: number): UsageRecord => ({ ...rec(i), reason: 'x'.repeat(1_000) });
    await Promise.all(Array.from({ length: 40 }, (_, i) => recorder.record(big(i))));
    const events = await store.readStream('usage-test');
    expect(recordsOf(events)).toHaveLength(40);
    for (const e of events) expect(Buffer.byteLength(JSON.stringify((e.data as UsageBatchData).records))).toBeLessThanOrEqual(4_096);
    expect(events.length).toBeGreaterThanOrEqual(10);
    // A single record larger than the cap still goes (alone).
    await recorder.record({ ...rec(99), reason: 'y'.repeat(5_000) });
    expect(recordsOf(await store.readStream('usage-test'))).toHaveLength(41);
  });

  it('fails closed: every record of a failed batch rejects with AuditUnavailableError', async () => {
    const failing: EventStore = {
      appendToStream: () => Promise.reject(new Error('connection refused')),
      readStream: () => Promise.resolve([]),
      streamVersion: () => Promise.resolve(0),
      readAll: () => Promise.resolve([]),
    };
    const recorder = new UsageRecorder(failing, { streamId: 'usage-test' });
    const results = await Promise.allSettled([recorder.record(rec(1)), recorder.record(rec(2))]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AuditUnavailableError);
      // The underlying error text (which could name hosts) is not passed to callers.
      expect(String((r as PromiseRejectedResult).reason.message)).not.toMatch(/connection refused/);
    }
  });

  it('recovers after a failed batch', async () => {
    const store = new InMemoryEventStore();
    let fail = true;
    const flaky: EventStore = {
      appendToStream: (...a) => (fail ? Promise.reject(new Error('down')) : store.appendToStream(...a)),
      readStream: (...a) => store.readStream(...a),
      streamVersion: (s) => store.streamVersion(s),
      readAll: (...a) => store.readAll(...a),
    };
    const recorder = new UsageRecorder(flaky, { streamId: 'usage-test' });
    await expect(recorder.record(rec(1))).rejects.toBeInstanceOf(AuditUnavailableError);
    fail = false;
    await expect(recorder.record(rec(2))).resolves.toBeUndefined();
    expect(await readRecords(store, 'usage-test')).toHaveLength(1);
  });

  it('keeps at most maxInFlight batches in flight and resolves a record only after its own batch committed', async () => {
    const store = new InMemoryEventStore();
    let open = 0;
    let maxOpen = 0;
    const gates: (() => void)[] = [];
    const slow: EventStore = {
      appendToStream: async (...a) => {
        open++;
        maxOpen = Math.max(maxOpen, open);
        await new Promise<void>((r) => gates.push(r));
        open--;
        return store.appendToStream(...a);
      },
      readStream: (...a) => store.readStream(...a),
      streamVersion: (s) => store.streamVersion(s),
      readAll: (...a) => store.readAll(...a),
    };
    const recorder = new UsageRecorder(slow, { streamId: 'usage-test', maxBatch: 2, maxInFlight: 2 });
    let resolved = 0;
    const all = Array.from({ length: 10 }, (_, i) => recorder.record(rec(i)).then(() => resolved++));
    await new Promise((r) => setImmediate(r));
    expect(open).toBe(2); // two batches sent, the rest waits
    expect(resolved).toBe(0);
    while (resolved < 10) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    expect(maxOpen).toBe(2);
    expect(await readRecords(store, 'usage-test')).toHaveLength(10);
  });
});

describe('UsageRecorder isolates the member at fault', () => {
  // Postgres' answer to a NUL in jsonb: 22P05 (untranslatable character) fails the whole statement.
  const pickyStore = (inner: InMemoryEventStore): EventStore => ({
    appendToStream: (stream, events, opts) => (events.some((e) => JSON.stringify(e.data).includes('\\u0000'))
      ? Promise.reject(Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' }))
      : inner.appendToStream(stream, events, opts)),
    readStream: (s) => inner.readStream(s),
    streamVersion: (s) => inner.streamVersion(s),
    readAll: (after, limit) => inner.readAll(after, limit),
  });

  it('commits every innocent record of a batch and refuses only the bad one, non-retriably', async () => {
    const inner = new InMemoryEventStore();
    const recorder = new UsageRecorder(pickyStore(inner), { streamId: 'usage-test', maxBatch: 64 });
    const bad = { ...rec(999), encryptionContext: { x: 'a\u0000' } };
    const results = await Promise.allSettled([...Array.from({ length: 40 }, (_, i) => recorder.record(rec(i))), recorder.record(bad), ...Array.from({ length: 40 }, (_, i) => recorder.record(rec(100 + i)))]);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toBeInstanceOf(UsageRecordRefusedError);
    expect(rejected[0].reason.retriable).toBe(false);
    expect(rejected[0].reason.message).not.toMatch(/a\u0000/);
    const committed = await readRecords(inner, 'usage-test');
    expect(committed).toHaveLength(80);
    expect(committed.some((r) => r.requestId === 'r-999')).toBe(false);
  });

  it('still fails the whole batch (retriable) when the database itself is away', async () => {
    const down: EventStore = {
      appendToStream: () => Promise.reject(Object.assign(new Error('terminating connection'), { code: '57P01' })),
      readStream: () => Promise.resolve([]), streamVersion: () => Promise.resolve(0), readAll: () => Promise.resolve([]),
    };
    const recorder = new UsageRecorder(down, { streamId: 'usage-test' });
    const results = await Promise.allSettled([recorder.record(rec(1)), recorder.record(rec(2))]);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof AuditUnavailableError)).toBe(true);
  });
});
