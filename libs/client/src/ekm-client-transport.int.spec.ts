/**
 * EkmClient against a real nats-server: transport failures are classified by the NATS client's own
 * error classes (no responders -> EKM_UNAVAILABLE, no reply in time -> EKM_TIMEOUT), and a client on
 * an existing connection (how services call each other) sends the request id and its principal claim.
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DEADLINE_HEADER, REQUEST_ID_HEADER } from '@ekm/contracts';
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

  it('every attempt carries Ekm-Timeout-Ms; a service client carries what is left of the request it serves', async () => {
    const deadlines: number[] = [];
    const sub = nc.subscribe('ekm.v1.audit.query', {
      callback: (_e, m) => {
        deadlines.push(Number(m.headers?.get(DEADLINE_HEADER)));
        m.respond(JSON.stringify({ ok: true, data: { entries: [] } }));
      },
    });
    await nc.flush();
    try {
      const sent = Date.now();
      await EkmClient.fromConnection(nc, { maxAttempts: 1, timeoutMs: 5_000 }).call('audit', 'query', {});
      const served = Date.now() + 1_500;
      await EkmClient.fromConnection(nc, { maxAttempts: 1, timeoutMs: 5_000, deadline: () => served }).call('audit', 'query', {});
      expect(deadlines).toHaveLength(2);
      // The time left, relative: the client's own 5 s ...
      expect(deadlines[0]).toBe(5_000);
      // ... then cut to what is left of the served request's deadline.
      expect(deadlines[1]).toBeLessThanOrEqual(served - sent);
      expect(deadlines[1]).toBeGreaterThan(0);
    } finally {
      sub.unsubscribe();
    }
  });

  it('a served request whose deadline passed sends nothing: EKM_DEADLINE_EXCEEDED', async () => {
    let received = 0;
    const sub = nc.subscribe('ekm.v1.audit.query', { callback: (_e, m) => { received++; m.respond(JSON.stringify({ ok: true, data: { entries: [] } })); } });
    await nc.flush();
    try {
      const late = EkmClient.fromConnection(nc, { maxAttempts: 3, deadline: () => Date.now() - 1 });
      const err = await late.call('audit', 'query', {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EkmError);
      expect((err as EkmError).code).toBe('EKM_DEADLINE_EXCEEDED');
      const own = await EkmClient.fromConnection(nc, { maxAttempts: 1 }).call('audit', 'query', {}, { deadline: Date.now() - 1 }).catch((e: unknown) => e);
      expect((own as EkmError).code).toBe('EKM_DEADLINE_EXCEEDED');
      // A round trip on the same connection: anything sent before it has been delivered by now.
      await nc.flush();
      expect(received).toBe(0);
    } finally {
      sub.unsubscribe();
    }
  });
});
