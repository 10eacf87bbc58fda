/** Test fixture for relay and consumer integration specs: a fresh database + schema + stream per suite. */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { createTestDatabase } from '../../../../test/support/pg';
import { waitFor as sharedWaitFor } from '../../../../test/support/wait-for';
import { migrateServiceSchema } from '../postgres/migrate-service-schema';
import { PostgresEventStore } from '../postgres/postgres-event-store';
import { OutboxRelayMigration } from '../postgres/migrations/outbox-relay.migration';
import { EVENT_STORE_MIGRATIONS } from '../postgres/migrations/event-store.migrations';
import { eventStreamName, eventStreamSpec } from '../jetstream/event-streams';
import { ensureStreams } from '../jetstream/ensure-streams';

export interface RelayFixture {
  readonly service: string;
  readonly schema: string;
  readonly stream: string;
  readonly dbUrl: string;
  readonly natsUrl: string;
  readonly pool: Pool;
  readonly store: PostgresEventStore;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  close(): Promise<void>;
}

export async function relayFixture(prefix: string, opts: { createStream?: boolean } = {}): Promise<RelayFixture> {
  const service = `${prefix}_${randomBytes(4).toString('hex')}`;
  const db = await createTestDatabase();
  // Until the event store lists the relay migration itself, add it here (never twice: same name).
  const extraMigrations = EVENT_STORE_MIGRATIONS.includes(OutboxRelayMigration) ? [] : [OutboxRelayMigration];
  await migrateServiceSchema({ adminUrl: db.url, service, extraMigrations });
  const pool = new Pool({ connectionString: db.url, max: 24 });
  const natsUrl = process.env.EKM_TEST_NATS_URL;
  if (!natsUrl) throw new Error('EKM_TEST_NATS_URL is not set: run through jest');
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  if (opts.createStream !== false) await ensureStreams(jsm, [eventStreamSpec(service)]);
  const stream = eventStreamName(service);
  return {
    service,
    schema: `ekm_${service}`,
    stream,
    dbUrl: db.url,
    natsUrl,
    pool,
    store: new PostgresEventStore(pool, { service }),
    nc,
    js: jetstream(nc),
    jsm,
    async close() {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
      await pool.end();
    },
  };
}

export interface StoredEventMsg {
  readonly seq: number;
  readonly msgId: string;
  readonly subject: string;
  readonly streamId: string;
  readonly streamPosition: number;
}

/** Every message of the stream, in stream order (direct gets by sequence; fine for a few thousand). */
export async function readStreamMessages(jsm: JetStreamManager, stream: string): Promise<StoredEventMsg[]> {
  const info = await jsm.streams.info(stream);
  const out: StoredEventMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (!m) continue;
    out.push({
      seq,
      msgId: m.header.get('Nats-Msg-Id'),
      subject: m.subject,
      streamId: m.header.get('Ekm-Stream-Id'),
      streamPosition: Number(m.header.get('Ekm-Stream-Position')),
    });
  }
  return out;
}

export async function committedEventIds(pool: Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(`SELECT event_id::text AS id FROM "${schema}".events ORDER BY transaction_id, global_position`);
  return rows.map((r) => r.id);
}

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  await sharedWaitFor(cond, { what, timeoutMs });
}
