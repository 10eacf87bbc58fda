/**
 * The bus contract end to end: every subject of every service (OPERATIONS) is called once against the
 * real stack (nats-server with JetStream, Postgres, the policy, keys, rotation and audit services with
 * EKM_AUTH=required and the policy authorizer: kms-api.support.ts), with a valid request, and each
 * success reply's `data` is parsed with that subject's reply schema (infra/bus-api/bus-api.replies.ts).
 * The schemas are strict: a field a handler adds or drops fails here. The last test fails when an
 * operation of OPERATIONS was neither exercised here nor listed in COVERED_ELSEWHERE, so a new subject
 * needs a case.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { agreementKeyPair, signLoginRequest, sigV4Scope, sigV4Signature, type CredentialFile } from '@ekm/auth';
import { wrapKeyMaterial, type EkmClient } from '@ekm/client';
import { OPERATIONS, SERVICES, subject, type Operation, type Reply, type ServiceName } from '@ekm/contracts';
import { replySchemaOf } from '../../infra/bus-api/bus-api.replies';
import { scaled, waitFor } from '../support/wait-for';
import { REGION, startKmsStack, type KmsStack } from './kms-api.support';

jest.setTimeout(scaled(120_000));

/**
 * Subjects that cannot succeed on this stack, with the spec that calls them on a real stack and parses
 * their success reply with the same strict reply schema. Keep it short.
 */
const COVERED_ELSEWHERE: Readonly<Record<string, string>> = {};

type Data = Record<string, unknown>;

