/**
 * Jest globalSetup: one private Postgres and one private nats-server (JetStream) for the whole run.
 * Their URLs reach every worker through EKM_TEST_PG_URL (superuser, database "postgres") and
 * EKM_TEST_NATS_URL. Pids are kept in globalThis for globalTeardown.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startNats, startPostgres } from './servers';
import { ensureBuild } from './ensure-build';

export default async function globalSetup(): Promise<void> {
  // Child-process tests spawn dist/ code: build first when dist/ is missing or stale.
  ensureBuild(join(__dirname, '..', '..'));
  const [pg, nats] = await Promise.all([startPostgres(), startNats()]);
  process.env.EKM_TEST_PG_URL = pg.url;
  process.env.EKM_TEST_NATS_URL = nats.url;
  const state = { pg, nats };
  (globalThis as Record<string, unknown>).__EKM_TEST_SERVERS__ = state;
  writeFileSync(join(tmpdir(), `ekm-test-servers-${process.pid}.json`), JSON.stringify(state));
}
