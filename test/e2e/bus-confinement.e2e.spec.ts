/**
 * The bus as an attacker on it sees it: a nats-server with the generated per-identity config (what
 * `npm run up` runs), the policy and keys services each logged in as their own NATS identity, the SDK
 * as the `client` identity with a credential issued by EKM. Attackers are real NATS clients:
 * - anonymous connections are refused;
 * - a client identity cannot read `>` or another identity's inbox, publish events, JetStream API or
 *   audit subjects, or answer on `ekm.v1.>`;
 * - during every data-plane operation, sniffers with the client identity and with each service identity
 *   other than keys (on every subject their permissions let them read), and the harness user on `>`
 *   (what the broker sees), find 0 bytes of key material or caller plaintext (raw, base64, hex).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, nkeyAuthenticator, nkeys, type NatsConnection, type Status } from '@nats-io/transport-node';
import { serviceSessionSource, SessionSealer, SessionSigner } from '@ekm/auth';
import { Ekm, EkmClient, PolicyClient } from '@ekm/client';
import { startPolicyHarness, type PolicyHarness } from '../../apps/policy/src/access/adapters/nats/policy.test-harness';
import { ekmNatsConfig, loginAs, type EkmNatsConfig } from '../support/nats-auth';
import { createTestDatabase } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { startKeysApp, type KeysApp } from './keys-crypto.support';

const gen = require('../../infra/nats/nats-accounts.js') as { permissionsOf(id: string): { subscribe: string[] } };

const SECRET = `bus-e2e-${randomBytes(16).toString('hex')}`;

describe('the bus under least-privilege identities', () => {
  let nats: ServerHandle;
  let ids: EkmNatsConfig;
  let policy: PolicyHarness;
  let keys: KeysApp;
  let dir: string;
  const open: NatsConnection[] = [];
  const closers: Array<() => Promise<void>> = [];
  const url = (): string => `nats://127.0.0.1:${nats.port}`;
  const as = async (id: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: url(), ...loginAs(ids.identities[id]!), reconnect: false });
    open.push(nc);
    return nc;
  };
  /** Resolves with the next permissions-violation message on `nc` (nats.js reports them asynchronously). */
  const violation = async (nc: NatsConnection, ms = 3000): Promise<string> => {
    const it = nc.status()[Symbol.asyncIterator]();
    const timer = new Promise<string>((r) => setTimeout(() => r('no violation reported'), ms));
    const next = (async (): Promise<string> => {
      for (;;) {
        const s = (await it.next()).value as Status | undefined;
        if (!s) return 'closed';
        const msg = String((s as { error?: Error }).error?.message ?? '');
        if (s.type === 'error' && /permissions violation/i.test(msg)) return msg;
      }
    })();
    return Promise.race([next, timer]);
  };

  beforeAll(async () => {
    ids = ekmNatsConfig();
    nats = await startNats({ config: ids.config });
    dir = mkdtempSync(join(tmpdir(), 'ekm-bus-e2e-'));
    process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE = join(dir, 'admin.credentials');
    const auth = { EKM_AUTH: 'required', EKM_AUTH_SECRET: SECRET };
    // The harness's own test connection uses the harness user; each service logs in as itself.
    policy = await startPolicyHarness({ natsUrl: `nats://${ids.harness.user}:${ids.harness.password}@127.0.0.1:${nats.port}`, env: { ...auth, EKM_NATS_URL: url(), EKM_NATS_CREDENTIALS: ids.credentialsFile('policy') } });
    keys = await startKeysApp(url(), await createTestDatabase('ekm_keys_bus'), { ...auth, EKM_AUTHZ: 'allow-all', EKM_NATS_CREDENTIALS: ids.credentialsFile('keys') });
  }, 90_000);

  afterAll(async () => {
    delete process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE;
    for (const c of closers) await c().catch(() => undefined);
    for (const nc of open) await nc.close().catch(() => undefined);
    await keys?.svc.close();
    await policy?.close();
    if (nats) await stopServer(nats);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses anonymous connections, a user name without its nkey, and an unknown nkey', async () => {
    await expect(connect({ servers: url(), reconnect: false })).rejects.toThrow(/authorization/i);
    await expect(connect({ servers: url(), user: 'client', pass: 'not-the-password-0123456789', reconnect: false })).rejects.toThrow(/authorization/i);
    const stranger = new TextDecoder().decode(nkeys.createUser().getSeed());
    await expect(connect({ servers: url(), authenticator: nkeyAuthenticator(new TextEncoder().encode(stranger)), reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it('a client identity cannot read > or another identity\'s inbox', async () => {
    for (const subj of ['>', '_INBOX_cli.>', '_INBOX.>', 'ekm.v1.keys.>', 'ekm.events.>']) {
      const nc = await as('client');
      const v = violation(nc);
      nc.subscribe(subj);
      expect(await v).toMatch(new RegExp(`permissions violation for subscription to "${subj.replace(/[.*>]/g, (c) => `\\${c}`)}"`, 'i'));
    }
  });

  it('a client identity cannot publish events, JetStream API or audit subjects, nor answer on ekm.v1.>', async () => {
    for (const subj of ['ekm.events.keys.KeyCreated', '$JS.API.STREAM.CREATE.EVIL', '$JS.API.STREAM.INFO.EKM_KEYS_EVENTS', 'ekm.audit.v1.key_usage', '_INBOX_cli.forged-reply']) {
      const nc = await as('client');
      const v = violation(nc);
      nc.publish(subj, 'x');
      expect(await v).toMatch(/permissions violation for publish/i);
    }
    // Answering needs a subscription on a service subject: refused, so no forged reply can be sent.
    const nc = await as('client');
    const v = violation(nc);
    const refused = new Promise<string>((r) => {
      nc.subscribe('ekm.v1.keys.decrypt', { callback: (err, m) => (err ? r(err.message) : void m.respond('{"ok":true,"data":{}}')) });
    });
    expect(await Promise.race([v, refused])).toMatch(/permissions violation for subscription/i);
  });

  it('only the audit identity may publish audit subjects; no service but keys reads keys requests', async () => {
    for (const id of ['keys', 'policy', 'rotation']) {
      const nc = await as(id);
      const v = violation(nc);
      nc.publish('ekm.audit.v1.key_usage', 'forged');
      expect(await v).toMatch(/permissions violation for publish/i);
    }
    for (const id of ['policy', 'rotation', 'audit']) {
      const nc = await as(id);
      const v = violation(nc);
      nc.subscribe('ekm.v1.keys.generate-data-key');
      expect(await v).toMatch(/permissions violation for subscription/i);
    }
  });

  it('every data-plane operation leaves 0 secret bytes for sniffers of the client and service identities and for the broker', async () => {
    // The admin (bootstrap credential, pinned service identity) creates a tenant principal for the app.
    const adminCreds = join(dir, 'admin.credentials');
    const admin = await EkmClient.connect({ servers: url(), natsCredentials: ids.credentialsFile('cli'), credentials: adminCreds, maxAttempts: 1 });
    closers.push(() => admin.close());
    const issued = await new PolicyClient(admin).createPrincipal({ tenant: 'acme', roles: ['app'], kind: 'service', name: 'bus-e2e' });
    expect(issued.credential.serviceKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const seen: Buffer[] = [];
    const capture = (nc: NatsConnection, subj: string): void => {
      nc.subscribe(subj, { callback: (err, m) => { if (!err) seen.push(Buffer.from(m.data), Buffer.from(m.headers ? [...m.headers.keys()].map((k) => `${k}:${m.headers!.get(k)}`).join('\n') : '')); } });
    };
    // The broker's view: the harness user may read everything.
    const broker = await connect({ servers: url(), user: ids.harness.user, pass: ids.harness.password, reconnect: false });
    open.push(broker);
    capture(broker, '>');
    // Each identity other than keys, on every subject it may read (a second connection of the client identity too).
    for (const id of ['client', 'cli', 'policy', 'rotation', 'audit', 'siem']) {
      const nc = await as(id);
      for (const subj of gen.permissionsOf(id).subscribe) capture(nc, subj);
      await nc.flush();
    }
    await broker.flush();

    const app = await Ekm.connect({ servers: url(), natsCredentials: ids.credentialsFile('client'), credentials: issued.credential, maxAttempts: 1 });
    closers.push(() => app.close());
    const key = await app.keys.createKey({ tenant: 'acme' });
    const other = await app.keys.createKey({ tenant: 'acme' });
    const secrets: Buffer[] = [];
    const callerPlain = randomBytes(48);
    secrets.push(callerPlain);

    const dk = await app.crypto.generateDataKey({ keyId: key.keyId });
    secrets.push(dk.plaintext);
    const ct = await app.crypto.encrypt({ keyId: key.keyId, plaintext: callerPlain });
    expect((await app.crypto.decrypt({ ciphertextBlob: ct.ciphertextBlob })).plaintext).toEqual(callerPlain);
    expect((await app.crypto.decrypt({ ciphertextBlob: dk.ciphertextBlob })).plaintext).toEqual(dk.plaintext);
    const re = await app.crypto.reEncrypt({ ciphertextBlob: ct.ciphertextBlob, destinationKeyId: other.keyId });
    expect((await app.crypto.decrypt({ ciphertextBlob: re.ciphertextBlob })).plaintext).toEqual(callerPlain);
    const batch = await app.crypto.generateDataKeyBatch([{ keyId: key.keyId }, { keyId: other.keyId }]);
    for (const b of batch) if (b.ok) secrets.push(b.value.plaintext);
    expect(batch.every((b) => b.ok)).toBe(true);
    const dec = await app.crypto.decryptBatch(batch.map((b) => ({ ciphertextBlob: (b.ok ? b.value.ciphertextBlob : Buffer.alloc(0)) })));
    expect(dec.every((d) => d.ok)).toBe(true);
    await app.crypto.reEncryptBatch([{ ciphertextBlob: ct.ciphertextBlob, destinationKeyId: other.keyId }]);
    // The issued credential's private key crossed the bus once too.
    secrets.push(Buffer.from(issued.credential.privateKey, 'base64'));

    await broker.flush();
    for (const nc of open) await nc.flush().catch(() => undefined);
    const all = Buffer.concat(seen);
    expect(seen.length).toBeGreaterThan(20);
    for (const s of secrets) {
      for (const form of [s, Buffer.from(s.toString('base64')), Buffer.from(s.toString('base64url')), Buffer.from(s.toString('hex')), Buffer.from(s.subarray(0, 16).toString('base64').slice(0, 20))]) {
        expect(all.includes(form)).toBe(false);
      }
    }
  }, 120_000);

  it('a signed but unsealed GenerateDataKey or Decrypt is refused (EKM_SEAL_REQUIRED) before the service reads it', async () => {
    const nc = await as('client');
    const signer = new SessionSigner(serviceSessionSource(new SessionSealer(SECRET), 'bus-e2e'));
    for (const op of ['generate-data-key', 'decrypt'] as const) {
      const subj = `ekm.v1.keys.${op}`;
      const body = Buffer.from(JSON.stringify(op === 'decrypt' ? { ciphertextBlob: 'AAAA' } : { keyId: 'alias/none' }));
      const h = headers();
      // Correctly signed (the request id is part of the signature): only the missing seal is wrong.
      const requestId = randomUUID();
      for (const [k, v] of Object.entries(await signer.sign(subj, body, requestId))) h.set(k, v);
      h.set('Ekm-Request-Id', requestId);
      const r = (await nc.request(subj, body, { timeout: 5000, headers: h })).json<{ ok: boolean; error?: { code: string } }>();
      expect(r).toMatchObject({ ok: false, error: { code: 'EKM_SEAL_REQUIRED' } });
    }
  });

  it('examples/raw-nats logs in, pins the service, and makes sealed calls with only the NATS client and node:crypto', async () => {
    // Asynchronous: the services answering it run in this process.
    const { stdout: out } = await promisify(execFile)(process.execPath, [join(__dirname, '..', '..', 'examples', 'raw-nats', 'list-keys.js')], {
      cwd: dir, encoding: 'utf8',
      env: { ...process.env, EKM_CREDENTIALS: join(dir, 'admin.credentials'), EKM_NATS_CREDENTIALS: ids.credentialsFile('cli'), EKM_NATS_URL: url(), NODE_PATH: join(__dirname, '..', '..', 'node_modules') },
    });
    expect(out).toMatch(/acme Enabled/);
    expect(out).toMatch(/data key under .*: 32 bytes \(sealed on the bus\)/);
  });
});
