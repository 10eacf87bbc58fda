import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExpectedVersion } from '../event-store.port';
import { OutboxRelay } from './outbox-relay';
import { readRelayRow } from './relay-checkpoint';
import { committedEventIds, readStreamMessages, relayFixture, waitFor, type RelayFixture } from './relay-test.fixture';

const CHILD = join(__dirname, '..', '..', '..', '..', 'dist', 'test', 'support', 'relay-process.js');

async function appendMany(f: RelayFixture, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    const events = Array.from({ length: Math.min(10, n - i) }, (_, k) => ({ type: 'Ticked', data: { tag, i: i + k }, meta: { actor: 'test' } }));
    await f.store.appendToStream(`${tag}-${i % 30}`, events, { expectedVersion: ExpectedVersion.any });
  }
}

async function expectExactlyOnce(f: RelayFixture): Promise<void> {
  const ids = await committedEventIds(f.pool, f.schema);
  const msgs = await readStreamMessages(f.jsm, f.stream);
  expect(msgs.map((m) => m.msgId).sort()).toEqual([...ids].sort());
}

function spawnRelay(f: RelayFixture, kill: string, env: Record<string, string> = {}): { child: ChildProcess; exited: Promise<NodeJS.Signals | number | null>; out: string[] } {
  const out: string[] = [];
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, EKM_RELAY_DB_URL: f.dbUrl, EKM_RELAY_SERVICE: f.service, EKM_RELAY_NATS_URL: f.natsUrl, EKM_RELAY_BATCH: '50', EKM_RELAY_KILL: kill, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout?.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exited, out };
}

describe('OutboxRelay failover', () => {
  let f: RelayFixture;
  beforeEach(async () => {
    f = await relayFixture('relayfo');
  });
  afterEach(async () => {
    await f.close();
  });

  it('two relays on one schema: one publishes at a time, the other takes over when it stops, no duplicates', async () => {
    const log: { who: string; at: number }[] = [];
    const mk = (who: string): OutboxRelay =>
      new OutboxRelay({
        service: f.service, pool: f.pool, store: f.store, js: f.js, holderId: who,
        batchSize: 20, pollIntervalMs: 100, leaseRetryMs: 100,
        hooks: { beforePublish: () => void log.push({ who, at: performance.now() }) },
      });
    const a = mk('relay-a');
    const b = mk('relay-b');
    a.start();
    await waitFor(() => a.isActive, 5_000, 'relay-a to take the lease');
    b.start();
    await appendMany(f, 300, 'one');
    await waitFor(async () => (await a.status()).lag === 0, 15_000, 'relay-a to catch up');
    expect(b.isActive).toBe(false);
    expect((await b.status()).holder).toBe('relay-a');

    const writing = appendMany(f, 300, 'two');
    // Intentional: stop relay-a while 'two' is being written (mid-stream); the appends below cover a fast machine.
    await new Promise((r) => setTimeout(r, 100));
    await a.stop();
    await waitFor(() => b.isActive, 5_000, 'relay-b to take over');
    await writing;
    // On a fast machine a may have published all of 'two' before it stopped: append more after its stop,
    // so that b certainly has events to publish.
    await appendMany(f, 100, 'three');
    await waitFor(async () => (await b.status()).lag === 0, 15_000, 'relay-b to catch up');
    const status = await b.status();
    expect(status).toMatchObject({ holder: 'relay-b', fencing: '2', isActive: true });
    await b.stop();

    // a's publishes all precede b's, and each event was published exactly once (a stopped cleanly after its checkpoint).
    const lastA = Math.max(...log.filter((l) => l.who === 'relay-a').map((l) => l.at));
    const firstB = Math.min(...log.filter((l) => l.who === 'relay-b').map((l) => l.at));
    expect(log.some((l) => l.who === 'relay-b')).toBe(true);
    expect(lastA).toBeLessThan(firstB);
    expect(log).toHaveLength(700);
    await expectExactlyOnce(f);
  });

  // A checkpoint after every batch (1 event / 0 ms), and the default coalescing (1 s or 10,000 events):
  // there a crash leaves up to every published event uncommitted, and all of them are re-published.
  const everyBatch = { EKM_RELAY_CHECKPOINT_EVENTS: '1', EKM_RELAY_CHECKPOINT_MS: '0' };
  const killCases: [string, string, Record<string, string>][] = [
    ['before a publish (the 120th)', 'before-publish:120', everyBatch],
    ['between a publish and its checkpoint (3rd batch)', 'after-publish:3', everyBatch],
    ['before a publish (the 120th), coalesced checkpoints', 'before-publish:120', {}],
    ['after the 3rd batch was published, coalesced checkpoints', 'after-publish:3', {}],
  ];
  it.each(killCases)('SIGKILL %s: after restart the stream holds every event exactly once', async (_label, kill, env) => {
    if (!existsSync(CHILD)) throw new Error(`${CHILD} missing: npm run build (jest global-setup builds it)`);
    await appendMany(f, 300, 'k');
    const first = spawnRelay(f, kill, env);
    expect(await first.exited).toBe('SIGKILL');
    const row = await readRelayRow(f.pool, f.schema);
    const inStream = (await f.jsm.streams.info(f.stream)).state.messages;
    const checkpoints = first.out.filter((l) => l.startsWith('checkpoint')).length;
    if (kill.startsWith('after-publish') && env === everyBatch) {
      // Batches of 50: two checkpointed, the third published but not checkpointed.
      expect(checkpoints).toBe(2);
      expect(inStream).toBe(150);
      expect(row.published).toBe('100');
    } else if (kill.startsWith('after-publish')) {
      // Three batches published in well under the 1 s interval: at most a commit per elapsed second.
      expect(inStream).toBe(150);
      expect(Number(row.published)).toBeLessThan(150);
      expect(Number(row.published) % 50).toBe(0);
      expect(checkpoints).toBeLessThanOrEqual(2);
    } else {
      expect(inStream).toBeLessThan(120);
      expect(Number(row.published)).toBeLessThan(120);
    }

    const second = spawnRelay(f, 'none');
    try {
      await waitFor(async () => (await f.jsm.streams.info(f.stream)).state.messages === 300 && Number((await readRelayRow(f.pool, f.schema)).published) >= 300 - Number(row.published), 20_000, 'restarted relay to catch up');
      await waitFor(async () => {
        const r = await readRelayRow(f.pool, f.schema);
        const tail = await f.store.readAll(r.checkpoint, 1);
        return tail.length === 0;
      }, 20_000, 'checkpoint at the end');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    expect((await readRelayRow(f.pool, f.schema)).fencing).toBe('2');
    await expectExactlyOnce(f);
  });
});
