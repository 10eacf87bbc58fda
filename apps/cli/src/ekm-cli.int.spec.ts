/**
 * The built CLI (`node bin/ekm.js`, jest's global setup builds dist/ when stale) against an in-process
 * keys service on real Postgres and a private nats-server: a shared server would let other suites' keys
 * instances (other databases) answer in the ekm-keys queue group.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ekm/config';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { createTestDatabase, urlFor } from '../../../test/support/pg';
import { startNats, stopServer, type ServerHandle } from '../../../test/support/servers';
import { KeysModule } from '../../keys/src/keys.module';

const ROOT = join(__dirname, '..', '..', '..');
let nats: ServerHandle;
let svc: ServiceApp;
let work: string;

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs the built CLI asynchronously (spawnSync would block the in-process service that must answer). */
function ekm(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ekm.js'), ...args], {
      cwd: work, env: { PATH: process.env.PATH ?? '', EKM_NATS_URL: nats.url, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs with --json, expects exit 0 and exactly one JSON document on stdout. */
async function ekmJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const r = await ekm([...args, '--json']);
  if (r.code !== 0) throw new Error(`ekm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ekm-cli-int-'));
  const [n, db] = await Promise.all([startNats(), createTestDatabase('ekm_cli')]);
  nats = n;
  const config = loadConfig('keys', {
    EKM_NATS_URL: nats.url, EKM_DATABASE_ADMIN_URL: db.url, EKM_DATABASE_URL: urlFor(db.name, 'ekm_keys'), EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled',
    EKM_DATA_DIR: join(work, 'data'), EKM_DELETION_MIN_DAYS: '0', EKM_ROOT_SECRET: 'cli-int-test-root-secret-0123',
  });
  svc = await startServiceApp({ config, module: KeysModule, logger: createLogger('keys', { level: 'silent' }) });
}, 60_000);

afterAll(async () => {
  await svc?.close();
  if (nats) await stopServer(nats);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('ekm against the keys service', () => {
  let keyId: string;

  it('key create --json prints the new key', async () => {
    const key = await ekmJson<{ keyId: string; status: string; requiredContext: object; tags: object }>(['key', 'create', '--tenant', 'acme', '--collection', 'docs', '--tag', 'env=test']);
    expect(key).toMatchObject({ status: 'Enabled', requiredContext: { collection: 'docs' }, tags: { env: 'test' } });
    keyId = key.keyId;
    const alias = `alias/docs-${randomUUID().slice(0, 8)}`;
    expect(await ekmJson<{ aliases: string[] }>(['key', 'alias', 'create', keyId, alias])).toMatchObject({ aliases: [alias] });
    expect(await ekmJson<{ keyId: string }>(['key', 'describe', alias])).toMatchObject({ keyId });
  });

  it('datakey generate --json gives a 32-byte DEK whose blob decrypts to it', async () => {
    const dk = await ekmJson<{ keyId: string; keyVersion: number; plaintext: string; ciphertextBlob: string }>(['datakey', 'generate', '--key', keyId, '--context', 'collection=docs']);
    expect(dk).toEqual({ keyId, keyVersion: 1, plaintext: expect.any(String), ciphertextBlob: expect.any(String) });
    expect(Buffer.from(dk.plaintext, 'base64')).toHaveLength(32);
    const dec = await ekmJson(['decrypt', '--blob', dk.ciphertextBlob, '--context', 'collection=docs']);
    expect(dec).toEqual({ keyId, keyVersion: 1, plaintext: dk.plaintext });
  });

  it('encrypt/decrypt round trip through a file, and people get the raw plaintext', async () => {
    const blobFile = join(work, 'msg.ekm');
    const enc = await ekmJson<{ ciphertextBlob: string }>(['encrypt', '--key', keyId, '--context', 'collection=docs', '--text', 'hello vectors', '--out', blobFile]);
    expect(readFileSync(blobFile)).toEqual(Buffer.from(enc.ciphertextBlob, 'base64'));
    const dec = await ekmJson<{ plaintext: string }>(['decrypt', '--key', keyId, '--in', blobFile, '--context', 'collection=docs']);
    expect(Buffer.from(dec.plaintext, 'base64').toString('utf8')).toBe('hello vectors');
    const human = await ekm(['decrypt', '--in', blobFile, '--context', 'collection=docs']);
    expect(human).toMatchObject({ code: 0, stdout: 'hello vectors' });
    const wrongContext = await ekm(['decrypt', '--in', blobFile, '--context', 'collection=other', '--json']);
    expect(wrongContext.code).toBe(1);
    expect(wrongContext.stdout).toBe('');
    expect(JSON.parse(wrongContext.stderr)).toEqual({ code: expect.stringMatching(/^EKM_(CONTEXT_MISMATCH|INVALID_CIPHERTEXT)$/), message: expect.any(String) });
  });

  it('rotate, then reencrypt moves a blob to the new primary version', async () => {
    const enc = await ekmJson<{ ciphertextBlob: string }>(['encrypt', '--key', keyId, '--context', 'collection=docs', '--text', 'x']);
    expect(await ekmJson<{ primaryVersion: number }>(['key', 'rotate', keyId])).toMatchObject({ primaryVersion: 2 });
    const re = await ekmJson(['reencrypt', '--blob', enc.ciphertextBlob, '--context', 'collection=docs']);
    expect(re).toMatchObject({ keyId, keyVersion: 2, sourceKeyId: keyId, sourceKeyVersion: 1 });
    const versions = await ekmJson<{ versions: unknown[] }>(['key', 'versions', keyId]);
    expect(versions.versions).toHaveLength(2);
  });

  it('reencrypt-dir re-wraps every blob file in place under the new primary; a bad file is listed and left alone (exit 1)', async () => {
    const dir = join(work, 'blobs');
    mkdirSync(dir);
    for (const name of ['a', 'b', 'c']) {
      await ekmJson(['encrypt', '--key', keyId, '--context', 'collection=docs', '--text', `text ${name}`, '--out', join(dir, `${name}.blob`)]);
    }
    writeFileSync(join(dir, 'junk.blob'), Buffer.from('not a blob at all'));
    writeFileSync(join(dir, 'notes.txt'), 'ignored: wrong suffix');
    const before = readFileSync(join(dir, 'a.blob'));
    expect(await ekmJson<{ primaryVersion: number }>(['key', 'rotate', keyId])).toMatchObject({ primaryVersion: 3 });

    const r = await ekm(['reencrypt-dir', dir, '--context', 'collection=docs', '--json']);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout) as { files: number; reencrypted: number; failed: number; failures: { file: string; code: string }[] };
    expect(summary).toMatchObject({ files: 4, reencrypted: 3, failed: 1 });
    expect(summary.failures).toEqual([expect.objectContaining({ file: 'junk.blob', code: 'EKM_INVALID_CIPHERTEXT' })]);
    expect(readFileSync(join(dir, 'junk.blob')).toString()).toBe('not a blob at all');
    expect(readFileSync(join(dir, 'a.blob')).equals(before)).toBe(false);
    for (const name of ['a', 'b', 'c']) {
      const dec = await ekmJson<{ keyVersion: number; plaintext: string }>(['decrypt', '--in', join(dir, `${name}.blob`), '--context', 'collection=docs']);
      expect(dec.keyVersion).toBe(3);
      expect(Buffer.from(dec.plaintext, 'base64').toString()).toBe(`text ${name}`);
    }
  });

  it('datakey-batch and decrypt-dir: N data keys in one call; a folder of blobs decrypted with failures listed (exit 1)', async () => {
    const batch = await ekmJson<{ items: { ok: boolean; keyId: string; plaintext: string; ciphertextBlob: string }[] }>(['datakey-batch', '--key', keyId, '--count', '3', '--context', 'collection=docs']);
    expect(batch.items).toHaveLength(3);
    expect(batch.items.every((i) => i.ok && i.keyId === keyId && Buffer.from(i.plaintext, 'base64').length === 32)).toBe(true);
    const dir = join(work, 'dek-blobs');
    mkdirSync(dir);
    batch.items.forEach((i, n) => writeFileSync(join(dir, `dek${n}.blob`), Buffer.from(i.ciphertextBlob, 'base64')));
    writeFileSync(join(dir, 'broken.blob'), Buffer.from('garbage'));
    const out = join(work, 'dek-plain');
    const r = await ekm(['decrypt-dir', dir, '--out-dir', out, '--context', 'collection=docs', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 4, decrypted: 3, failed: 1, failures: [expect.objectContaining({ file: 'broken.blob', code: 'EKM_INVALID_CIPHERTEXT' })] });
    batch.items.forEach((i, n) => expect(readFileSync(join(out, `dek${n}`)).equals(Buffer.from(i.plaintext, 'base64'))).toBe(true));
    const bad = await ekm(['datakey-batch', '--key', keyId, '--count', '101', '--json']);
    expect(bad.code).toBe(2);
  });

  it('BYOK: import params -> local wrap -> import material enables an EXTERNAL key', async () => {
    const ext = await ekmJson<{ keyId: string; status: string }>(['key', 'create', '--tenant', 'acme', '--origin', 'EXTERNAL']);
    expect(ext.status).toBe('PendingImport');
    const [pub, token, material, wrapped] = ['wrap.der', 'token.bin', 'material.bin', 'wrapped.bin'].map((f) => join(work, f));
    writeFileSync(material, randomBytes(32));
    const params = await ekmJson(['import', 'params', '--key', ext.keyId, '--algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--wrapping-spec', 'RSA_3072', '--public-key-out', pub, '--token-out', token]);
    expect(params).toMatchObject({ keyId: ext.keyId, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_3072' });
    await ekmJson(['import', 'wrap', '--public-key', pub, '--material', material, '--algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--out', wrapped]);
    expect(await ekmJson(['import', 'material', '--key', ext.keyId, '--token', token, '--material', wrapped])).toMatchObject({ status: 'Enabled', primaryVersion: 1 });
    const enc = await ekmJson<{ ciphertextBlob: string }>(['encrypt', '--key', ext.keyId, '--text', 'byok']);
    const reused = await ekm(['import', 'material', '--key', ext.keyId, '--token', token, '--material', wrapped, '--json']);
    expect(reused.code).toBe(1);
    expect(JSON.parse(reused.stderr).code).toMatch(/^EKM_/);
    expect(Buffer.from((await ekmJson<{ plaintext: string }>(['decrypt', '--blob', enc.ciphertextBlob])).plaintext, 'base64').toString()).toBe('byok');
  }, 60_000);

  it('mac generate/verify with an HMAC_256 key; a wrong MAC exits 1', async () => {
    const mk = await ekmJson<{ keyId: string }>(['key', 'create', '--tenant', 'acme', '--spec', 'HMAC_256']);
    const mac = await ekmJson<{ mac: string }>(['mac', 'generate', '--key', mk.keyId, '--text', 'order 42']);
    expect(await ekmJson(['mac', 'verify', '--key', mk.keyId, '--text', 'order 42', '--mac', mac.mac])).toMatchObject({ macValid: true });
    const bad = await ekm(['mac', 'verify', '--key', mk.keyId, '--text', 'order 43', '--mac', mac.mac, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ macValid: false });
  });
});

describe('ekm tenant root / set-external-root', () => {
  const secret = `never-echoed-${randomBytes(8).toString('hex')}`;
  it("shows where a tenant's root lives, and refuses an external KMS origin the keys service may not call, from a credentials file it never echoes", async () => {
    await ekmJson(['key', 'create', '--tenant', 'roots-cli']);
    expect(await ekmJson(['tenant', 'root', 'roots-cli'])).toMatchObject({ tenant: 'roots-cli', kind: 'LOCAL', epoch: expect.any(String) });
    const human = await ekm(['tenant', 'root', 'roots-cli']);
    expect(human.stdout).toMatch(/^tenant roots-cli: root under EKM's root of trust, epoch /);

    const creds = join(work, 'kms-creds.json');
    writeFileSync(creds, JSON.stringify({ accessKeyId: 'AKIDCLI', secretAccessKey: secret }), { mode: 0o600 });
    const args = ['tenant', 'set-external-root', 'roots-cli', '--endpoint', 'https://169.254.169.254', '--region', 'eu-west-1', '--key-id', 'k-1', '--credentials-file', creds, '--json'];
    const refused = await ekm(args);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toEqual({ code: 'EKM_VALIDATION', message: expect.stringContaining('EKM_XKS_ALLOWED_ENDPOINTS') });
    expect(await ekmJson(['tenant', 'root', 'roots-cli'])).toMatchObject({ kind: 'LOCAL' });

    // A malformed credentials file is a usage error naming the file, never its contents.
    writeFileSync(creds, `{"accessKeyId": "AKIDCLI", "secretAccessKey": ${JSON.stringify(secret)}`, { mode: 0o600 });
    const broken = await ekm(args);
    expect(broken.code).toBe(2);
    expect(JSON.parse(broken.stderr)).toMatchObject({ code: 'EKM_CLI_USAGE', message: expect.stringContaining(creds) });
    writeFileSync(creds, JSON.stringify({ accessKeyId: 'AKIDCLI', secret }), { mode: 0o600 });
    const incomplete = await ekm(args);
    expect(incomplete.code).toBe(2);
    expect(JSON.parse(incomplete.stderr).message).toMatch(/must hold the strings accessKeyId and secretAccessKey/);
    for (const r of [refused, broken, incomplete]) expect(r.stdout + r.stderr).not.toContain(secret);
  });
});

describe('exit codes', () => {
  it('an unknown key id exits 1 with EKM_KEY_NOT_FOUND on stderr', async () => {
    const r = await ekm(['key', 'describe', randomUUID(), '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({ code: 'EKM_KEY_NOT_FOUND', message: expect.any(String) });
    const human = await ekm(['datakey', 'generate', '--key', 'alias/no-such-alias']);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/^ekm: EKM_KEY_NOT_FOUND: /);
  });

  it('an unreachable NATS exits 3 with EKM_UNAVAILABLE', async () => {
    const closed = await startNats();
    await stopServer(closed); // a port that was just free and now has no server
    const r = await ekm(['--nats', closed.url, '--timeout', '2000', 'key', 'list', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stderr)).toEqual({ code: 'EKM_UNAVAILABLE', message: expect.stringContaining(closed.url) });
  });

  it('a usage error exits 2 before touching the bus', async () => {
    const r = await ekm(['encrypt', '--key', 'k', '--json'], { EKM_NATS_URL: 'nats://127.0.0.1:1' });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr).code).toBe('EKM_CLI_USAGE');
  });
});
