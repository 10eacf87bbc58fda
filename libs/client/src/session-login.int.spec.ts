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
  agreementKeyPair, deriveSessionKey, generatePrincipalCredential, LOGIN_SUBJECT, LoginRequestSchema, ServiceIdentity, SessionSealer, SessionSigner, toCredentialFile,
  verifyLoginProof, type LoginReply,
} from '@ekm/auth';
import { loadConfig } from '@ekm/config';
import { fail, ok, parseRequest } from '@ekm/contracts';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { sealBody, serviceSessionSource, SEAL_HEADER } from '@ekm/auth';
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
const identity = ServiceIdentity.fromAuthSecret(SECRET);
const file = toCredentialFile('svc-sdk', cred, undefined, identity.publicKey);

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
        const server = agreementKeyPair();
        const sessionKey = deriveSessionKey(server.privateKey, req.data.clientKey, req.data.clientKey, server.publicKey);
        const s = sealer.issue({ principalId: req.data.principalId, credentialId: req.data.credentialId, tenant: 'acme', roles: ['app'], ttlMs, sessionKey });
        const expiresAt = new Date(s.claims.expiresAt).toISOString();
        const reply: LoginReply = {
          sessionToken: s.token, serverKey: server.publicKey, serviceSignature: identity.signLoginReply(req.data.signature, server.publicKey, s.token, expiresAt),
          sessionId: s.claims.sessionId, principalId: s.claims.principalId, tenant: s.claims.tenant, roles: s.claims.roles, expiresAt,
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

  it('seals every body: a sniffer on > sees neither the request plaintext nor the echoed reply (raw, base64, hex)', async () => {
    const secret = randomBytes(32);
    const forms = [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url'), secret.toString('latin1')];
    const sniffer = await connect({ servers: nats.url });
    const seen: Buffer[] = [];
    sniffer.subscribe('>', { callback: (_e, m) => void seen.push(Buffer.from(m.data), Buffer.from(JSON.stringify(m.headers ? [...m.headers.keys()].map((k) => m.headers!.get(k)) : []))) });
    await sniffer.flush();
    const client = await EkmClient.connect({ servers: nats.url, credentials: file });
    try {
      const r = await client.call<{ body: { hex: string; b64: string } }>(svcName as never, 'whoami' as never, { hex: secret.toString('hex'), b64: secret.toString('base64') });
      expect(r.body).toEqual({ hex: secret.toString('hex'), b64: secret.toString('base64') });
      await sniffer.flush();
      expect(seen.length).toBeGreaterThanOrEqual(4); // login request + reply, call + reply
      const all = Buffer.concat(seen);
      for (const f of forms) expect(all.includes(Buffer.from(f, 'latin1'))).toBe(false);
      expect(all.includes(secret)).toBe(false);
    } finally {
      await client.close();
      await sniffer.close();
    }
  });

  describe('a rogue responder on a bus without permissions', () => {
    let rogueBus: ServerHandle;
    let rogue: NatsConnection;
    let mode: 'unsealed' | 'wrong-key' = 'unsealed';

    beforeAll(async () => {
      rogueBus = await startNats();
      rogue = await connect({ servers: rogueBus.url });
      const fakeIdentity = ServiceIdentity.fromAuthSecret(`rogue-${randomBytes(16).toString('hex')}`);
      const fakeSealer = new SessionSealer(`rogue-${randomBytes(16).toString('hex')}`);
      rogue.subscribe(LOGIN_SUBJECT, {
        callback: (_e, m) => {
          const req = m.json<{ clientKey: string; signature: string; principalId: string }>();
          const server = agreementKeyPair();
          const sessionKey = deriveSessionKey(server.privateKey, req.clientKey, req.clientKey, server.publicKey);
          const s = fakeSealer.issue({ principalId: req.principalId, tenant: '*', roles: ['admin'], sessionKey });
          const expiresAt = new Date(s.claims.expiresAt).toISOString();
          m.respond(JSON.stringify(ok({ sessionToken: s.token, serverKey: server.publicKey, serviceSignature: fakeIdentity.signLoginReply(req.signature, server.publicKey, s.token, expiresAt), sessionId: s.claims.sessionId, principalId: req.principalId, tenant: '*', roles: ['admin'], expiresAt })));
        },
      });
      rogue.subscribe('ekm.v1.keys.>', {
        callback: (_e, m) => {
          const forged = JSON.stringify(ok({ keyId: 'k', plaintext: Buffer.from('attacker-chosen-data-key-32bytes').toString('base64') }));
          if (mode === 'unsealed') return void m.respond(forged);
          const h = natsHeaders();
          h.set(SEAL_HEADER, 'v1');
          m.respond(sealBody(randomBytes(32), 'reply', m.subject, m.headers?.get('Ekm-Request-Id') ?? '', Buffer.from(forged)), { headers: h });
        },
      });
      await rogue.flush();
    });

    afterAll(async () => {
      await rogue?.close();
      if (rogueBus) await stopServer(rogueBus);
    });

    it('cannot hand out a session: its login reply is not signed by the pinned service identity', async () => {
      const client = await EkmClient.connect({ servers: rogueBus.url, credentials: file, maxAttempts: 1 });
      try {
        await expect(client.call('keys', 'generate-data-key', { keyId: 'k' })).rejects.toMatchObject({ code: 'EKM_SERVICE_UNTRUSTED' });
      } finally {
        await client.close();
      }
    });

    it('cannot forge a reply: unsealed and wrongly sealed successes are refused', async () => {
      const rnc = await connect({ servers: rogueBus.url });
      try {
        const client = EkmClient.fromConnection(rnc, { credentials: new SessionSigner(serviceSessionSource(sealer, 'sdk-test')), maxAttempts: 1 });
        mode = 'unsealed';
        await expect(client.call('keys', 'generate-data-key', { keyId: 'k' })).rejects.toMatchObject({ code: 'EKM_SERVICE_UNTRUSTED' });
        mode = 'wrong-key';
        await expect(client.call('keys', 'decrypt', { ciphertext: 'x' })).rejects.toMatchObject({ code: 'EKM_SERVICE_UNTRUSTED' });
      } finally {
        await rnc.close();
      }
    });
  });
});
