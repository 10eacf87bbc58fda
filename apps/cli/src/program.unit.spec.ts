/**
 * The command tree without a bus: argv -> SDK call (a recording fake) -> stdout/stderr/exit code.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EkmError } from '@ekm/client';
import type { EkmApi } from './cli-context';
import { runCli } from './program';
import { sampleKey } from './output.unit.spec';

type Calls = Array<[string, unknown[]]>;

function fakeApi(calls: Calls, overrides: Record<string, (...args: unknown[]) => unknown> = {}): EkmApi {
  const handler = (name: string) => async (...args: unknown[]) => {
    calls.push([name, args]);
    if (overrides[name]) return overrides[name](...args);
    return sampleKey();
  };
  const proxy = new Proxy({}, { get: (_t, name: string) => handler(name) });
  return {
    keys: proxy as EkmApi['keys'], crypto: proxy as EkmApi['crypto'], policy: proxy as EkmApi['policy'], rotation: proxy as EkmApi['rotation'],
    audit: proxy as EkmApi['audit'], client: proxy as EkmApi['client'], close: async () => undefined,
  };
}

async function run(argv: string[], overrides: Record<string, (...args: unknown[]) => unknown> = {}, env: NodeJS.ProcessEnv = { EKM_NATS_URL: 'nats://test:4222' }) {
  const calls: Calls = [];
  const out: Buffer[] = [];
  let err = '';
  let connectedTo: string | undefined;
  const code = await runCli(argv, {
    io: { stdout: (s) => out.push(Buffer.from(s)), stderr: (s) => { err += s; } },
    env, cwd: mkdtempSync(join(tmpdir(), 'ekm-cli-')),
    connect: async ({ url }) => { connectedTo = url; return fakeApi(calls, overrides); },
  });
  return { code, stdout: Buffer.concat(out), text: Buffer.concat(out).toString('utf8'), stderr: err, calls, connectedTo };
}

describe('ekm key', () => {
  it('create maps --collection to requiredContext, repeats --tag, and prints one JSON document', async () => {
    const r = await run(['key', 'create', '--tenant', 'acme', '--collection', 'docs', '--tag', 'env=prod', '--tag', 'team=search', '--description', 'D', '--json']);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([['createKey', [{ tenant: 'acme', spec: 'SYMMETRIC_DEFAULT', origin: 'EKM', description: 'D', tags: { env: 'prod', team: 'search' }, requiredContext: { collection: 'docs' } }]]]);
    expect(JSON.parse(r.text)).toEqual(sampleKey());
    expect(r.stderr).toBe('');
  });
  it('accepts global options before the command too and prints a table without --json', async () => {
    const r = await run(['--nats', 'nats://example:4222', 'key', 'describe', 'alias/acme-docs']);
    expect(r.connectedTo).toBe('nats://example:4222');
    expect(r.calls).toEqual([['describeKey', ['alias/acme-docs']]]);
    expect(r.text).toContain('Required context');
  });
  it.each([
    [['key', 'revoke', 'k1', '--reason', 'leak'], ['revokeKey', ['k1', 'leak']]],
    [['key', 'schedule-deletion', 'k1', '--days', '7'], ['scheduleKeyDeletion', ['k1', 7]]],
    [['key', 'schedule-deletion', 'k1'], ['scheduleKeyDeletion', ['k1', undefined]]],
    [['key', 'rotation', 'enable', 'k1', '--days', '90'], ['enableKeyRotation', ['k1', 90]]],
    [['key', 'alias', 'create', 'k1', 'alias/x'], ['createAlias', ['k1', 'alias/x']]],
    [['key', 'untag', 'k1', 'a', 'b'], ['untagKey', ['k1', ['a', 'b']]]],
    [['key', 'tag', 'k1', '--tag', 'a=1'], ['tagKey', ['k1', { a: '1' }]]],
    [['key', 'cancel-deletion', 'k1'], ['cancelKeyDeletion', ['k1']]],
  ])('%j calls the SDK', async (argv, call) => {
    const r = await run([...argv, '--json']);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([call]);
  });
  it('list --all follows cursors and passes the tag filter', async () => {
    let page = 0;
    const r = await run(['key', 'list', '--tag', 'env=prod', '--all', '--json'], {
      listKeys: () => (page++ === 0 ? { keys: [sampleKey()], nextCursor: 'c1' } : { keys: [sampleKey({ keyId: 'k2' })], nextCursor: null }),
    });
    expect(r.calls.map((c) => c[1][0])).toEqual([{ tag: { key: 'env', value: 'prod' } }, { tag: { key: 'env', value: 'prod' }, cursor: 'c1' }]);
    expect(JSON.parse(r.text).keys.map((k: { keyId: string }) => k.keyId)).toEqual([sampleKey().keyId, 'k2']);
  });
});

describe('data plane commands', () => {
  const dk = { keyId: 'k1', keyVersion: 2, plaintext: Buffer.from('p'.repeat(32)), ciphertextBlob: Buffer.from('blob') };
  it('datakey generate returns base64 fields and passes context and bytes', async () => {
    const r = await run(['datakey', 'generate', '--key', 'alias/a', '--context', 'collection=docs', '--bytes', '16', '--json'], { generateDataKey: () => ({ ...dk, plaintext: Buffer.from(dk.plaintext) }) });
    expect(r.calls).toEqual([['generateDataKey', [{ keyId: 'alias/a', encryptionContext: { collection: 'docs' }, numberOfBytes: 16 }]]]);
    expect(JSON.parse(r.text)).toEqual({ keyId: 'k1', keyVersion: 2, plaintext: dk.plaintext.toString('base64'), ciphertextBlob: 'YmxvYg==' });
  });
  it('datakey generate --no-plaintext never asks for the plaintext', async () => {
    const r = await run(['datakey', 'generate', '--key', 'k1', '--no-plaintext', '--json'], { generateDataKeyWithoutPlaintext: () => ({ keyId: 'k1', keyVersion: 1, ciphertextBlob: Buffer.from('b') }) });
    expect(r.calls.map((c) => c[0])).toEqual(['generateDataKeyWithoutPlaintext']);
    expect(JSON.parse(r.text)).toEqual({ keyId: 'k1', keyVersion: 1, ciphertextBlob: 'Yg==' });
  });
  it('encrypt --text sends UTF-8 bytes; decrypt --blob prints the raw plaintext for people', async () => {
    const enc = await run(['encrypt', '--key', 'k1', '--context', 'c=d', '--text', 'héllo', '--json'], { encrypt: (i) => ({ keyId: 'k1', keyVersion: 1, ciphertextBlob: Buffer.from((i as { plaintext: Buffer }).plaintext) }) });
    expect(JSON.parse(enc.text)).toEqual({ keyId: 'k1', keyVersion: 1, ciphertextBlob: Buffer.from('héllo').toString('base64') });
    const dec = await run(['decrypt', '--context', 'c=d', '--blob', 'YmxvYg=='], { decrypt: () => ({ keyId: 'k1', keyVersion: 1, plaintext: Buffer.from([0, 255, 1]) }) });
    expect(dec.calls).toEqual([['decrypt', [{ ciphertextBlob: Buffer.from('blob'), encryptionContext: { c: 'd' } }]]]);
    expect(dec.stdout).toEqual(Buffer.from([0, 255, 1]));
  });
  it('decrypt --in reads the raw blob file and --out writes the plaintext file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekm-cli-'));
    writeFileSync(join(dir, 'b.ekm'), Buffer.from([1, 2, 3]));
    const r = await run(['decrypt', '--key', 'k1', '--in', join(dir, 'b.ekm'), '--out', join(dir, 'p.txt'), '--json'], { decrypt: () => ({ keyId: 'k1', keyVersion: 1, plaintext: Buffer.from('secret') }) });
    expect(r.calls[0][1][0]).toEqual({ ciphertextBlob: Buffer.from([1, 2, 3]), keyId: 'k1' });
    expect(readFileSync(join(dir, 'p.txt'), 'utf8')).toBe('secret');
    expect(JSON.parse(r.text)).toEqual({ keyId: 'k1', keyVersion: 1, plaintext: Buffer.from('secret').toString('base64') });
  });
  it('mac verify exits 1 for a wrong MAC but still prints the answer', async () => {
    const r = await run(['mac', 'verify', '--key', 'k1', '--text', 'm', '--mac', 'AAAA', '--json'], { verifyMac: () => ({ keyId: 'k1', keyVersion: null, macValid: false, macAlgorithm: 'HMAC_SHA_256' }) });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.text)).toMatchObject({ macValid: false });
  });
});

describe('errors and exit codes', () => {
  it('a service error exits 1 with {code, message} on stderr and nothing on stdout', async () => {
    const r = await run(['key', 'describe', 'nope', '--json'], { describeKey: () => { throw new EkmError({ code: 'EKM_KEY_NOT_FOUND', message: 'key nope does not exist' }); } });
    expect(r.code).toBe(1);
    expect(r.text).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({ code: 'EKM_KEY_NOT_FOUND', message: 'key nope does not exist' });
  });
  it('timeouts and unavailability exit 3', async () => {
    const r = await run(['key', 'describe', 'k'], { describeKey: () => { throw new EkmError({ code: 'EKM_TIMEOUT', message: 'no reply' }); } });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('ekm: EKM_TIMEOUT: no reply\n');
  });
  it.each([
    [['key', 'create', '--json']],
    [['encrypt', '--key', 'k', '--text', 'a', '--in', 'f', '--json']],
    [['datakey', 'generate', '--key', 'k', '--bytes', '0', '--json']],
    [['datakey', 'generate', '--key', 'k', '--context', 'novalue', '--json']],
    [['key', 'create', '--tenant', 't', '--spec', 'DES', '--json']],
    [['nosuchcommand', '--json']],
    [['decrypt', '--context', 'x', '--blob', 'YmxvYg==', '--json']],
    [['encrypt', '--key', 'k', '--context', 'a=1', '--context', 'a=2', '--text', 't', '--json']],
    [['mac', 'verify', '--key', 'k', '--text', 't', '--mac', '!!', '--json']],
  ])('usage error %j exits 2 with a JSON error and never connects', async (argv) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.connectedTo).toBeUndefined();
    expect(JSON.parse(r.stderr)).toMatchObject({ code: 'EKM_CLI_USAGE', message: expect.any(String) });
  });
  it('--help exits 0 and shows an example', async () => {
    const r = await run(['datakey', 'generate', '--help']);
    expect(r.code).toBe(0);
    expect(r.text).toContain('Examples:\n  $ ekm datakey generate');
  });
  it('uses EKM_NATS_URL when --nats is absent', async () => {
    expect((await run(['key', 'describe', 'k'], {}, { EKM_NATS_URL: 'nats://env:4222' })).connectedTo).toBe('nats://env:4222');
  });
});
