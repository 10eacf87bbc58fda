/**
 * Jest globalSetup: one private Postgres and one private nats-server (JetStream) for the whole run.
 * Their URLs reach every worker through EKM_TEST_PG_URL (superuser, database "postgres") and
 * EKM_TEST_NATS_URL. Pids are kept in globalThis for globalTeardown.
 *
 * The nats-server refuses anonymous connections, like every NATS EKM ships with: EKM_TEST_NATS_URL is
 * `nats://harness:<password>@127.0.0.1:<port>`, a test-harness user with every permission. EKM's
 * clients and services take the URL's credentials; a spec's own `connect({ servers })` does through
 * nats-url-credentials.js (jest setupFiles, and NODE_OPTIONS for the child processes specs start).
 * Permission confinement is tested on separate servers with the generated per-identity config
 * (test/infra/nats-bus-confinement.int.spec.ts).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startNats, startPostgres } from './servers';
import { harnessNatsConfig } from './nats-auth';
import { ensureBuild } from './ensure-build';

export default async function globalSetup(): Promise<void> {
  // Child-process tests spawn dist/ code: build first when dist/ is missing or stale.
  ensureBuild(join(__dirname, '..', '..'));
  const harness = harnessNatsConfig();
  const [pg, nats] = await Promise.all([startPostgres(), startNats({ config: harness.config })]);
  process.env.EKM_TEST_PG_URL = pg.url;
  process.env.EKM_TEST_NATS_URL = harness.urlFor(nats.port);
  const shim = join(__dirname, 'nats-url-credentials.js');
  if (!(process.env.NODE_OPTIONS ?? '').includes(shim)) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${shim}`.trim();
  const state = { pg, nats };
  (globalThis as Record<string, unknown>).__EKM_TEST_SERVERS__ = state;
  writeFileSync(join(tmpdir(), `ekm-test-servers-${process.pid}.json`), JSON.stringify(state));
  // globalTeardown does not run when jest itself is killed (timeout, Ctrl-C, CI limit): a detached
  // watchdog stops the private servers once this jest process is gone. After a normal teardown the
  // servers are already stopped and its kill finds nothing.
  const watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; kill ${pg.pid} ${nats.pid} 2>/dev/null; true`], { detached: true, stdio: 'ignore' });
  watchdog.unref();
}
