/**
 * A private stack for the AWS KMS-compatible API specs: own nats-server, the policy service (with its
 * root of trust for access-key secrets), the keys service with EKM_AUTH=required and EKM_AUTHZ=policy,
 * the audit service over both logs, and kms-api in-process over HTTPS with a local CA made by
 * infra/scripts/lib/tls.sh (as `npm run up` does). Principals and access keys are created through the
 * SDK by an operator-scope admin session minted from the stack's auth secret.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KMS, KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Client } from 'pg';
import { ServiceIdentity, SessionSealer, SessionSigner, serviceSessionSource } from '@ekm/auth';
import { EkmClient, PolicyClient, type IssuedAccessKey } from '@ekm/client';
import { createLogger } from '@ekm/telemetry';
import { startPolicyHarness, type PolicyHarness } from '../../apps/policy/src/access/adapters/nats/policy.test-harness';
import { loadKmsApiConfig } from '../../apps/kms-api/src/kms-api.config';
import { startKmsApi, type KmsApiApp } from '../../apps/kms-api/src/kms-api.app';
import { loadConfig } from '@ekm/config';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { RotationModule } from '../../apps/rotation/src/rotation.module';
import { createTestDatabase, urlFor } from '../support/pg';
import { freePort, startNats, stopServer, type ServerHandle } from '../support/servers';
import { auditEnv, startAuditApp } from './audit.support';
import { startKeysApp, type KeysApp } from './keys-crypto.support';

export const REGION = 'us-east-1';

export interface KmsStack {
  readonly endpoint: string;
  /** PEM of the local CA the endpoint's certificate chains to. */
  readonly caPem: Buffer;
  readonly caFile: string;
  readonly dir: string;
  readonly policy: PolicyHarness;
  readonly admin: PolicyClient;
  /** A bus client of a new operator principal (tenant `*`, role admin), for keys operator calls such as set-tenant-root-external. */
  operator(): Promise<EkmClient>;
  /** A bus client signing as `service:<name>` (a service session from the stack's auth secret), for service-to-service subjects. */
  service(name: string): EkmClient;
  readonly keysDb: Client;
  readonly auditDb: Client;
  /** A principal of `tenant` with role app and one access key. */
  principal(tenant: string): Promise<{ principalId: string; key: IssuedAccessKey }>;
  /** An AWS SDK client signing with `key`, trusting the stack's CA. */
  kms(key: Pick<IssuedAccessKey, 'accessKeyId' | 'secretAccessKey'>, opts?: { systemClockOffset?: number }): KMSClient;
  /** The aggregated `KMS` client (method per operation), as the AWS Encryption SDK's keyrings call it. */
  kmsAggregated(key: Pick<IssuedAccessKey, 'accessKeyId' | 'secretAccessKey'>): KMS;
  stop(): Promise<void>;
}

/**
 * `keysEnv`: extra settings of the keys service (e.g. a short EKM_XKS_CACHE_MS). `rotation`: also run the
 * rotation service in-process (own database, same auth secret), so the keys service's version retirement
 * checks and the rotation subjects are answered. `selfExternal`: the AWS API listens on a port chosen up
 * front and is the one origin the keys service may use as an external tenant root, so a tenant's root can
 * be a key of another tenant of this same stack (set-tenant-root-external without a second stack).
 */
