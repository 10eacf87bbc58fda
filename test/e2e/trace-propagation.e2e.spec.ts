/**
 * One trace per request across services, with the real keys, policy and audit services in this process
 * (so one in-memory exporter sees every span) on a private nats-server and database, requests signed as
 * in production (EKM_AUTH=required, EKM_AUTHZ=policy): SDK → keys → policy (Decide), keys → audit through
 * the JetStream headers the outbox relay writes, rotation's command sender → keys.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SessionSealer, SessionSigner, serviceSessionSource } from '@ekm/auth';
import { Ekm, PolicyClient } from '@ekm/client';
import { loadConfig } from '@ekm/config';
import type { ServiceName } from '@ekm/contracts';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger, initTelemetry, type Telemetry } from '@ekm/telemetry';
import { AuditModule } from '../../apps/audit/src/audit.module';
import { KeysModule } from '../../apps/keys/src/keys.module';
import { PolicyModule } from '../../apps/policy/src/policy.module';
import { KeysCommandSender } from '../../apps/rotation/src/schedules/adapters/nats/keys-commands.sender';
import { createTestDatabase, urlFor } from '../support/pg';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { waitFor } from './audit.support';

jest.setTimeout(120_000);

let tel: Telemetry;
let nats: ServerHandle;
let dir: string;
let nc: NatsConnection;
let ekm: Ekm;
const apps: ServiceApp[] = [];
const authSecret = randomBytes(32).toString('base64url');

beforeAll(async () => {
  tel = initTelemetry({ serviceName: 'ekm-trace-e2e', exporter: 'memory', instrumentPg: false });
  nats = await startNats();
  const db = await createTestDatabase('ekm_trace');
  dir = mkdtempSync(join(tmpdir(), 'ekm-trace-'));
  const env = (s: ServiceName, extra: Record<string, string> = {}): Record<string, string> => ({
    EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, `ekm_${s}`), EKM_HTTP_PORT: '0',
    EKM_DATA_DIR: dir, EKM_ROOT_SECRET: 'trace-e2e-root-secret-0123', EKM_AUTH: 'required', EKM_AUTH_SECRET: authSecret, EKM_LOG_LEVEL: 'silent', ...extra,
  });
  const start = async (s: ServiceName, module: Parameters<typeof startServiceApp>[0]['module'], extra: Record<string, string> = {}) => {
    apps.push(await startServiceApp({ config: loadConfig(s, env(s, extra)), module, logger: createLogger(s, { level: 'silent' }) }));
  };
  const credentials = join(dir, 'admin.credentials');
  process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE = credentials;
  try {
    await start('policy', PolicyModule);
  } finally {
    delete process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE;
  }
  await start('keys', KeysModule, { EKM_AUTHZ: 'policy', EKM_DELETION_MIN_DAYS: '0' });
  await start('audit', AuditModule, { EKM_AUDIT_SOURCES: 'keys', EKM_AUDIT_RECONCILE_INTERVAL_MS: '60000' });
  ekm = await Ekm.connect({ servers: nats.url, credentials });
  await new PolicyClient(ekm.client).putPolicy({ policyId: 'operator-admin', tenant: '*', document: { statements: [{ sid: 'operators', effect: 'allow', roles: ['admin'], actions: ['keys:*'], resources: ['*'] }] } });
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await ekm?.close();
  await nc?.close();
  for (const a of apps.reverse()) await a.close().catch(() => undefined);
  if (nats) await stopServer(nats);
  await tel?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const spans = (): ReadableSpan[] => tel.memoryExporter!.getFinishedSpans();
const inTrace = (traceId: string) => spans().filter((s) => s.spanContext().traceId === traceId);
const named = (list: ReadableSpan[], name: string, kind: SpanKind) => list.filter((s) => s.name === name && s.kind === kind);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('one trace per request across services', () => {
  it('SDK → keys → policy: the Decide call is a child in the caller\'s trace; keys → audit: the trail entry\'s consumer span too', async () => {
    tel.memoryExporter!.reset();
    const key = await ekm.keys.createKey({ tenant: 'acme' });
    const client = spans().find((s) => s.kind === SpanKind.CLIENT && s.name === 'ekm.v1.keys.create-key' && s.instrumentationScope.name === '@ekm/client');
    expect(client).toBeDefined();
    const traceId = client!.spanContext().traceId;
    const trace = inTrace(traceId);
    const keysServer = named(trace, 'ekm.v1.keys.create-key', SpanKind.SERVER);
    expect(keysServer).toHaveLength(1);
    expect(parentOf(keysServer[0]!)).toBe(client!.spanContext().spanId);
    const decideClient = named(trace, 'ekm.v1.policy.decide', SpanKind.CLIENT);
    const decideServer = named(trace, 'ekm.v1.policy.decide', SpanKind.SERVER);
    expect(decideClient.length).toBeGreaterThanOrEqual(1);
    expect(decideServer.length).toBe(decideClient.length);
    expect(parentOf(decideServer[0]!)).toBe(decideClient[0]!.spanContext().spanId);

    // The KeyCreated event reaches the audit service over JetStream; its processing joins the same trace.
    const consumer = await waitFor('audit consumer span of the KeyCreated event', async () =>
      inTrace(traceId).find((s) => s.kind === SpanKind.CONSUMER && s.attributes['ekm.source'] === 'keys'));
    expect(consumer.name).toMatch(/^ekm\.events\.keys\./);
    // No span attribute carries key ids' material or any body: only messaging metadata.
    for (const s of inTrace(traceId)) expect(JSON.stringify(s.attributes)).not.toMatch(/plaintext|ciphertext/i);
    expect(key.keyId).toBeDefined();
  });

  it('GenerateDataKey through the SDK is one trace with the keys span and the policy decision', async () => {
    const key = await ekm.keys.createKey({ tenant: 'acme' });
    tel.memoryExporter!.reset();
    await ekm.crypto.generateDataKey({ keyId: key.keyId });
    const client = spans().find((s) => s.kind === SpanKind.CLIENT && s.name === 'ekm.v1.keys.generate-data-key');
    expect(client).toBeDefined();
    const trace = inTrace(client!.spanContext().traceId);
    expect(named(trace, 'ekm.v1.keys.generate-data-key', SpanKind.SERVER)).toHaveLength(1);
    expect(named(trace, 'ekm.v1.policy.decide', SpanKind.SERVER).length).toBeGreaterThanOrEqual(1);
  });

  it('rotation → keys: a scheduled rotation command is a CLIENT span whose child is the keys service\'s span', async () => {
    const key = await ekm.keys.createKey({ tenant: 'acme' });
    const signer = new SessionSigner(serviceSessionSource(new SessionSealer(authSecret), 'rotation'));
    const sender = new KeysCommandSender(nc, 10_000, signer);
    tel.memoryExporter!.reset();
    // (the expected stream version may be stale: a typed refusal from keys is a reply in the same trace)
    const r = await sender.send({ kind: 'ROTATE', keyId: key.keyId, ref: '', dueMs: 0, nowMs: 0, periodDays: null, streamVersion: 0, attempts: 0 }, `trace-e2e-${randomBytes(4).toString('hex')}`);
    expect(r.ok || r.code).toBeTruthy();
    const client = named(spans(), 'ekm.v1.keys.rotate-key', SpanKind.CLIENT);
    expect(client).toHaveLength(1);
    const server = named(inTrace(client[0]!.spanContext().traceId), 'ekm.v1.keys.rotate-key', SpanKind.SERVER);
    expect(server).toHaveLength(1);
    expect(parentOf(server[0]!)).toBe(client[0]!.spanContext().spanId);
  });
});
