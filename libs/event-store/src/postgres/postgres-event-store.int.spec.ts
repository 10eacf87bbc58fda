import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase } from '../../../../test/support/pg';
import { eventStoreContract } from '../event-store.contract';
import { migrateServiceSchema } from './migrate-service-schema';
import { PostgresEventStore } from './postgres-event-store';
import { waitForReadHorizon } from './read-horizon';

eventStoreContract('PostgresEventStore', async () => {
  const db = await createTestDatabase();
  const service = `t_${randomBytes(4).toString('hex')}`;
  await migrateServiceSchema({ adminUrl: db.url, service });
  // As the app role, so the contract also proves its grants suffice.
  const appUrl = new URL(db.url);
  appUrl.username = `ekm_${service}`;
  const pool = new Pool({ connectionString: appUrl.toString(), max: 4 });
  return { store: new PostgresEventStore(pool, { service }), teardown: () => pool.end(), settle: () => waitForReadHorizon(pool) };
});