export async function startKmsStack(opts: { keysEnv?: Record<string, string>; rotation?: boolean; selfExternal?: boolean } = {}): Promise<KmsStack> {
  const dir = mkdtempSync(join(tmpdir(), 'ekm-kms-e2e-'));
  const kmsPort = opts.selfExternal ? await freePort() : 0;
  const selfOrigin: Record<string, string> = opts.selfExternal ? { EKM_XKS_ALLOWED_ENDPOINTS: `https://127.0.0.1:${kmsPort}` } : {};
  const authSecret = randomBytes(32).toString('base64url');
  const rootSecret = 'kms-e2e-root-secret-0123456789';
  const common = { EKM_AUTH: 'required', EKM_AUTH_SECRET: authSecret, EKM_DATA_DIR: join(dir, 'data'), EKM_ROOT_SECRET: rootSecret };
  const nats: ServerHandle = await startNats();
  const policy = await startPolicyHarness({ natsUrl: nats.url, env: common });
  const keysDbInfo = await createTestDatabase('ekm_keys_kms');
  const keys: KeysApp = await startKeysApp(nats.url, keysDbInfo, { ...common, EKM_AUTHZ: 'policy', ...selfOrigin, ...opts.keysEnv });
  let rotation: ServiceApp | undefined;
  if (opts.rotation) {
    const rotationDb = await createTestDatabase('ekm_rotation_kms');
    rotation = await startServiceApp({
      config: loadConfig('rotation', {
        EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: rotationDb.url, EKM_DATABASE_URL: urlFor(rotationDb.name, 'ekm_rotation'), EKM_HTTP_PORT: '0',
        EKM_AUTH: 'required', EKM_AUTH_SECRET: authSecret, EKM_ROTATION_TICK_MS: '200',
      }),
      module: RotationModule, logger: createLogger('rotation', { level: 'silent' }),
    });
  }
  const auditDbInfo = await createTestDatabase('ekm_audit_kms');
  const audit = await startAuditApp(auditEnv(nats.url, auditDbInfo, { ...common, EKM_ROOT_SECRET: rootSecret, EKM_AUDIT_SOURCES: 'keys' }));
  const keysDb = new Client({ connectionString: keysDbInfo.url });
  await keysDb.connect();
  const auditDb = new Client({ connectionString: auditDbInfo.url });
  await auditDb.connect();
  // The local CA and the endpoint certificate, made by the script `npm run up` uses.
  const tlsDir = join(dir, 'tls');
  execFileSync('bash', ['-c', `info() { :; }; die() { echo "$*" >&2; exit 1; }; source "${resolve(__dirname, '../../infra/scripts/lib/tls.sh')}" && ensure_server_cert kms-api localhost 127.0.0.1`], { env: { ...process.env, EKM_TLS_DIR: tlsDir } });
  const config = loadKmsApiConfig({
    EKM_NATS_URL: nats.url, EKM_KMS_PORT: String(kmsPort), EKM_KMS_HTTP_PORT: '0', EKM_LOG_LEVEL: 'silent',
    // The policy service's identity, derived from the stack's auth secret: SigV4 login replies must carry its signature.
    EKM_SERVICE_KEY: ServiceIdentity.fromAuthSecret(authSecret).publicKey,
    EKM_KMS_TLS_CERT: join(tlsDir, 'kms-api.pem'), EKM_KMS_TLS_KEY: join(tlsDir, 'kms-api-key.pem'),
  });
  const api: KmsApiApp = await startKmsApi(config, createLogger('kms-api', { level: 'silent' }));
  const endpoint = `https://127.0.0.1:${api.port}`;
  const caFile = join(tlsDir, 'ca.pem');
  const caPem = readFileSync(caFile);
  const sealer = new SessionSealer(authSecret);
  const adminBus = EkmClient.fromConnection(policy.nc, {
    credentials: new SessionSigner(() => {
      const s = sealer.issue({ principalId: 'kms-e2e-operator', tenant: '*', roles: ['admin'] });
      return Promise.resolve({ token: s.token, sessionKey: s.sessionKey, expiresAt: s.claims.expiresAt });
    }),
    timeoutMs: 20_000,
  });
  const admin = new PolicyClient(adminBus);
  // As `npm run up` installs it (infra/policies/operator-admin.json): operators may use keys.
  await admin.putPolicy({ policyId: 'operator-admin', tenant: '*', document: JSON.parse(readFileSync(resolve(__dirname, '../../infra/policies/operator-admin.json'), 'utf8')) as never });
  await admin.putPolicy({ policyId: 'apps-all', tenant: '*', document: { statements: [{ sid: 'apps', effect: 'allow', roles: ['app'], actions: ['keys:*'], resources: ['*'] }] } });
  const agent = new Agent({ ca: caPem, keepAlive: true });
  const clientConfig = (key: Pick<IssuedAccessKey, 'accessKeyId' | 'secretAccessKey'>) => ({
    endpoint, region: REGION, maxAttempts: 1,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
  });
  return {
    endpoint, caPem, caFile, dir, policy, admin, keysDb, auditDb,
    async operator() {
      const { principal } = await admin.createPrincipal({ tenant: '*', roles: ['admin'], name: 'kms-e2e-operator' });
      return EkmClient.fromConnection(policy.nc, {
        credentials: new SessionSigner(() => {
          const s = sealer.issue({ principalId: principal.principalId, tenant: '*', roles: ['admin'] });
          return Promise.resolve({ token: s.token, sessionKey: s.sessionKey, expiresAt: s.claims.expiresAt });
        }),
        timeoutMs: 20_000,
      });
    },
    service: (name) => EkmClient.fromConnection(policy.nc, { credentials: new SessionSigner(serviceSessionSource(sealer, name)), timeoutMs: 20_000 }),
    async principal(tenant) {
      const { principal } = await admin.createPrincipal({ tenant, roles: ['app'], name: `kms-e2e-${tenant}` });
      return { principalId: principal.principalId, key: await admin.createAccessKey(principal.principalId) };
    },
    kms: (key, opts = {}) => new KMSClient({ ...clientConfig(key), ...(opts.systemClockOffset !== undefined ? { systemClockOffset: opts.systemClockOffset } : {}) }),
    kmsAggregated: (key) => new KMS(clientConfig(key)),
    async stop() {
      agent.destroy();
      await api.close().catch(() => undefined);
      await keysDb.end().catch(() => undefined);
      await auditDb.end().catch(() => undefined);
      await audit.svc.close().catch(() => undefined);
      await rotation?.close().catch(() => undefined);
      await keys.svc.close().catch(() => undefined);
      await policy.close().catch(() => undefined);
      await stopServer(nats);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