describe('bus contract: every subject, real stack, strict reply schemas (e2e)', () => {
  let stack: KmsStack;
  let operator: EkmClient;
  let keysService: EkmClient;
  const parsed = new Set<string>();
  const tenant = `bc${randomUUID().slice(0, 8)}`;
  const ctx = { collection: 'docs', asset: 'contract' };

  /** Parses `data` strictly with the reply schema of service.op and records the subject as exercised. */
  const check = (service: ServiceName, op: string, data: unknown): Data => {
    const schema = replySchemaOf(service, op);
    if (schema === undefined) throw new Error(`${service}.${op} has no reply schema`);
    const result = schema.safeParse(data);
    // Only the issue paths and messages: a reply may hold key material or secrets, never printed.
    if (!result.success) throw new Error(`${service}.${op}: reply does not match its schema: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    parsed.add(`${service}.${op}`);
    return data as Data;
  };
  /** A signed call (by `client`, the operator by default); a refusal fails with the subject named. */
  const call = async <S extends ServiceName>(service: S, op: Operation<S>, body: unknown, client: EkmClient = operator): Promise<Data> => {
    let data: unknown;
    try {
      data = await client.call<unknown>(service, op, body);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new Error(`${service}.${op} failed: ${e.code ?? ''} ${e.message ?? String(err)}`);
    }
    return check(service, op, data);
  };
  /** An unsigned request (the two login subjects need no session); the reply's data parsed strictly. */
  const unsigned = async (op: 'login' | 'access-key-login', body: unknown): Promise<Data> => {
    const r = (await stack.policy.nc.request(subject('policy', op), JSON.stringify(body), { timeout: 20_000 })).json<Reply<unknown>>();
    if (!r.ok) throw new Error(`policy.${op} failed: ${r.error.code} ${r.error.message}`);
    return check('policy', op, r.data);
  };
  const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
  const createKey = async (body: Data = {}): Promise<string> => (await call('keys', 'create-key', { tenant, ...body })).keyId as string;

  let keyId: string;
  let retiredKeyId: string;
  let destroyedKeyId: string;

  beforeAll(async () => {
    // A short epoch tick: the destroyed key's epoch roll (cited by its destruction receipt) lands quickly.
    // selfExternal: this stack's own AWS-compatible API may serve as a tenant's external root (set-tenant-root-external).
    stack = await startKmsStack({ rotation: true, selfExternal: true, keysEnv: { EKM_EPOCH_TICK_MS: '200' } });
    operator = await stack.operator();
    keysService = stack.service('keys');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('keys: every key, crypto, version, import and tenant subject', async () => {
    await call('keys', 'status', {});
    keyId = await createKey({ description: 'bus contract' });
    await call('keys', 'describe-key', { keyId });
    await call('keys', 'list-keys', { tenant });
    await call('keys', 'update-key-description', { keyId, description: 'bus contract, described' });
    const alias = `alias/bc-${randomUUID().slice(0, 8)}`;
    await call('keys', 'create-alias', { keyId, alias });
    await call('keys', 'delete-alias', { keyId, alias });
    await call('keys', 'tag-key', { keyId, tags: { team: 'contract' } });
    await call('keys', 'untag-key', { keyId, tagKeys: ['team'] });

    // Data plane.
    const dk = await call('keys', 'generate-data-key', { keyId, encryptionContext: ctx });
    await call('keys', 'generate-data-key-without-plaintext', { keyId, encryptionContext: ctx });
    const enc = await call('keys', 'encrypt', { keyId, plaintext: b64('bus contract'), encryptionContext: ctx });
    await call('keys', 'decrypt', { ciphertextBlob: enc.ciphertextBlob, encryptionContext: ctx });
    await call('keys', 're-encrypt', { ciphertextBlob: dk.ciphertextBlob, sourceEncryptionContext: ctx, destinationKeyId: keyId, destinationEncryptionContext: ctx });
    const batch = await call('keys', 'generate-data-key-batch', { items: [{ keyId, encryptionContext: ctx }], withPlaintext: true });
    const blob = (batch.items as { ciphertextBlob: string }[])[0]!.ciphertextBlob;
    await call('keys', 'decrypt-batch', { items: [{ ciphertextBlob: blob, encryptionContext: ctx }] });
    await call('keys', 're-encrypt-batch', { items: [{ ciphertextBlob: blob, sourceEncryptionContext: ctx, destinationKeyId: keyId, destinationEncryptionContext: ctx }] });
    const macKey = await createKey({ spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' });
    const message = b64('bus contract message');
    const mac = await call('keys', 'generate-mac', { keyId: macKey, message });
    await call('keys', 'verify-mac', { keyId: macKey, message, mac: mac.mac });

    // Lifecycle and rotation settings.
    await call('keys', 'rotate-key', { keyId });
    await call('keys', 'enable-key-rotation', { keyId, periodDays: 90 });
    await call('keys', 'get-key-rotation-status', { keyId });
    await call('keys', 'disable-key-rotation', { keyId });
    await call('keys', 'list-key-versions', { keyId });
    await call('keys', 'disable-key', { keyId });
    await call('keys', 'enable-key', { keyId });
    await call('keys', 'revoke-key', { keyId: await createKey(), reason: 'bus contract' });

    // Versions (unforced: the keys service asks the rotation service, which tracks no asset under version 1).
    retiredKeyId = await createKey();
    await call('keys', 'rotate-key', { keyId: retiredKeyId });
    await call('keys', 'disable-key-version', { keyId: retiredKeyId, version: 1 });
    await call('keys', 'enable-key-version', { keyId: retiredKeyId, version: 1 });
    await call('keys', 'disable-key-version', { keyId: retiredKeyId, version: 1 });
    await call('keys', 'destroy-key-version', { keyId: retiredKeyId, version: 1 });
    await call('keys', 'rotate-key', { keyId: retiredKeyId });
    await call('keys', 'mark-key-version-compromised', { keyId: retiredKeyId, version: 2, reason: 'bus contract' });

    // Deletion: scheduled and cancelled, then scheduled with no window and destroyed.
    destroyedKeyId = await createKey();
    await call('keys', 'schedule-key-deletion', { keyId: destroyedKeyId, pendingWindowDays: 7 });
    await call('keys', 'cancel-key-deletion', { keyId: destroyedKeyId });
    await call('keys', 'schedule-key-deletion', { keyId: destroyedKeyId, pendingWindowDays: 0 });
    await call('keys', 'destroy-key', { keyId: destroyedKeyId });

    // BYOK: one token expired (as the rotation scheduler does), a second one used with properly wrapped material.
    const imported = await createKey({ origin: 'EXTERNAL' });
    await call('keys', 'get-parameters-for-import', { keyId: imported, wrappingKeySpec: 'RSA_3072' });
    const { rows: [issued] } = await stack.keysDb.query<{ tokenId: string }>(
      `SELECT data->>'tokenId' AS "tokenId" FROM ekm_keys.events WHERE stream_id = $1 AND event_type = 'ImportParametersIssued' ORDER BY stream_position DESC LIMIT 1`, [`key-${imported}`]);
    await call('keys', 'expire-import-token', { keyId: imported, tokenId: issued!.tokenId }, stack.service('rotation'));
    const params = await call('keys', 'get-parameters-for-import', { keyId: imported, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_3072' });
    const material = randomBytes(32);
    const wrapped = wrapKeyMaterial(Buffer.from(params.publicKey as string, 'base64'), 'RSA_AES_KEY_WRAP_SHA_256', material);
    material.fill(0);
    await call('keys', 'import-key-material', { keyId: imported, importToken: params.importToken, encryptedKeyMaterial: b64(wrapped), wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });

    // Tenants: the root (moved to a key another tenant holds in this stack's own AWS-compatible API, as a
    // second EKM would hold it: test/e2e/kms-api-external-root.e2e.spec.ts), and the kill switch on a throwaway tenant.
    await call('keys', 'describe-tenant-root', { tenant });
    const holder = await stack.principal(`${tenant}-holder`);
    const external = (await stack.kms(holder.key).send(new CreateKeyCommand({ Description: 'external root' }))).KeyMetadata!.KeyId!;
    const root = await call('keys', 'set-tenant-root-external', {
      tenant: `${tenant}-hyok`, endpoint: stack.endpoint, region: REGION, keyId: external,
      credentials: { accessKeyId: holder.key.accessKeyId, secretAccessKey: holder.key.secretAccessKey }, caPem: stack.caPem.toString(),
    });
    expect(root).toMatchObject({ kind: 'EXTERNAL', external: { keyId: external } });
    expect(await call('keys', 'describe-tenant-root', { tenant: `${tenant}-hyok` })).toMatchObject({ kind: 'EXTERNAL' });
    const sealed = `${tenant}-seal`;
    await call('keys', 'seal-tenant', { tenant: sealed, reason: 'bus contract' });
    await call('keys', 'get-tenant-seal-status', { tenant: sealed });
    await call('keys', 'unseal-tenant', { tenant: sealed, reason: 'bus contract' });
  });

  it('policy: principals, credentials, logins, policies, decisions and access keys', async () => {
    await call('policy', 'status', {});
    const created = await call('policy', 'create-principal', { tenant, roles: ['app'], name: 'bus-contract' });
    const principalId = (created.principal as { principalId: string }).principalId;
    const credential = created.credential as CredentialFile;
    await call('policy', 'get-principal', { principalId });
    await call('policy', 'list-principals', { tenant });
    await unsigned('login', signLoginRequest(credential));
    await call('policy', 'rotate-credential', { principalId, graceSeconds: 0 });
    await call('policy', 'revoke-credential', { principalId, credentialId: credential.credentialId, reason: 'bus contract' });

    const policyId = `bc-${randomUUID().slice(0, 8)}`;
    const document = { statements: [{ sid: 'app', effect: 'allow', roles: ['app'], actions: ['keys:Encrypt'], resources: ['*'] }] };
    await call('policy', 'put-policy', { policyId, tenant, document, expectedVersion: 0 });
    await call('policy', 'get-policy', { policyId });
    await call('policy', 'list-policies', { tenant });
    const question = { principalId, action: 'keys:Encrypt', resource: { keyId, tenant }, encryptionContext: ctx };
    await call('policy', 'decide', question, keysService);
    await call('policy', 'simulate', question);

    const key = await call('policy', 'create-access-key', { principalId });
    await call('policy', 'list-access-keys', { principalId });
    // What the HTTPS edge sends after parsing a SigV4-signed request (as apps/kms-api does).
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const scope = { date: amzDate.slice(0, 8), region: 'us-east-1', service: 'kms' };
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, sigV4Scope(scope), 'ab'.repeat(32)].join('\n');
    await unsigned('access-key-login', {
      accessKeyId: key.accessKeyId, ...scope, stringToSign, signature: sigV4Signature(key.secretAccessKey as string, scope, stringToSign), clientKey: agreementKeyPair().publicKey,
    });
    await call('policy', 'delete-access-key', { accessKeyId: key.accessKeyId, reason: 'bus contract' });
    await call('policy', 'delete-policy', { policyId });
    await call('policy', 'revoke-principal', { principalId, reason: 'bus contract' });
  });

  it('rotation: status, re-wrap progress and the retirement check', async () => {
    await call('rotation', 'status', {});
    // The data keys above reach the rotation service's tracking asynchronously (JetStream).
    await waitFor(async () => ((await operator.call<{ totalAssets: number }>('rotation', 'rewrap-status', { keyId })).totalAssets > 0), { what: 'the re-wrap tracking of the key', intervalMs: 100 });
    await call('rotation', 'rewrap-status', { keyId });
    await call('rotation', 'rewrap-status', { keyId, version: 1 });
    await call('rotation', 'check-version-retirement', { keyId, version: 1 }, keysService);
  });

  it('audit: query, verify, report and the destruction receipt', async () => {
    await call('audit', 'status', {});
    await waitFor(async () => ((await operator.call<{ entries: unknown[] }>('audit', 'query', { tenant, limit: 10 })).entries.length > 0), { what: 'trail entries of the tenant', intervalMs: 100 });
    await call('audit', 'query', { tenant, limit: 10 });
    await call('audit', 'verify', {});
    const now = Date.now();
    await call('audit', 'report', { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 60_000).toISOString(), tenant });
    // The receipt needs KeyDestroyed and the epoch roll in the trail: NOT_FOUND / UNAVAILABLE until then.
    const receipt = await waitFor(async () => {
      try {
        return await operator.call<unknown>('audit', 'destruction-receipt', { keyId: destroyedKeyId });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'EKM_NOT_FOUND' || code === 'EKM_UNAVAILABLE') return undefined;
        throw err;
      }
    }, { what: 'the destruction receipt', timeoutMs: 30_000, intervalMs: 200 });
    check('audit', 'destruction-receipt', receipt);
  });

  it('every operation of every service was exercised above or is covered by the spec named in COVERED_ELSEWHERE', () => {
    const all = SERVICES.flatMap((s) => (OPERATIONS[s] as readonly string[]).map((op) => `${s}.${op}`));
    for (const name of Object.keys(COVERED_ELSEWHERE)) expect(all).toContain(name); // no stale entry
    expect(all.filter((name) => !parsed.has(name) && !(name in COVERED_ELSEWHERE))).toEqual([]);
    expect([...parsed].filter((name) => name in COVERED_ELSEWHERE)).toEqual([]); // an entry that now runs here goes
  });
});
