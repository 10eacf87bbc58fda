import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { ensureStreams } from './ensure-streams';
import { eventStreamSpec } from './event-streams';

describe('ensureStreams (nats-server)', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const service = `drift_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    nc = await connect({ servers: process.env.EKM_TEST_NATS_URL });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await jsm.streams.delete(eventStreamSpec(service).name).catch(() => undefined);
    await nc.close();
  });

  it('creates a missing stream, then finds it unchanged', async () => {
    const spec = eventStreamSpec(service, { duplicateWindowMs: 120_000 });
    expect(await ensureStreams(jsm, [spec])).toEqual({ ok: true, streams: [{ stream: spec.name, outcome: 'created' }] });
    expect(await ensureStreams(jsm, [spec])).toEqual({ ok: true, streams: [{ stream: spec.name, outcome: 'unchanged' }] });
    const info = await jsm.streams.info(spec.name);
    expect(info.config).toMatchObject({ subjects: [`ekm.events.${service}.>`], storage: 'file', retention: 'limits', duplicate_window: 120_000 * 1e6 });
  });

  it('reports drift field by field and does not rewrite the stream', async () => {
    const wanted = eventStreamSpec(service, { duplicateWindowMs: 600_000, maxAgeMs: 86_400_000 });
    const before = (await jsm.streams.info(wanted.name)).config;
    const result = await ensureStreams(jsm, [wanted]);
    expect(result.ok).toBe(false);
    expect(result.streams).toEqual([
      {
        stream: wanted.name,
        outcome: 'drifted',
        drift: [
          { field: 'maxAgeMs', expected: 86_400_000, actual: 0 },
          { field: 'duplicateWindowMs', expected: 600_000, actual: 120_000 },
        ],
      },
    ]);
    const after = (await jsm.streams.info(wanted.name)).config;
    expect(after).toEqual(before);
  });

  it('reports drift in subjects and storage of a stream someone created by hand', async () => {
    const other = `drift_${randomBytes(4).toString('hex')}`;
    const spec = eventStreamSpec(other);
    await jsm.streams.add({ name: spec.name, subjects: [`ekm.events.${other}.KeyCreated`], storage: 'memory' as never });
    try {
      const result = await ensureStreams(jsm, [spec]);
      const check = result.streams[0];
      expect(check.outcome).toBe('drifted');
      expect(check.outcome === 'drifted' && check.drift.map((d) => d.field)).toEqual(expect.arrayContaining(['subjects', 'storage', 'duplicateWindowMs']));
      expect((await jsm.streams.info(spec.name)).config.storage).toBe('memory');
    } finally {
      await jsm.streams.delete(spec.name);
    }
  });
});
