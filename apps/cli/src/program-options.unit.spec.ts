/**
 * The command line itself without a bus: version vs. a command's --version, help paths, output
 * formats, one stream per outcome, alias resolution for rotation and audit, config exit codes.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { EkmApi } from './cli-context';
import { CliContext } from './cli-context';
import { buildProgram, CLI_VERSION, runCli } from './program';
import { sampleKey } from './output.unit.spec';

type Calls = Array<[string, unknown[]]>;
type Overrides = Record<string, (...args: unknown[]) => unknown>;

/** keys, crypto, rotation, audit and policy clients in one recording fake. */
function fakeApi(calls: Calls, overrides: Overrides): EkmApi {
  const handler = (name: string) => async (...args: unknown[]) => {
    calls.push([name, args]);
    if (overrides[name]) return overrides[name](...args);
    return sampleKey({ keyId: 'k-resolved' });
  };
  const client = new Proxy({}, { get: (_t, name: string) => (name === 'then' ? undefined : handler(name)) });
  return { keys: client, crypto: client, rotation: client, audit: client, policy: client, close: async () => undefined } as unknown as EkmApi;
}

async function run(argv: string[], overrides: Overrides = {}, env: NodeJS.ProcessEnv = { EKM_NATS_URL: 'nats://test:4222' }, cwd = mkdtempSync(join(tmpdir(), 'ekm-cli-'))) {
  const calls: Calls = [];
  let out = '';
  let err = '';
  let connected = false;
  const code = await runCli(argv, {
    io: { stdout: (s) => { out += s.toString(); }, stderr: (s) => { err += s; } }, env, cwd,
    connect: async () => { connected = true; return fakeApi(calls, overrides); },
  });
  return { code, out, err, calls, connected };
}

const rewrap = { keyId: 'k-resolved', primaryVersion: 2, totalAssets: 3, onPrimary: 1, rewrappedShare: 1 / 3, byVersion: [{ version: 1, assets: 2 }], version: { version: 1, total: 2, assets: [] } };

