/**
 * EkmClient against a real nats-server: transport failures are classified by the NATS client's own
 * error classes (no responders -> EKM_UNAVAILABLE, no reply in time -> EKM_TIMEOUT), and a client on
 * an existing connection (how services call each other) sends the request id and its principal claim.
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { REQUEST_ID_HEADER } from '@ekm/contracts';
import { DEV_PRINCIPAL_HEADER } from '@ekm/auth/client';
import { EkmClient } from './ekm-client';
import { EkmError } from './ekm-error';

describe('EkmClient transport (real nats-server)', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: process.env.EKM_TEST_NATS_URL });
  });
  afterAll(async () => {
    await nc?.close();
  });

  // Subjects of a service nobody runs in this test (a fresh inbox prefix keeps runs apart).
  const client = (timeoutMs = 300): EkmClient => EkmClient.fromConnection(nc, { timeoutMs, maxAttempts: 1 });

  it('no responders is EKM_UNAVAILABLE (RequestError.isNoResponders), not a timeout', async () => {
    const err = await client().call('audit', 'verify', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EkmError);
    expect((err as EkmError).code).toBe('EKM_UNAVAILABLE');
    expect((err as EkmError).message).toBe('no service answers ekm.v1.audit.verify');
  });

  it('a responder that never answers is EKM_TIMEOUT (TimeoutError)', async () => {
    const sub = nc.subscribe('ekm.v1.audit.report', { callback: () => undefined });
    await nc.flush();
    try {
      const err = await client(200).call('audit', 'report', {}).catch((e: unknown) => e);
      expect((err as EkmError).code).toBe('EKM_TIMEOUT');
      expect((err as EkmError).message).toBe('no reply on ekm.v1.audit.report within 200 ms');
    } finally {
      sub.unsubscribe();
    }
  });

  it('a client on an existing connection sends the request id and its principal claim', async () => {
    const seen: { requestId?: string; principal?: string }[] = [];
    const sub = nc.subscribe('ekm.v1.audit.query', {
      callback: (_e, m) => {
        seen.push({ requestId: m.headers?.get(REQUEST_ID_HEADER), principal: m.headers?.get(DEV_PRINCIPAL_HEADER) });
        m.respond(JSON.stringify({ ok: true, data: { entries: [] } }));
      },
    });
    await nc.flush();
    try {
      const requestId = randomUUID();
      const svc = EkmClient.fromConnection(nc, { maxAttempts: 1, principalClaim: 'service:rotation' });
      await expect(svc.call('audit', 'query', {}, { requestId })).resolves.toEqual({ entries: [] });
      expect(seen).toEqual([{ requestId, principal: 'service:rotation' }]);
      await svc.close(); // does not close the borrowed connection
      expect(nc.isClosed()).toBe(false);
    } finally {
      sub.unsubscribe();
    }
  });
});
