/**
 * The AWS KMS-compatible API with clients no one here wrote, beyond the SDK's operation calls: the AWS
 * Encryption SDK (KMS keyring pointed at EKM), SigV4 refusals (each with AWS's exception name, recorded
 * as AuthenticationFailed, nothing done), access-key rotation and revocation, and the `aws` CLI driving
 * the README's commands with a shared credentials file written by `ekm principal access-key create`.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateKeyCommand, ListKeysCommand, type KMSClient } from '@aws-sdk/client-kms';
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { IssuedAccessKey } from '@ekm/client';
import { startKmsStack, type KmsStack } from './kms-api.support';
import { scaled } from '../support/wait-for';
import { USAGE_RECORDS } from '../support/usage-records';

const run = promisify(execFile);

/** The hash/HMAC constructor SignatureV4 wants (AWS's own signer; only the digest is ours). */
type Bytes = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (d: Bytes): Buffer => (typeof d === 'string' ? Buffer.from(d) : d instanceof ArrayBuffer ? Buffer.from(d) : Buffer.from(d.buffer, d.byteOffset, d.byteLength));

class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: Bytes) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(this.secret));
  }
  update(data: Bytes): void {
    this.h.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.fresh();
  }
}

async function refusal(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected a refusal');
}

async function keyCount(stack: KmsStack): Promise<number> {
  const r = await stack.keysDb.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_keys.events WHERE event_type = 'KeyCreated'`);
  return Number(r.rows[0]!.n);
}

/** AuthenticationFailed records of the policy service for `accessKeyId`, waited for (recorded asynchronously). */
async function refusalsOf(stack: KmsStack, accessKeyId: string, count: number): Promise<string[]> {
  const deadline = Date.now() + scaled(20_000);
  for (;;) {
    const r = await stack.policy.db.query<{ reason: string }>(
      `SELECT data->>'reason' AS reason FROM ekm_policy.events WHERE event_type = 'AuthenticationFailed' AND data->>'accessKeyId' = $1 AND data->>'via' = 'kms-api' ORDER BY global_position`, [accessKeyId]);
    if (r.rows.length >= count || Date.now() > deadline) return r.rows.map((x) => x.reason);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('AWS KMS-compatible API with the Encryption SDK, raw SigV4 and the aws CLI', () => {
  let stack: KmsStack;
  let principalId: string;
  let key: IssuedAccessKey;
  let kms: KMSClient;

  beforeAll(async () => {
    stack = await startKmsStack();
    ({ principalId, key } = await stack.principal('tenant-c'));
    kms = stack.kms(key);
  }, 120_000);

  afterAll(async () => {
    kms?.destroy();
    await stack?.stop();
  });

  it('AWS Encryption SDK: a KMS keyring whose client points at EKM encrypts and decrypts with a context; an altered context fails', async () => {
    const arn = (await kms.send(new CreateKeyCommand({ Description: 'esdk' }))).KeyMetadata!.Arn!;
    const client = stack.kmsAggregated(key);
    const keyring = new KmsKeyringNode({ generatorKeyId: arn, clientProvider: () => client as never });
    const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const context = { collection: 'docs', tenant: 'tenant-c' };
    const { result } = await encrypt(keyring, Buffer.from('vector payload'), { encryptionContext: context });
    const out = await decrypt(keyring, result);
    expect(out.plaintext.toString()).toBe('vector payload');
    expect(out.messageHeader.encryptionContext).toMatchObject(context);
    // Same length, other value: the header is re-read, and EKM refuses the data key under that context.
    const at = result.indexOf(Buffer.from('docs'));
    expect(at).toBeGreaterThan(0);
    const altered = Buffer.from(result);
    altered.write('dock', at);
    await expect(decrypt(keyring, altered)).rejects.toThrow();
    const failed = await stack.keysDb.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${USAGE_RECORDS} WHERE data->>'operation' = 'Decrypt' AND data->>'outcome' <> 'ALLOWED' AND data->>'via' = 'kms-api' AND data->'encryptionContext'->>'collection' = 'dock'`);
    expect(Number(failed.rows[0]!.n)).toBeGreaterThanOrEqual(1);
    client.destroy();
  }, 60_000);

  it('refuses a bad signature, an unknown key and a clock skew over 5 minutes with AWS exception names, records each, does nothing', async () => {
    const before = await keyCount(stack);
    const bad = stack.kms({ accessKeyId: key.accessKeyId, secretAccessKey: `${key.secretAccessKey.slice(0, -1)}${key.secretAccessKey.endsWith('A') ? 'B' : 'A'}` });
    expect(await refusal(bad.send(new CreateKeyCommand({})))).toEqual({ name: 'InvalidSignatureException', status: 400 });
    const unknown = stack.kms({ accessKeyId: 'AKIAZZZZZZZZZZZZZZZZ', secretAccessKey: key.secretAccessKey });
    expect(await refusal(unknown.send(new CreateKeyCommand({})))).toEqual({ name: 'UnrecognizedClientException', status: 400 });
    const skewed = stack.kms(key, { systemClockOffset: -6 * 60_000 });
    expect(await refusal(skewed.send(new CreateKeyCommand({})))).toEqual({ name: 'InvalidSignatureException', status: 400 });
    for (const c of [bad, unknown, skewed]) c.destroy();
    expect(await keyCount(stack)).toBe(before);
    expect(await refusalsOf(stack, key.accessKeyId, 2)).toEqual(['SIGNATURE_INVALID', 'TIMESTAMP_SKEW']);
    expect(await refusalsOf(stack, 'AKIAZZZZZZZZZZZZZZZZ', 1)).toEqual(['ACCESS_KEY_UNKNOWN']);
  }, 60_000);

  it('refuses a replayed request (same signature inside the window): the key is created once', async () => {
    const url = new URL(stack.endpoint);
    const signer = new SignatureV4({ service: 'kms', region: 'us-east-1', sha256: NodeSha256, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    const body = JSON.stringify({ Description: 'replayed' });
    const signed = await signer.sign({
      method: 'POST', protocol: 'https:', hostname: url.hostname, port: Number(url.port), path: '/', body,
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.CreateKey' },
    });
    const send = (): Promise<{ status: number; body: { __type?: string } }> => new Promise((res, rej) => {
      const req = request({ method: 'POST', host: url.hostname, port: url.port, path: '/', headers: signed.headers, ca: stack.caPem }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) as { __type?: string } }));
      });
      req.on('error', rej);
      req.end(body);
    });
    const before = await keyCount(stack);
    expect((await send()).status).toBe(200);
    expect(await send()).toEqual({ status: 400, body: expect.objectContaining({ __type: 'InvalidSignatureException' }) });
    expect(await keyCount(stack)).toBe(before + 1);
    expect(await refusalsOf(stack, key.accessKeyId, 3)).toContain('REPLAYED');
  }, 60_000);

  it('rotates access keys (a second key works, the deleted first is refused at once) and lists them without secrets', async () => {
    const { principalId: p, key: first } = await stack.principal('tenant-c');
    const second = await stack.admin.createAccessKey(p);
    expect(second.secretAccessKey).toHaveLength(40);
    expect(second.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    await expect(stack.admin.createAccessKey(p)).rejects.toMatchObject({ code: 'EKM_CONFLICT' });
    const c1 = stack.kms(first);
    const c2 = stack.kms(second);
    await c1.send(new ListKeysCommand({}));
    await stack.admin.deleteAccessKey(first.accessKeyId, 'rotated');
    expect(await refusal(c1.send(new ListKeysCommand({})))).toEqual({ name: 'UnrecognizedClientException', status: 400 });
    await c2.send(new ListKeysCommand({}));
    const listed = await stack.admin.listAccessKeys(p);
    expect(listed.map((k) => [k.accessKeyId, k.status]).sort()).toEqual([[first.accessKeyId, 'Deleted'], [second.accessKeyId, 'Active']].sort());
    expect(JSON.stringify(listed)).not.toContain(second.secretAccessKey);
    expect(await refusalsOf(stack, first.accessKeyId, 1)).toEqual(['ACCESS_KEY_REVOKED']);
    const stored = await stack.policy.db.query<{ wrapped_secret: Buffer | null }>('SELECT wrapped_secret FROM ekm_policy.access_keys WHERE access_key_id = $1', [second.accessKeyId]);
    expect(stored.rows[0]!.wrapped_secret!.includes(Buffer.from(second.secretAccessKey))).toBe(false);
    const events = await stack.policy.db.query<{ data: string; metadata: string }>('SELECT data::text, metadata::text FROM ekm_policy.events');
    expect(events.rows.some((r) => r.data.includes(second.secretAccessKey.slice(0, 20)) || r.metadata.includes(second.secretAccessKey.slice(0, 20)))).toBe(false);
    c1.destroy();
    c2.destroy();
    void principalId;
  }, 60_000);

  const awsCli = existsSync('/usr/bin/aws') || process.env.PATH?.split(':').some((d) => existsSync(join(d, 'aws')));
  (awsCli ? it : it.skip)('the aws CLI runs the README commands with the profile `ekm principal access-key create` wrote', async () => {
    const cliMain = resolve(__dirname, '../../dist/apps/cli/src/main.js');
    expect(existsSync(cliMain)).toBe(true);
    // An operator admin with a credential file, as `npm run up` has (.ekm/admin.credentials).
    const { principal, credential } = await stack.admin.createPrincipal({ tenant: '*', roles: ['admin'], name: 'cli-admin' });
    const credFile = join(stack.dir, 'admin.credentials');
    writeFileSync(credFile, JSON.stringify({ ...credential, natsUrl: stack.policy.natsUrl }), { mode: 0o600 });
    mkdirSync(join(stack.dir, 'aws'), { recursive: true });
    const awsFile = join(stack.dir, 'aws', 'credentials');
    await run(process.execPath, [cliMain, '--credentials', credFile, '--nats', stack.policy.natsUrl, 'principal', 'access-key', 'create', principal.principalId, '--aws-credentials-file', awsFile, '--profile', 'ekm']);
    expect(statSync(awsFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(awsFile, 'utf8')).toMatch(/^\[ekm\]\naws_access_key_id = AKIA[A-Z2-7]{16}\naws_secret_access_key = \S{40}\n$/);
    const env = { ...process.env, AWS_SHARED_CREDENTIALS_FILE: awsFile, AWS_PROFILE: 'ekm', AWS_CA_BUNDLE: stack.caFile, AWS_CONFIG_FILE: '/dev/null', AWS_PAGER: '' };
    const aws = async (...args: string[]): Promise<Record<string, string>> => {
      const { stdout } = await run('aws', ['kms', '--endpoint-url', stack.endpoint, '--region', 'us-east-1', '--output', 'json', ...args], { env });
      return JSON.parse(stdout || '{}') as Record<string, string>;
    };
    await aws('list-keys');
    const created = (await aws('create-key', '--description', 'cli')) as unknown as { KeyMetadata: { KeyId: string } };
    const keyId = created.KeyMetadata.KeyId;
    const dk = await aws('generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256', '--encryption-context', 'collection=docs');
    const blobFile = join(stack.dir, 'blob.bin');
    writeFileSync(blobFile, Buffer.from(dk.CiphertextBlob!, 'base64'));
    const back = await aws('decrypt', '--ciphertext-blob', `fileb://${blobFile}`, '--encryption-context', 'collection=docs');
    expect(back.Plaintext).toBe(dk.Plaintext);
    const wrong = await aws('decrypt', '--ciphertext-blob', `fileb://${blobFile}`, '--encryption-context', 'collection=other').then(() => null, (e: { stderr: string }) => e.stderr);
    expect(wrong).toMatch(/InvalidCiphertextException/);
  }, 240_000);
});
