import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { stopServer, type ServerHandle } from './servers';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__EKM_TEST_SERVERS__ as { pg: ServerHandle; nats: ServerHandle } | undefined;
  if (!state) return;
  await Promise.all([stopServer(state.pg, { graceMs: 10_000 }), stopServer(state.nats)]);
  rmSync(join(tmpdir(), `ekm-test-servers-${process.pid}.json`), { force: true });
}
