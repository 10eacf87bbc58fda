/**
 * One behaviour suite for every EventStore adapter (Emmett's features.ts): call it from a spec file
 * with a factory; each test uses fresh random stream ids, so one store may serve the whole suite.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyConflictError, InvalidAppendError, InvalidReadError } from './errors';
import { ExpectedVersion, START, type EventStore, type NewEvent, type RecordedEvent } from './event-store.port';

export interface ContractSubject {
  readonly store: EventStore;
  readonly teardown?: () => Promise<void>;
  /** Waits until readAll can see every committed append (Postgres: the cluster-wide xmin horizon). */
  readonly settle?: () => Promise<void>;
}

const meta = { actor: 'svc:test', correlationId: 'corr-1' };
const ev = (type: string, data: unknown = {}): NewEvent => ({ type, data, meta });
const sid = (): string => `contract-${randomUUID()}`;

async function readEverything(store: EventStore, pageSize = 7): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let after = START;
  for (;;) {
    const page = await store.readAll(after, pageSize);
    if (page.length === 0) return out;
    out.push(...page);
    const last = page[page.length - 1];
    after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  }
}

export function eventStoreContract(adapter: string, open: () => Promise<ContractSubject>): void {
  describe(`EventStore contract: ${adapter}`, () => {
    let subject: ContractSubject;
    let store: EventStore;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.teardown?.();
    });

    it('appends to a new stream and reads it back exactly as given', async () => {
      const s = sid();
      const res = await store.appendToStream(s, [ev('KeyCreated', { keyId: 'k1', n: 1 }), { ...ev('KeyEnabled', [1, 'two']), schemaVersion: 2 }], {
        expectedVersion: ExpectedVersion.noStream,
      });
      expect(res).toMatchObject({ nextExpectedVersion: 2, duplicate: false });
      const read = await store.readStream(s);
      expect(read.map((e) => [e.streamId, e.streamPosition, e.type, e.schemaVersion, e.data])).toEqual([
        [s, 1, 'KeyCreated', 1, { keyId: 'k1', n: 1 }],
        [s, 2, 'KeyEnabled', 2, [1, 'two']],
      ]);
      expect(read[0].meta).toEqual(meta); // nothing added to what was given
      expect(read).toEqual(res.events);
      expect(read[0].recordedAt).toBeInstanceOf(Date);
      expect(await store.streamVersion(s)).toBe(2);
    });

    it('reports 0 and [] for an unknown stream', async () => {
      expect(await store.streamVersion(sid())).toBe(0);
      expect(await store.readStream(sid())).toEqual([]);
    });

    it('enforces NoStream, Exact and Any, appending nothing on a conflict', async () => {
      const s = sid();
      await store.appendToStream(s, [ev('A')], { expectedVersion: ExpectedVersion.noStream });
      await expect(store.appendToStream(s, [ev('B')], { expectedVersion: ExpectedVersion.noStream })).rejects.toMatchObject({
        name: 'ConcurrencyConflictError',
        streamId: s,
        actual: 1,
      });
      await expect(store.appendToStream(s, [ev('B')], { expectedVersion: ExpectedVersion.exact(2) })).rejects.toBeInstanceOf(ConcurrencyConflictError);
      await expect(store.appendToStream(sid(), [ev('B')], { expectedVersion: ExpectedVersion.exact(1) })).rejects.toBeInstanceOf(ConcurrencyConflictError);
      expect((await store.appendToStream(s, [ev('B'), ev('C')], { expectedVersion: ExpectedVersion.exact(1) })).nextExpectedVersion).toBe(3);
      expect((await store.appendToStream(s, [ev('D')], { expectedVersion: ExpectedVersion.any })).nextExpectedVersion).toBe(4);
      const fresh = sid();
      expect((await store.appendToStream(fresh, [ev('A')], { expectedVersion: ExpectedVersion.any })).nextExpectedVersion).toBe(1);
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C', 'D']);
    });

    it('maps version 0 to NoStream with ExpectedVersion.fromVersion', async () => {
      const s = sid();
      await store.appendToStream(s, [ev('A')], { expectedVersion: ExpectedVersion.fromVersion(0) });
      await expect(store.appendToStream(s, [ev('A')], { expectedVersion: ExpectedVersion.fromVersion(0) })).rejects.toBeInstanceOf(ConcurrencyConflictError);
      await store.appendToStream(s, [ev('B')], { expectedVersion: ExpectedVersion.fromVersion(1) });
      expect(await store.streamVersion(s)).toBe(2);
    });

    it('treats a repeated commandId as a duplicate: nothing appended, the first events returned', async () => {
      const s = sid();
      const first = await store.appendToStream(s, [ev('A', { n: 1 }), ev('B')], { expectedVersion: ExpectedVersion.noStream, commandId: 'cmd-1' });
      // Even with a stale expectation: the command already happened.
      const again = await store.appendToStream(s, [ev('A', { n: 1 }), ev('B')], { expectedVersion: ExpectedVersion.noStream, commandId: 'cmd-1' });
      expect(again.duplicate).toBe(true);
      expect(again.events).toEqual(first.events);
      expect(again.nextExpectedVersion).toBe(2);
      expect(await store.streamVersion(s)).toBe(2);
      // Same commandId on another stream is another command.
      const other = await store.appendToStream(sid(), [ev('A')], { expectedVersion: ExpectedVersion.noStream, commandId: 'cmd-1' });
      expect(other.duplicate).toBe(false);
      expect(other.events[0].eventId).not.toBe(first.events[0].eventId);
    });

    it('rolls back the append when an inline projection or alsoInTransaction throws, and skips them for duplicates', async () => {
      const s = sid();
      await expect(
        store.appendToStream(s, [ev('A')], { expectedVersion: ExpectedVersion.noStream, inline: [() => Promise.reject(new Error('projection failed'))] }),
      ).rejects.toThrow('projection failed');
      await expect(
        store.appendToStream(s, [ev('A')], { expectedVersion: ExpectedVersion.noStream, alsoInTransaction: () => Promise.reject(new Error('side write failed')) }),
      ).rejects.toThrow('side write failed');
      expect(await store.streamVersion(s)).toBe(0);
      const seen: RecordedEvent[][] = [];
      const opts = { expectedVersion: ExpectedVersion.noStream, commandId: 'c', inline: [async (_tx: unknown, es: readonly RecordedEvent[]) => void seen.push([...es])] };
      await store.appendToStream(s, [ev('A')], opts);
      await store.appendToStream(s, [ev('A')], opts);
      expect(seen).toHaveLength(1);
      expect(seen[0].map((e) => e.streamPosition)).toEqual([1]);
    });

    it('rejects malformed appends with InvalidAppendError and writes nothing', async () => {
      const s = sid();
      const bad: [NewEvent[], Parameters<EventStore['appendToStream']>[2]][] = [
        [[], { expectedVersion: ExpectedVersion.noStream }],
        [[ev('A')], { expectedVersion: ExpectedVersion.exact(0) }],
        [[{ type: 'A', data: {}, meta: { actor: 'x', secret: 'k' } as never }], { expectedVersion: ExpectedVersion.noStream }],
        [[{ type: 'A', data: {}, meta: {} as never }], { expectedVersion: ExpectedVersion.noStream }],
        [[{ type: 'not a type!', data: {}, meta }], { expectedVersion: ExpectedVersion.noStream }],
        [[{ type: 'A', data: undefined, meta }], { expectedVersion: ExpectedVersion.noStream }],
        [[{ type: 'A', data: { n: 1n }, meta }], { expectedVersion: ExpectedVersion.noStream }],
        [[ev('A')], { expectedVersion: ExpectedVersion.noStream, commandId: '' }],
        [[{ type: 'A', data: {}, meta: { ...meta, commandId: 'b' } }], { expectedVersion: ExpectedVersion.noStream, commandId: 'a' }],
      ];
      for (const [events, options] of bad) {
        await expect(store.appendToStream(s, events, options)).rejects.toBeInstanceOf(InvalidAppendError);
      }
      await expect(store.appendToStream('', [ev('A')], { expectedVersion: ExpectedVersion.noStream })).rejects.toBeInstanceOf(InvalidAppendError);
      expect(await store.streamVersion(s)).toBe(0);
      await expect(store.readAll(START, 0)).rejects.toBeInstanceOf(InvalidReadError);
      await expect(store.readAll({ transactionId: '-1', globalPosition: '0' }, 10)).rejects.toBeInstanceOf(InvalidReadError);
      await expect(store.readStream(s, { fromPosition: 0 })).rejects.toBeInstanceOf(InvalidReadError);
    });

    it('reads a stream from a position, bounded by maxCount', async () => {
      const s = sid();
      await store.appendToStream(s, ['A', 'B', 'C', 'D'].map((t) => ev(t)), { expectedVersion: ExpectedVersion.noStream });
      expect((await store.readStream(s, { fromPosition: 2, maxCount: 2 })).map((e) => e.type)).toEqual(['B', 'C']);
      expect((await store.readStream(s, { fromPosition: 4 })).map((e) => e.type)).toEqual(['D']);
      expect(await store.readStream(s, { fromPosition: 5 })).toEqual([]);
    });

    it('readAll pages through every committed event once, in (transactionId, globalPosition) order', async () => {
      const a = sid();
      const b = sid();
      await store.appendToStream(a, [ev('A1'), ev('A2')], { expectedVersion: ExpectedVersion.noStream });
      await store.appendToStream(b, [ev('B1')], { expectedVersion: ExpectedVersion.noStream });
      await store.appendToStream(a, [ev('A3')], { expectedVersion: ExpectedVersion.exact(2) });
      await subject.settle?.();
      const all = await readEverything(store, 2);
      const mine = all.filter((e) => e.streamId === a || e.streamId === b).map((e) => e.type);
      expect(mine).toEqual(['A1', 'A2', 'B1', 'A3']);
      expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
      const keys = all.map((e) => [BigInt(e.transactionId), BigInt(e.globalPosition)] as const);
      for (let i = 1; i < keys.length; i++) {
        const [t0, g0] = keys[i - 1];
        const [t1, g1] = keys[i];
        expect(t1 > t0 || (t1 === t0 && g1 > g0)).toBe(true);
      }
      const lastA = all.filter((e) => e.streamId === a)[1];
      const after = await store.readAll({ transactionId: lastA.transactionId, globalPosition: lastA.globalPosition }, 1000);
      expect(after.filter((e) => e.streamId === a || e.streamId === b).map((e) => e.type)).toEqual(['B1', 'A3']);
    });
  });
}