describe('--version', () => {
  it('ekm --version and ekm -V print the CLI version', async () => {
    for (const argv of [['--version'], ['-V'], ['--json', '--version']]) {
      const r = await run(argv);
      expect(r).toMatchObject({ code: 0, out: `${CLI_VERSION}\n`, connected: false });
    }
  });
  it('after the command word --version is the command\'s own option: the help\'s example `rotation rewrap --key K --version 1` works', async () => {
    const r = await run(['rotation', 'rewrap', '--key', 'k1', '--version', '1', '--json'], { rewrapStatus: () => rewrap });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([['rewrapStatus', [{ keyId: 'k1', version: 1 }]]]);
    expect(JSON.parse(r.out)).toMatchObject({ keyId: 'k-resolved', version: { version: 1 } });
  });
  it('no subcommand option shadows a root option (the cause of the --version bug)', () => {
    const root = buildProgram(new CliContext({ io: { stdout: () => undefined, stderr: () => undefined }, env: {}, cwd: tmpdir() }));
    const rootFlags = new Set(root.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
    const clashes: string[] = [];
    const walk = (cmd: Command, path: string): void => {
      for (const o of cmd.options) for (const f of [o.long, o.short]) if (f && rootFlags.has(f)) clashes.push(`${path} ${f}`);
      for (const sub of cmd.commands) walk(sub, `${path} ${sub.name()}`);
    };
    for (const sub of root.commands) walk(sub, sub.name());
    expect(clashes).toEqual([]);
  });
});

describe('ekm help <command path>', () => {
  it('ekm help key create shows the help of key create, not of key', async () => {
    const r = await run(['help', 'key', 'create']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: ekm key create');
    expect(r.out).toContain('--tenant <tenant>');
  });
  it('ekm help alone shows the root help', async () => {
    const r = await run(['help']);
    expect(r.out).toContain('Usage: ekm');
    expect(r.out).toContain('help [command...]');
  });
});

describe('rotation and audit resolve aliases', () => {
  it('rotation rewrap --key alias/x asks the keys service which key the alias names, then the rotation service by id', async () => {
    const r = await run(['rotation', 'rewrap', '--key', 'alias/x', '--json'], { rewrapStatus: () => rewrap });
    expect(r.calls).toEqual([['describeKey', ['alias/x']], ['rewrapStatus', [{ keyId: 'k-resolved' }]]]);
  });
  it('audit query --key alias/x and audit report --key alias/x query by key id', async () => {
    const q = await run(['audit', 'query', '--key', 'alias/x', '--json'], { query: () => ({ entries: [], nextCursor: null }) });
    expect(q.calls).toEqual([['describeKey', ['alias/x']], ['query', [{ keyId: 'k-resolved', order: 'desc' }]]]);
    const report = { report: { rows: [], trail: { treeSize: 0, root: 'r' } }, keyId: 'sig', signature: 's' };
    const rep = await run(['audit', 'report', '--from', '2026-01-01T00:00:00Z', '--to', '2026-02-01T00:00:00Z', '--key', 'alias/x', '--json'], { report: () => report });
    expect(rep.calls[1]).toEqual(['report', [{ from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z', keyId: 'k-resolved' }]]);
  });
  it('a key id is passed through without a describe', async () => {
    const r = await run(['rotation', 'rewrap', '--key', 'k-1', '--json'], { rewrapStatus: () => rewrap });
    expect(r.calls.map((c) => c[0])).toEqual(['rewrapStatus']);
  });
});

describe('audit query order', () => {
  it('--limit 5 asks for the newest five (desc); --asc for the oldest; both is a usage error', async () => {
    const page = { entries: [], nextCursor: null };
    expect((await run(['audit', 'query', '--limit', '5', '--json'], { query: () => page })).calls).toEqual([['query', [{ limit: 5, order: 'desc' }]]]);
    expect((await run(['audit', 'query', '--limit', '5', '--asc', '--json'], { query: () => page })).calls).toEqual([['query', [{ limit: 5, order: 'asc' }]]]);
    const both = await run(['audit', 'query', '--asc', '--desc', '--json']);
    expect(both).toMatchObject({ code: 2, connected: false });
  });
});

describe('--output json|yaml|table', () => {
  it('yaml prints one YAML document equal to the JSON one', async () => {
    const json = await run(['key', 'describe', 'k1', '--json']);
    const yaml = await run(['key', 'describe', 'k1', '--output', 'yaml']);
    expect(yaml.code).toBe(0);
    expect(parseYaml(yaml.out)).toEqual(JSON.parse(json.out));
    expect((await run(['-o', 'json', 'key', 'describe', 'k1'])).out).toBe(json.out);
    expect((await run(['key', 'describe', 'k1', '--output=json'])).out).toBe(json.out);
  });
  it('errors come in the asked format on stderr, nothing on stdout', async () => {
    const r = await run(['key', 'describe', 'k1', '--output', 'yaml'], { describeKey: () => { throw Object.assign(new Error('key k1 does not exist'), { code: 'x' }); } });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(parseYaml(r.err)).toMatchObject({ code: 'EKM_INTERNAL' });
    const usage = await run(['key', 'create', '--output', 'yaml']);
    expect(parseYaml(usage.err)).toMatchObject({ code: 'EKM_CLI_USAGE' });
  });
  it('an unknown format or --json with --output yaml is a usage error before connecting', async () => {
    for (const argv of [['key', 'describe', 'k1', '--output', 'xml'], ['key', 'describe', 'k1', '--json', '--output', 'yaml']]) {
      expect(await run(argv)).toMatchObject({ code: 2, connected: false });
    }
  });
});

describe('a partial failure writes to one stream', () => {
  const results = () => [
    { ok: true, value: { keyId: 'k1', keyVersion: 1, plaintext: Buffer.alloc(32, 1), ciphertextBlob: Buffer.from('b') } },
    { ok: false, error: { code: 'EKM_KEY_NOT_ACTIVE', message: 'key k1 is Disabled' } },
  ];
  it('--json: the result document (with the failed items) on stdout, nothing on stderr, exit 1', async () => {
    const r = await run(['datakey-batch', '--key', 'k1', '--count', '2', '--json'], { generateDataKeyBatch: results });
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out).items).toEqual([expect.objectContaining({ ok: true }), { ok: false, error: { code: 'EKM_KEY_NOT_ACTIVE', message: 'key k1 is Disabled' } }]);
  });
  it('people: the result on stdout and a one-line summary on stderr, exit 1', async () => {
    const r = await run(['datakey-batch', '--key', 'k1', '--count', '2'], { generateDataKeyBatch: results });
    expect(r.code).toBe(1);
    expect(r.err).toBe('ekm: EKM_KEY_NOT_ACTIVE: 1 of 2 data keys failed\n');
    expect(r.out).toContain('item 1: EKM_KEY_NOT_ACTIVE');
  });
});

describe('policy actions', () => {
  it('policy put with keys:Decryptt is a usage error naming the valid actions; nothing is sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekm-policy-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify({ statements: [{ sid: 's', effect: 'allow', roles: ['app'], actions: ['keys:Decryptt'], resources: ['*'] }] }));
    const r = await run(['policy', 'put', file, '--tenant', 'acme', '--json']);
    expect(r).toMatchObject({ code: 2, out: '', connected: false });
    const { message } = JSON.parse(r.err) as { message: string };
    expect(message).toContain('statements[0].actions[0]: keys:Decryptt is not an action (did you mean keys:Decrypt?)');
    expect(message).toContain('keys:GenerateDataKey');
  });
  it('policy simulate --action keys:Decryptt is refused before connecting', async () => {
    const r = await run(['policy', 'simulate', '--principal', 'p', '--action', 'keys:Decryptt', '--json']);
    expect(r).toMatchObject({ code: 2, connected: false });
  });
});

describe('configuration errors (exit 4, nothing sent)', () => {
  it('no NATS URL anywhere: EKM_CLI_CONFIG, never a connection to a guessed server', async () => {
    const r = await run(['key', 'list', '--json'], {}, {});
    expect(r).toMatchObject({ code: 4, out: '', connected: false });
    expect(JSON.parse(r.err)).toMatchObject({ code: 'EKM_CLI_CONFIG', message: expect.stringContaining('never guesses') });
  });
  it('a 0644 or malformed credential file is EKM_CLI_CONFIG naming the file, not unavailable (3)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekm-cred-'));
    const open = join(dir, 'open.credentials');
    writeFileSync(open, '{}', { mode: 0o644 });
    const r = await run(['--credentials', open, 'key', 'list', '--json']);
    expect(r).toMatchObject({ code: 4, connected: false });
    expect(JSON.parse(r.err)).toMatchObject({ code: 'EKM_CLI_CONFIG', message: expect.stringContaining(`chmod 600 ${open}`) });
    const junk = join(dir, 'junk.credentials');
    writeFileSync(junk, 'not json', { mode: 0o600 });
    expect(JSON.parse((await run(['key', 'list', '--json'], {}, { EKM_NATS_URL: 'nats://x:1', EKM_CREDENTIALS: junk })).err)).toMatchObject({ code: 'EKM_CLI_CONFIG' });
    const human = await run(['--credentials', join(dir, 'missing'), 'key', 'list']);
    expect(human.code).toBe(4);
    expect(human.err).toMatch(/^ekm: EKM_CLI_CONFIG: credential file: cannot read credentials file .*missing: ENOENT\n$/);
  });
  it('the nearest .ekm/admin.credentials is found from a subfolder too', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ekm-checkout-'));
    mkdirSync(join(root, '.ekm'));
    mkdirSync(join(root, 'sub', 'dir'), { recursive: true });
    writeFileSync(join(root, '.ekm', 'admin.credentials'), '{}', { mode: 0o644 });
    const r = await run(['key', 'list'], {}, { EKM_NATS_URL: 'nats://x:1' }, join(root, 'sub', 'dir'));
    expect(r.code).toBe(4);
    expect(r.err).toContain(join(root, '.ekm', 'admin.credentials'));
  });
});

describe('tables and colour', () => {
  it('not a TTY: no ANSI codes and at most 100 columns, even for long values', async () => {
    const long = sampleKey({ description: 'd'.repeat(300) });
    const r = await run(['key', 'list'], { listKeys: () => ({ keys: [long, long], nextCursor: null }) });
    expect(r.out).not.toMatch(/\u001b\[/);
    expect(Math.max(...r.out.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(100);
    expect(r.out.replace(/[│\s]/g, '')).toContain('d'.repeat(50));
  });
});
