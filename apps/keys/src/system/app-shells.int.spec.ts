/**
 * The four app shells wire up: each starts on its own schema, migrates, creates its event stream,
 * reports ready, and answers ekm.v1.<service>.status with its relay state.
 * A private nats-server keeps other suites' instances out of the ekm-<service> queue groups.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Type } from '@nestjs/common';
import { loadConfig } from '@ekm/config';
import { subject, type Reply, type ServiceName } from '@ekm/contracts';
import { startServiceApp, type ServiceStatus } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { createTestDatabase, urlFor } from '../../../../test/support/pg';
import { startNats, stopServer, type ServerHandle } from '../../../../test/support/servers';
import { AuditModule } from '../../../audit/src/audit.module';
import { PolicyModule } from '../../../policy/src/policy.module';
import { RotationModule } from '../../../rotation/src/rotation.module';
import { KeysModule } from '../keys.module';

const modules: [ServiceName, Type<unknown>][] = [['keys', KeysModule], ['policy', PolicyModule], ['rotation', RotationModule], ['audit', AuditModule]];

describe('app shells', () => {
  let nats: ServerHandle;
  let nc: NatsConnection;
  let db: { name: string; url: string };

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNats(), createTestDatabase('ekm_shell')]);
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    if (nats) await stopServer(nats);
  });

  it.each(modules)('%s starts, is ready, and answers status', async (service, module) => {
    const config = loadConfig(service, {
      EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, `ekm_${service}`), EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled',
    });
    const svc = await startServiceApp({ config, module, logger: createLogger(service, { level: 'silent' }) });
    try {
      const reply = (await nc.request(subject(service, 'status'), '', { timeout: 5000 })).json<Reply<ServiceStatus>>();
      expect(reply.ok).toBe(true);
      if (!reply.ok) return;
      expect(reply.data).toMatchObject({ service, version: '0.1.0' });
      expect(reply.data.uptimeSeconds).toBeGreaterThanOrEqual(0);
      expect(reply.data.relay).toMatchObject({ service, checkpoint: expect.any(Object) });
      const ready = await fetch(`http://127.0.0.1:${svc.httpPort}/health/ready`);
      expect(ready.status).toBe(200);
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(`EKM_${service.toUpperCase()}_EVENTS`)).config.subjects).toEqual([`ekm.events.${service}.>`]);
    } finally {
      await svc.close();
    }
  });

  it('is not ready while its event stream has drifted from the spec', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete('EKM_POLICY_EVENTS');
    await jsm.streams.add({ name: 'EKM_POLICY_EVENTS', subjects: ['ekm.events.policy.>'], max_age: nanos(60_000) });
    const config = loadConfig('policy', { EKM_NATS_URL: nats.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_policy'), EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled' });
    const svc = await startServiceApp({ config, module: PolicyModule, logger: createLogger('policy', { level: 'silent' }) });
    try {
      const res = await fetch(`http://127.0.0.1:${svc.httpPort}/health/ready`);
      const body = (await res.json()) as { failing: string[]; checks: { name: string; reason?: string }[] };
      expect(res.status).toBe(503);
      expect(body.failing).toEqual(['jetstream']);
      expect(body.checks.find((c) => c.name === 'jetstream')?.reason).toMatch(/EKM_POLICY_EVENTS drifted \(.*maxAgeMs.*\)/);
    } finally {
      await svc.close();
    }
  });
});
