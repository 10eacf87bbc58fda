/**
 * Child-process entry for relay kill tests: runs one OutboxRelay and SIGKILLs itself at an exact
 * point, so the test observes what a crashed relay leaves behind. Built by `npm run build` into
 * dist/test/support/relay-process.js.
 *
 * Env: EKM_RELAY_DB_URL, EKM_RELAY_SERVICE, EKM_RELAY_NATS_URL, EKM_RELAY_BATCH (default 50),
 * EKM_RELAY_KILL = none | before-publish:<n> (n-th publish, 1-based) | after-publish:<k> (k-th batch),
 * EKM_RELAY_CHECKPOINT_EVENTS / EKM_RELAY_CHECKPOINT_MS (checkpoint coalescing; default the relay's).
 * Stdout lines: `active <fencing>`, `checkpoint <tx> <gp>`. SIGTERM stops cleanly.
 */
import { Pool } from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { PostgresEventStore } from '../../libs/event-store/src/postgres/postgres-event-store';
import { OutboxRelay } from '../../libs/event-store/src/relay/outbox-relay';
import type { RelayHooks } from '../../libs/event-store/src/relay/relay.types';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

const die = (): void => {
  process.kill(process.pid, 'SIGKILL');
};

function killHooks(spec: string): RelayHooks {
  const [at, nText] = spec.split(':');
  const n = Number(nText);
  let publishes = 0;
  let batches = 0;
  return {
    onLeaseAcquired: (fencing) => void process.stdout.write(`active ${fencing}\n`),
    afterCheckpoint: (c) => void process.stdout.write(`checkpoint ${c.transactionId} ${c.globalPosition}\n`),
    beforePublish: () => {
      if (at === 'before-publish' && ++publishes === n) die();
    },
    afterPublishBeforeCheckpoint: () => {
      if (at === 'after-publish' && ++batches === n) die();
    },
  };
}

async function main(): Promise<void> {
  const service = need('EKM_RELAY_SERVICE');
  const pool = new Pool({ connectionString: need('EKM_RELAY_DB_URL'), max: 4 });
  const nc = await connect({ servers: need('EKM_RELAY_NATS_URL') });
  const relay = new OutboxRelay({
    service,
    pool,
    store: new PostgresEventStore(pool, { service }),
    js: jetstream(nc),
    batchSize: Number(process.env.EKM_RELAY_BATCH ?? 50),
    pollIntervalMs: 200,
    leaseRetryMs: 100,
    ...(process.env.EKM_RELAY_CHECKPOINT_EVENTS ? { checkpointMaxEvents: Number(process.env.EKM_RELAY_CHECKPOINT_EVENTS) } : {}),
    ...(process.env.EKM_RELAY_CHECKPOINT_MS ? { checkpointIntervalMs: Number(process.env.EKM_RELAY_CHECKPOINT_MS) } : {}),
    hooks: killHooks(process.env.EKM_RELAY_KILL ?? 'none'),
  });
  relay.start();
  process.once('SIGTERM', () => {
    void (async () => {
      await relay.stop();
      await nc.drain();
      await pool.end();
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`relay-process failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
