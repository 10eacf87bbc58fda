import { randomUUID } from 'node:crypto';
import { connect, headers } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { relayFixture, waitFor, type RelayFixture } from '../relay/relay-test.fixture';
import { quietPeriod } from '../../../../test/support/wait-for';
import { DurableConsumer, type DurableConsumerOptions, type MessageContext } from './durable-consumer';
import { TerminalError } from './consumer.errors';

type Body = { n: number };
const FAST = { initialMs: 50, maxMs: 200 };

describe('DurableConsumer (nats-server + Postgres dead letters)', () => {
  let f: RelayFixture;
  let subjectN = 0;
  beforeAll(async () => {
    f = await relayFixture('cons');
  });
  afterAll(async () => {
    await f.close();
  });

  /** A fresh subject and durable per test, on the suite's stream. */
  function setup(handle: DurableConsumerOptions<Body>['handle'], extra: Partial<DurableConsumerOptions<Body>> = {}) {
    const subject = `ekm.events.${f.service}.T${++subjectN}`;
    const durable = `d${subjectN}`;
    const consumer = new DurableConsumer<Body>({
      service: f.service, pool: f.pool, js: f.js, jsm: f.jsm, stream: f.stream, durable, filterSubject: subject,
      maxDeliver: 3, nakBackoff: FAST, handle, ...extra,
    });
    const publish = async (body: string | Body): Promise<{ id: string; seq: number }> => {
      const id = randomUUID();
      const h = headers();
      const ack = await f.js.publish(subject, typeof body === 'string' ? body : JSON.stringify(body), { msgID: id, headers: h });
      return { id, seq: ack.seq };
    };
    const pending = async () => {
      const i = await f.jsm.consumers.info(f.stream, durable);
      return { ackPending: i.num_ack_pending, pending: i.num_pending, redelivered: i.num_redelivered };
    };
    const deadLetters = async () =>
      (await f.pool.query(`SELECT consumer, subject, stream_seq::int AS seq, event_id::text AS event_id, error, payload FROM "${f.schema}".dead_letters WHERE consumer = $1`, [`${f.stream}/${durable}`])).rows;
    return { consumer, publish, pending, deadLetters };
  }

  it('acks only after the handler resolved', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: MessageContext[] = [];
    const t = setup(async (_m, ctx) => {
      seen.push(ctx);
      await gate;
    });
    await t.consumer.start();
    try {
      const { id } = await t.publish({ n: 1 });
      await waitFor(() => seen.length === 1, 5_000, 'delivery');
      expect(await t.pending()).toMatchObject({ ackPending: 1 });
      release();
      await waitFor(async () => (await t.pending()).ackPending === 0, 5_000, 'ack');
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ deliveryCount: 1, msgId: id });
    } finally {
      await t.consumer.stop();
    }
  });

  it('naks a transient error with a growing delay and redelivers; never terminates it', async () => {
    const attempts: { count: number; at: number }[] = [];
    const t = setup(async (_m, ctx) => {
      attempts.push({ count: ctx.deliveryCount, at: Date.now() });
      if (ctx.deliveryCount < 3) throw new Error('database briefly unavailable');
    });
    await t.consumer.start();
    try {
      await t.publish({ n: 2 });
      await waitFor(() => attempts.length === 3, 10_000, 'three deliveries');
      await waitFor(async () => (await t.pending()).ackPending === 0, 5_000, 'ack');
      expect(attempts.map((a) => a.count)).toEqual([1, 2, 3]);
      // nak delays 50 then 100 ms.
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(40);
      expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(90);
      expect(await t.deadLetters()).toEqual([]);
    } finally {
      await t.consumer.stop();
    }
  });

  it('after max_deliver failed deliveries: a dead-letter row, then term (no further delivery)', async () => {
    let calls = 0;
    const t = setup(async () => {
      calls++;
      throw new Error('downstream keeps failing');
    });
    await t.consumer.start();
    try {
      const { id, seq } = await t.publish({ n: 3 });
      await waitFor(async () => (await t.deadLetters()).length === 1, 10_000, 'dead letter');
      await waitFor(async () => (await t.pending()).ackPending === 0, 5_000, 'term');
      await quietPeriod(400); // a NEGATIVE check: longer than the nak backoff (scaled with the load), nothing comes back
      expect(calls).toBe(3);
      const [row] = await t.deadLetters();
      expect(row).toMatchObject({ seq, event_id: id, payload: { n: 3 } });
      expect(row.error).toMatch(/gave up after 3 deliveries: Error: downstream keeps failing/);
    } finally {
      await t.consumer.stop();
    }
  });

  it('invalid JSON and schema failures are dead-lettered and terminated without calling the handler', async () => {
    let calls = 0;
    const t = setup(async () => void calls++, {
      parse: (b) => {
        if (typeof b !== 'object' || b === null || typeof (b as Body).n !== 'number') throw new Error('n must be a number');
        return b as Body;
      },
    });
    await t.consumer.start();
    try {
      const bad = await t.publish('{not json');
      const wrong = await t.publish(JSON.stringify({ n: 'x' }));
      await waitFor(async () => (await t.deadLetters()).length === 2, 10_000, 'dead letters');
      await waitFor(async () => (await t.pending()).ackPending === 0, 5_000, 'term');
      const rows = await t.deadLetters();
      expect(rows.find((r) => r.seq === bad.seq)).toMatchObject({ payload: '{not json', error: expect.stringMatching(/InvalidMessageError: .* is not JSON/) });
      expect(rows.find((r) => r.seq === wrong.seq)).toMatchObject({ payload: { n: 'x' }, error: expect.stringMatching(/fails the schema: n must be a number/) });
      expect(calls).toBe(0);
      expect((await t.pending()).redelivered).toBe(0);
    } finally {
      await t.consumer.stop();
    }
  });

  it('a terminal handler error is dead-lettered on the first delivery', async () => {
    let calls = 0;
    const t = setup(async () => {
      calls++;
      throw new TerminalError('key k_1 was destroyed: event cannot apply');
    });
    await t.consumer.start();
    try {
      await t.publish({ n: 5 });
      await waitFor(async () => (await t.deadLetters()).length === 1, 10_000, 'dead letter');
      expect(calls).toBe(1);
    } finally {
      await t.consumer.stop();
    }
  });

  it('stop() finishes the message in hand and acks it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    let finished = 0;
    const t = setup(async () => {
      started++;
      await gate;
      finished++;
    });
    await t.consumer.start();
    await t.publish({ n: 6 });
    await waitFor(() => started === 1, 5_000, 'delivery');
    const stopping = t.consumer.stop();
    setTimeout(release, 100);
    await stopping;
    expect(finished).toBe(1);
    await waitFor(async () => (await t.pending()).ackPending === 0, 5_000, 'ack');
    expect((await t.pending()).pending).toBe(0);
  });

  it('a pulled batch is handled in order and acked with plain acks (no ack confirmation round trip per message)', async () => {
    // Its own connection, so its message counters hold only the consumer's traffic.
    const nc = await connect({ servers: f.natsUrl });
    const seen: number[] = [];
    const t = setup(async (m) => { seen.push(m.n); }, { js: jetstream(nc), batch: 16 });
    const N = 60;
    for (let i = 0; i < N; i++) await t.publish({ n: i });
    const before = nc.stats();
    await t.consumer.start();
    try {
      await waitFor(async () => (await t.pending()).ackPending === 0 && (await t.pending()).pending === 0 && seen.length === N, 10_000, 'all acked');
      expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
      expect((await t.pending()).redelivered).toBe(0);
      const after = nc.stats();
      // Received: the N messages plus a few pull statuses. ackAck would add one confirmation per message (>= 2N).
      expect(after.inMsgs - before.inMsgs).toBeLessThan(N + N / 2);
      // Sent: one ack per message plus one pull request per batch, nothing per message beyond the ack.
      expect(after.outMsgs - before.outMsgs).toBeLessThan(N + N / 2);
    } finally {
      await t.consumer.stop();
      await nc.close();
    }
  });
});
