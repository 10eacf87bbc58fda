import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialFileError, generatePrincipalCredential, toCredentialFile } from '@ekm/auth';
import { resolveConnection } from './cli-connection';
import { classify, exitCodeOf } from './exit-codes';

const dir = (): string => mkdtempSync(join(tmpdir(), 'ekm-conn-'));
const stack = (root: string, body: object): void => {
  mkdirSync(join(root, '.ekm'), { recursive: true });
  writeFileSync(join(root, '.ekm', 'stack.json'), JSON.stringify(body));
};

describe('resolveConnection', () => {
  it('a valid credential file is read before connecting; its natsUrl is the last resort', () => {
    const d = dir();
    const file = join(d, 'app.credentials');
    const cred = toCredentialFile('p-1', generatePrincipalCredential(), 'nats://from-cred:4222');
    writeFileSync(file, JSON.stringify(cred), { mode: 0o600 });
    expect(resolveConnection({ credentials: file }, {}, d)).toMatchObject({ url: 'nats://from-cred:4222', source: 'credentials', credentials: cred, credentialsFile: file });
    expect(resolveConnection({ credentials: file, nats: 'nats://flag:1' }, {}, d)).toMatchObject({ url: 'nats://flag:1', source: 'flag' });
  });

  it('--nats-creds / EKM_NATS_CREDS: user, password and the per-user inbox prefix; a 0644 file is refused', () => {
    const d = dir();
    const login = join(d, 'cli.nats');
    writeFileSync(login, JSON.stringify({ user: 'cli', password: 'pw' }), { mode: 0o600 });
    expect(resolveConnection({ nats: 'nats://x:1', natsCreds: login }, {}, d)).toEqual({ url: 'nats://x:1', source: 'flag', user: 'cli', pass: 'pw', inboxPrefix: '_INBOX_cli' });
    expect(resolveConnection({ nats: 'nats://x:1', inboxPrefix: '_INBOX_mine' }, { EKM_NATS_CREDS: login }, d)).toMatchObject({ user: 'cli', inboxPrefix: '_INBOX_mine' });
    const open = join(d, 'open.nats');
    writeFileSync(open, JSON.stringify({ user: 'cli', password: 'pw' }), { mode: 0o644 });
    expect(() => resolveConnection({ nats: 'nats://x:1', natsCreds: open }, {}, d)).toThrow(expect.objectContaining({ code: 'EKM_CLI_CONFIG', message: expect.stringContaining(`chmod 600 ${open}`) }));
    const junk = join(d, 'junk.nats');
    writeFileSync(junk, '{"password":"x"}', { mode: 0o600 });
    expect(() => resolveConnection({ nats: 'nats://x:1', natsCreds: junk }, {}, d)).toThrow(expect.objectContaining({ code: 'EKM_CLI_CONFIG' }));
  });

  it('natsCredentials of stack.json (object or file relative to .ekm/) apply only with that stack\'s URL', () => {
    const a = dir();
    stack(a, { natsUrl: 'nats://stack:4222', natsCredentials: { user: 'cli', password: 'pw', inboxPrefix: '_INBOX_cli_a' } });
    expect(resolveConnection({}, {}, a)).toEqual({ url: 'nats://stack:4222', source: 'stack.json', user: 'cli', pass: 'pw', inboxPrefix: '_INBOX_cli_a' });
    expect(resolveConnection({ nats: 'nats://elsewhere:1' }, {}, a)).toEqual({ url: 'nats://elsewhere:1', source: 'flag' });
    const b = dir();
    stack(b, { natsUrl: 'nats://stack:4222', natsCredentials: 'nats/cli.json' });
    mkdirSync(join(b, '.ekm', 'nats'));
    writeFileSync(join(b, '.ekm', 'nats', 'cli.json'), JSON.stringify({ user: 'cli', password: 'pw2' }), { mode: 0o600 });
    expect(resolveConnection({}, {}, b)).toMatchObject({ user: 'cli', pass: 'pw2', inboxPrefix: '_INBOX_cli' });
  });
});

describe('classify', () => {
  it('maps usage, config, unavailable and service codes to exit 2, 4, 3, 1; a credential file error is config', () => {
    expect(['EKM_CLI_USAGE', 'EKM_CLI_CONFIG', 'EKM_UNAVAILABLE', 'EKM_TIMEOUT', 'EKM_RATE_LIMITED', 'EKM_KEY_NOT_FOUND'].map(exitCodeOf)).toEqual([2, 4, 3, 3, 3, 1]);
    expect(classify(new CredentialFileError('/x has mode 0644'))).toEqual({ code: 'EKM_CLI_CONFIG', message: 'credential file: /x has mode 0644', exitCode: 4 });
  });
});
