/**
 * infra/nats/accounts.conf on a private nats-server: the permission matrix (each service and caller only its own subjects).
 * Anonymous and wrong passwords are refused; a caller publishes only request subjects and reads only
 * its own inbox; a service subscribes only to its own subjects; allowed request/reply works; and a
 * real service app (service-kit, JetStream event log) runs under its least-privilege user.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';
import { loadConfig } from '@ekm/config';
import { startServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { createTestDatabase, urlFor } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { quietPeriod } from '../support/wait-for';
import { authProbeModule } from '../../libs/service-kit/src/request-auth.test-fixture';

const USERS = ['keys', 'policy', 'rotation', 'audit', 'client', 'cli', 'siem', 'kms_api'] as const;
const PASSWORDS = Object.fromEntries(USERS.map((u) => [u, `${u}-${randomBytes(12).toString('hex')}`])) as Record<(typeof USERS)[number], string>;

describe('NATS least-privilege accounts (infra/nats/accounts.conf)', () => {
  let nats: ServerHandle;
  const open: NatsConnection[] = [];
  const as = async (user: (typeof USERS)[number], inboxPrefix = `_INBOX_${user}`): Promise<NatsConnection> => {
    const nc = await connect({ servers: nats.url, user, pass: PASSWORDS[user], inboxPrefix, reconnect: false });
    open.push(nc);
    return nc;
  };
  /** The next permission-violation status of `nc` (nats.js reports them asynchronously). */
  const violation = async (nc: NatsConnection, ms = 2000): Promise<string> => {
    const it = nc.status()[Symbol.asyncIterator]();
    const timer = new Promise<string>((r) => setTimeout(() => r('no violation reported'), ms));
    const next = (async (): Promise<string> => {
      for (;;) {
        const s = (await it.next()).value as Status | undefined;
        if (!s) return 'closed';
        if (s.type === 'error' && /permissions violation/i.test(String((s as { error?: Error }).error?.message))) return String((s as { error?: Error }).error?.message);
      }
    })();
    return Promise.race([next, timer]);
  };

  beforeAll(async () => {
    // nats-server reads $EKM_NATS_<USER>_PASSWORD from its environment; startNats cannot pass one (and
    // jest's process.env is a sandbox copy), so the test renders the same file with the values inlined.
    const dir = mkdtempSync(join(tmpdir(), 'ekm-nats-acl-'));
    const text = readFileSync(join(__dirname, '../../infra/nats/accounts.conf'), 'utf8')
      .replace(/\$EKM_NATS_([A-Z_]+)_PASSWORD/g, (_m, u: string) => JSON.stringify(PASSWORDS[u.toLowerCase() as (typeof USERS)[number]]));
    expect(text).not.toMatch(/password: \$/);
    writeFileSync(join(dir, 'accounts.conf'), text);
    writeFileSync(join(dir, 'server.conf'), 'include ./accounts.conf\n');
    nats = await startNats({ config: join(dir, 'server.conf') });
  }, 30_000);

  afterAll(async () => {
    for (const nc of open) await nc.close().catch(() => undefined);
    if (nats) await stopServer(nats);
  });

  it('refuses anonymous connections and wrong passwords', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/authorization/i);
    await expect(connect({ servers: nats.url, user: 'keys', pass: 'wrong', reconnect: false })).rejects.toThrow(/authorization/i);
    await expect(connect({ servers: nats.url, user: 'nobody', pass: PASSWORDS.keys, reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it('allows request/reply between a caller and the service that owns the subject', async () => {
    const keys = await as('keys');
    keys.subscribe('ekm.v1.keys.encrypt', { callback: (_e, m) => void m.respond('pong') });
    await keys.flush();
    const client = await as('client');
    expect((await client.request('ekm.v1.keys.encrypt', 'ping', { timeout: 2000 })).string()).toBe('pong');
  });

  it('a caller may not publish outside request subjects (the message never arrives)', async () => {
    const keys = await as('keys');
    const seen: string[] = [];
    keys.subscribe('ekm.events.keys.>', { callback: (_e, m) => void seen.push(m.subject) });
    await keys.flush();
    const client = await as('client');
    const reported = violation(client);
    client.publish('ekm.events.keys.KeyCreated', '{"forged":true}');
    expect(await reported).toMatch(/publish to "ekm\.events\.keys\.KeyCreated"/i);
    // Proves a delivery does NOT happen: a window (scaled with the load), then a round trip on the subscriber's connection.
    await quietPeriod(200);
    await keys.flush();
    expect(seen).toEqual([]);
  });

  it.each([['ekm.events.>'], ['_INBOX_cli.>'], ['ekm.v1.keys.encrypt'], ['_INBOX.>']])('a caller may not subscribe to %s', async (subject) => {
    const client = await as('client');
    const err = await new Promise<Error | null>((resolve) => {
      client.subscribe(subject, { callback: (e) => resolve(e) });
      setTimeout(() => resolve(null), 2000);
    });
    expect(err?.message).toMatch(/permissions violation for subscription/i);
  });

  it('a service may not subscribe to another service\'s requests or to the audit stream subjects', async () => {
    for (const subject of ['ekm.v1.policy.decide', 'ekm.audit.v1.>', '_INBOX_client.>']) {
      const keys = await as('keys');
      const err = await new Promise<Error | null>((resolve) => {
        keys.subscribe(subject, { callback: (e) => resolve(e) });
        setTimeout(() => resolve(null), 2000);
      });
      expect(err?.message).toMatch(/permissions violation for subscription/i);
    }
  });

  it('a real service app runs under its user: JetStream event stream ready, request/reply through its queue group', async () => {
    const db = await createTestDatabase('ekm_natsacl');
    const svc = await startServiceApp({
      config: loadConfig('audit', {
        EKM_NATS_URL: nats.url, EKM_NATS_USER: 'audit', EKM_NATS_PASSWORD: PASSWORDS.audit, EKM_AUTH: 'disabled',
        EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_audit'), EKM_HTTP_PORT: '0',
      }),
      module: authProbeModule('ekm.v1.audit'),
      logger: createLogger('audit', { level: 'silent' }),
    });
    try {
      const deadline = Date.now() + 10_000;
      let ready = 0;
      while (Date.now() < deadline && (ready = (await fetch(`http://127.0.0.1:${svc.httpPort}/health/ready`)).status) !== 200) await new Promise((r) => setTimeout(r, 100));
      expect(ready).toBe(200); // EKM_AUDIT_EVENTS created/checked with the audit user's JetStream grants
      const client = await as('client');
      const reply = (await client.request('ekm.v1.audit.echo', '{"a":1}', { timeout: 3000 })).json<{ ok: boolean }>();
      expect(reply).toMatchObject({ ok: true, data: { principalId: 'anonymous', body: { a: 1 } } });
    } finally {
      await svc.close();
    }
  });
});
