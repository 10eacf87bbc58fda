/**
 * The key-event consumer against real nats-server and Postgres: usage events are filtered before any
 * transaction (a KeyUsageBatchRecorded of records that wrap no named asset opens none), a batch with
 * asset-producing records is applied in ONE transaction, and a redelivered batch leaves the same assets.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { migrateServiceSchema, type EventEnvelope } from '@ekm/event-store';
import type { RotationConfig } from '@ekm/config';
import { createLogger } from '@ekm/telemetry';
import { createTestDatabase } from '../../../../../../test/support/pg';
import { waitFor } from '../../../../../../test/support/wait-for';
import { RotationSchemaMigration } from '../postgres/rotation-schema.migration';
import { KeyEventsConsumer } from './key-events.consumer';

describe('key-events consumer: usage events (nats-server + Postgres)', () => {
  let pool: Pool;
  let nc: NatsConnection;
  let consumer: KeyEventsConsumer;
  /** Transactions the consumer opened: BEGINs on connections it took from the pool. */
  let begins = 0;
  let position = 0;

  beforeAll(async () => {
    const db = await createTestDatabase('ekm_rot_usage');
    await migrateServiceSchema({ adminUrl: db.url, service: 'rotation', extraMigrations: [RotationSchemaMigration] });
    pool = new Pool({ connectionString: db.url, max: 4 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
        if (typeof a[0] === 'string' && /^\s*BEGIN\b/i.test(a[0])) begins++;
        return query(...a);
      };
    });
    nc = await connect({ servers: process.env.EKM_TEST_NATS_URL! });
    const jsm = await jetstreamManager(nc);
    // A fresh durable (the stream is shared with any other spec of the run; the barrier below orders this spec's events).
    await jsm.consumers.delete('EKM_KEYS_EVENTS', 'rotation-schedules').catch(() => undefined);
    consumer = new KeyEventsConsumer(pool, nc, createLogger('rotation', { level: 'error' }), { jsReplicas: 1 } as RotationConfig);
    consumer.onApplicationBootstrap();
    await waitFor(async () => (await jsm.consumers.info('EKM_KEYS_EVENTS', 'rotation-schedules').then(() => true, () => false)), { what: 'consumer started' });
  });
  afterAll(async () => {
    await consumer?.beforeApplicationShutdown();
    await nc?.close();
    await pool?.end();
  });

  const envelope = (type: string, data: unknown, streamId = `usage-${randomUUID()}`): EventEnvelope => ({
    eventId: randomUUID(), type, schemaVersion: 1, streamId, streamPosition: 1, globalPosition: String(++position),
    transactionId: String(position), recordedAt: new Date().toISOString(), data, meta: { actor: 'test' },
  } as EventEnvelope);
  /** Publishes as the keys relay does (`ekm.events.keys.<type>`); `msgId` differs per call, as a redelivery's payload is the same event. */
  const publish = async (e: EventEnvelope): Promise<void> => {
    await jetstream(nc).publish(`ekm.events.keys.${e.type}`, JSON.stringify(e), { msgID: randomUUID(), headers: headers() });
  };
  /** A lifecycle event after `e`: once its row is there, everything published before it was handled (one consumer, in order). */
  const barrier = async (): Promise<void> => {
    const keyId = randomUUID();
    await publish(envelope('KeyCreated', { keyId, tenant: 't' }, `key-${keyId}`));
    await waitFor(async () => (await pool.query('SELECT 1 FROM ekm_rotation.schedule_keys WHERE key_id = $1', [keyId])).rowCount === 1, { what: 'barrier applied' });
  };
  const record = (over: Record<string, unknown>) => ({
    operation: 'GenerateDataKey', outcome: 'ALLOWED', keyId: 'k-1', keyVersion: 1, tenant: 'ta', at: '2030-01-01T00:00:00.000Z',
    encryptionContext: { tenant: 'ta', collection: 'docs' }, ...over,
  });
  const assets = async (tenant: string) =>
    (await pool.query<{ asset: string; key_version: number; operation: string }>('SELECT asset, key_version, operation FROM ekm_rotation.assets WHERE tenant = $1 ORDER BY asset', [tenant])).rows;

  it('a batch of records that wrap no named asset opens no transaction', async () => {
    await barrier();
    const before = begins;
    await publish(envelope('KeyUsageBatchRecorded', { records: [
      record({ operation: 'Decrypt' }), record({}), record({ outcome: 'DENIED', encryptionContext: { tenant: 'tn', asset: 'x' } }), record({ operation: 'DescribeKey' }),
    ] }));
    await publish(envelope('KeyUsageRecorded', record({ operation: 'Decrypt', encryptionContext: { tenant: 'tn', asset: 'y' } })));
    await publish(envelope('KeyUsageBatchRecorded', { records: [] }));
    await barrier();
    // The barrier's own KeyCreated is the only transaction.
    expect(begins - before).toBe(1);
    expect(await assets('tn')).toEqual([]);
  });

  it('a batch with mixed records writes exactly its assets in one transaction, and the same again when redelivered', async () => {
    const tenant = `t-${randomUUID()}`;
    const ctx = (asset: string) => ({ tenant, collection: 'docs', asset });
    const batch = envelope('KeyUsageBatchRecorded', { records: [
      record({ encryptionContext: ctx('a1') }),
      record({ operation: 'Decrypt', encryptionContext: ctx('a9') }),
      record({ operation: 'Encrypt', keyVersion: 2, encryptionContext: ctx('a2') }),
      record({ outcome: 'DENIED', encryptionContext: ctx('a8') }),
      // a1 again, later and under version 3: the later wrap is what stays.
      record({ operation: 'ReEncrypt', keyVersion: 3, at: '2030-01-01T00:00:05.000Z', encryptionContext: ctx('a1') }),
      record({ encryptionContext: { collection: 'docs' } }),
    ] });
    await barrier();
    const before = begins;
    await publish(batch);
    await barrier();
    expect(begins - before).toBe(2); // the batch, then the barrier
    const expected = [{ asset: 'a1', key_version: 3, operation: 'ReEncrypt' }, { asset: 'a2', key_version: 2, operation: 'Encrypt' }];
    expect(await assets(tenant)).toEqual(expected);
    // The same event delivered again (a lost ack): same rows, no second copy.
    await publish(batch);
    await barrier();
    expect(await assets(tenant)).toEqual(expected);
    // An old single-record event still feeds the table.
    await publish(envelope('KeyUsageRecorded', record({ keyVersion: 4, at: '2030-01-01T00:01:00.000Z', encryptionContext: ctx('a2') })));
    await barrier();
    expect(await assets(tenant)).toEqual([expected[0], { asset: 'a2', key_version: 4, operation: 'GenerateDataKey' }]);
  });
});
