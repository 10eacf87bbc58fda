import { randomBytes } from 'node:crypto';
import { loadConfig } from '@ekm/config';
import { createLogger } from '@ekm/telemetry';
import { startNats, stopServer, type ServerHandle } from '../../../test/support/servers';
import { waitFor } from '../../../test/support/wait-for';
import { startServiceApp, type ServiceApp } from './bootstrap';
import { sampleModule } from './service-kit.test-fixture';

// A private nats-server that this suite stops: never the run's shared one.
describe('health endpoints when NATS goes away', () => {
  let nats: ServerHandle;
  let svc: ServiceApp;

  beforeAll(async () => {
    nats = await startNats();
    const config = loadConfig('policy', { EKM_NATS_URL: nats.url, EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled', EKM_SHUTDOWN_GRACE_MS: '500', EKM_LOG_LEVEL: 'silent' });
    svc = await startServiceApp({ config, module: sampleModule(`ekm.v1.t${randomBytes(4).toString('hex')}`, false), logger: createLogger('policy', { level: 'silent' }) });
  });

  afterAll(async () => {
    await svc?.close();
    if (nats) await stopServer(nats);
  });

  const ready = async (): Promise<{ status: number; body: { failing?: string[]; checks: { name: string; ok: boolean; reason?: string }[] } }> => {
    const res = await fetch(`http://127.0.0.1:${svc.httpPort}/health/ready`);
    return { status: res.status, body: (await res.json()) as never };
  };

  it('is ready while NATS is up, 503 naming the nats check once it is unreachable, and still live', async () => {
    expect((await ready()).status).toBe(200);
    await stopServer(nats);
    const r = await waitFor(async () => { const x = await ready(); return x.status !== 200 && x; }, { timeoutMs: 5000, what: 'readiness to fail after NATS stopped' });
    expect(r.status).toBe(503);
    expect(r.body.failing).toEqual(['nats']);
    expect(r.body.checks.find((c) => c.name === 'nats')?.reason).toMatch(/disconnected/);
    expect((await fetch(`http://127.0.0.1:${svc.httpPort}/health/live`)).status).toBe(200);
  });

  it('answers 404 for unknown paths and serves metrics without NATS', async () => {
    expect((await fetch(`http://127.0.0.1:${svc.httpPort}/nope`)).status).toBe(404);
    const m = await fetch(`http://127.0.0.1:${svc.httpPort}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toContain('ekm_process_resident_memory_bytes');
  });
});
