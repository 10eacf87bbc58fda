/**
 * The SDK against a service with EKM_AUTH=required: it logs in with a credential file (over a login
 * responder that does what the policy service's login handler does with @ekm/auth), signs every call,
 * and logs in again before the session expires.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  generatePrincipalCredential, LOGIN_SUBJECT, LoginRequestSchema, SessionSealer, SessionSigner, toCredentialFile, verifyLoginProof, type LoginReply,
} from '@ekm/auth';
import { loadConfig } from '@ekm/config';
import { fail, ok, parseRequest } from '@ekm/contracts';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { createTestDatabase, urlFor } from '../../../test/support/pg';
import { startNats, stopServer, type ServerHandle } from '../../../test/support/servers';
import { authProbeModule } from '../../service-kit/src/request-auth.test-fixture';
import { EkmClient } from './ekm-client';
import { loginSessionSource } from './session-login';

const SECRET = `client-int-${randomBytes(16).toString('hex')}`;
const svcName = `t${randomBytes(4).toString('hex')}`;
const sealer = new SessionSealer(SECRET);
const cred = generatePrincipalCredential();
const file = toCredentialFile('svc-sdk', cred);

describe('EkmClient signs requests with a session from its credentials', () => {
  let nats: ServerHandle;
  let svc: ServiceApp;
  let nc: NatsConnection;
  let logins = 0;
  let ttlMs = 600_000;

  beforeAll(async () => {
    nats = await startNats();
    const db = await createTestDatabase('ekm_sdkauth');
    svc = await startServiceApp({
      config: loadConfig('audit', {
        EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_audit'), EKM_HTTP_PORT: '0',
        EKM_AUTH: 'required', EKM_AUTH_SECRET: SECRET, EKM_DATA_DIR: mkdtempSync(join(tmpdir(), 'ekm-sdk-')),
      }),
      module: authProbeModule(`ekm.v1.${svcName}`),
      logger: createLogger('audit', { level: 'silent' }),
    });
    nc = await connect({ servers: nats.url });
    // Stand-in for the policy service's login handler: verify the proof, issue a session.
    nc.subscribe(LOGIN_SUBJECT, {
      callback: (_e, m) => {
        const req = parseRequest(LoginRequestSchema, m.json());
        if (!req.ok) {
          m.respond(JSON.stringify(req));
          return;
        }
        const proof = verifyLoginProof(req.data, cred.publicKey);
        if (!proof.ok) {
          m.respond(JSON.stringify(fail('EKM_UNAUTHENTICATED', 'bad proof', { reason: proof.reason })));
          return;
        }
        logins++;
        const s = sealer.issue({ principalId: req.data.principalId, credentialId: req.data.credentialId, tenant: 'acme', roles: ['app'], ttlMs });
        const reply: LoginReply = {
          sessionToken: s.token, sessionKey: s.sessionKey.toString('base64url'), sessionId: s.claims.sessionId, principalId: s.claims.principalId,
          tenant: s.claims.tenant, roles: s.claims.roles, expiresAt: new Date(s.claims.expiresAt).toISOString(),
        };
        m.respond(JSON.stringify(ok(reply)));
      },
    });
    await nc.flush();
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
    await nc?.close();
    if (nats) await stopServer(nats);
  });

  it('logs in once from a credential file (path, mode 0600) and signs every call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekm-cred-'));
    const path = join(dir, 'svc.credentials');
    writeFileSync(path, JSON.stringify(file));
    chmodSync(path, 0o644);
    await expect(EkmClient.connect({ servers: nats.url, credentials: path })).rejects.toThrow(/must be 0600/);
    chmodSync(path, 0o600);
    const client = await EkmClient.connect({ servers: nats.url, credentials: path });
    try {
      const before = logins;
      for (let i = 0; i < 5; i++) {
        const r = await client.call<{ caller: { principalId: string; tenant: string } }>(svcName as never, 'whoami' as never, { i });
        expect(r.caller).toMatchObject({ principalId: 'svc-sdk', tenant: 'acme' });
      }
      expect(logins - before).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('an unsigned client is refused with EKM_UNAUTHENTICATED / MISSING_CREDENTIALS', async () => {
    const client = EkmClient.fromConnection(nc);
    await expect(client.call(svcName as never, 'whoami' as never, {})).rejects.toMatchObject({ code: 'EKM_UNAUTHENTICATED', details: { reason: 'MISSING_CREDENTIALS' } });
  });

  it('renews the session before it expires', async () => {
    ttlMs = 1500;
    const signer = new SessionSigner(loginSessionSource(nc, file), 700);
    const client = EkmClient.fromConnection(nc, { credentials: signer });
    const before = logins;
    await client.call(svcName as never, 'whoami' as never, {});
    const first = (await signer.session()).token;
    await new Promise((r) => setTimeout(r, 900)); // 600 ms left < 700 ms: due for renewal
    await client.call(svcName as never, 'whoami' as never, {});
    await client.call(svcName as never, 'whoami' as never, {});
    expect(logins - before).toBe(2);
    expect((await signer.session()).token).not.toBe(first);
    ttlMs = 600_000;
  });
});
