import { randomUUID } from 'node:crypto';
import { ExpectedVersion, type RecordedEvent } from '../event-store.port';
import { publishEvents } from './event-message';
import { connectionOf } from './pipelined-publish';
import { relayFixture, type RelayFixture } from './relay-test.fixture';

describe('publishEvents over the pipelined core-publish path', () => {
  let f: RelayFixture;
  let events: readonly RecordedEvent[];

  beforeAll(async () => {
    f = await relayFixture('pp');
    const res = await f.store.appendToStream(`s-${randomUUID()}`, Array.from({ length: 40 }, (_, i) => ({ type: i % 2 ? 'Odd' : 'Even', data: { i }, meta: { actor: 't', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } })), { expectedVersion: ExpectedVersion.any });
    events = res.events;
  });
  afterAll(() => f.close());

  it('reaches the connection behind jetstream(nc)', () => {
    expect(connectionOf(f.js)).toBe(f.nc);
  });

  it('publishes each event once with Nats-Msg-Id = event id and the same envelope and headers; a re-publish is all duplicates', async () => {
    expect(await publishEvents(f.js, f.service, events, { timeoutMs: 5000 })).toEqual({ published: 40, duplicates: 0 });
    expect(await publishEvents(f.js, f.service, events, { timeoutMs: 5000 })).toEqual({ published: 40, duplicates: 40 });
    const info = await f.jsm.streams.info(f.stream);
    expect(info.state.messages).toBe(40);
    const m = await f.jsm.streams.getMessage(f.stream, { seq: 7 });
    expect(m!.header.get('Nats-Msg-Id')).toBe(events[6].eventId);
    expect(m!.header.get('Ekm-Stream-Position')).toBe('7');
    expect(m!.header.get('traceparent')).toBe(events[6].meta.traceparent);
    expect(m!.subject).toBe(`ekm.events.${f.service}.Even`);
    expect(m!.json<{ eventId: string; data: unknown }>()).toMatchObject({ eventId: events[6].eventId, data: { i: 6 } });
  });

  it('rejects when no stream takes the subject (no responders), after every publish settled', async () => {
    await expect(publishEvents(f.js, `${f.service}_nostream`, events.slice(0, 3), { timeoutMs: 5000 })).rejects.toMatchObject({ name: 'PublishAckError', code: 503 });
  });

  it('rejects with the hook error and still awaits the acks of what it sent', async () => {
    const fresh = (await f.store.appendToStream(`s-${randomUUID()}`, [1, 2, 3].map((i) => ({ type: 'H', data: { i }, meta: { actor: 't' } })), { expectedVersion: ExpectedVersion.any })).events;
    let n = 0;
    await expect(publishEvents(f.js, f.service, fresh, { timeoutMs: 5000, beforePublish: () => { if (++n === 3) throw new Error('hook'); } })).rejects.toThrow('hook');
    const info = await f.jsm.streams.info(f.stream);
    expect(info.state.messages).toBe(42);
  });
});
