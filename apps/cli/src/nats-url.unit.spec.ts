import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './cli-error';
import { resolveNatsUrl } from './nats-url';

describe('resolveNatsUrl', () => {
  const root = mkdtempSync(join(tmpdir(), 'ekm-stack-'));
  const deep = join(root, 'a', 'b');
  mkdirSync(join(root, '.ekm'), { recursive: true });
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(root, '.ekm', 'stack.json'), JSON.stringify({ natsUrl: 'nats://stack:4333' }));
  const noStack = (): string => mkdtempSync(join(tmpdir(), 'ekm-nostack-'));

  it('prefers --nats, then EKM_NATS_URL, then the nearest .ekm/stack.json, then the credential file', () => {
    expect(resolveNatsUrl('nats://flag:1', { EKM_NATS_URL: 'nats://env:2' }, deep)).toEqual({ url: 'nats://flag:1', source: 'flag' });
    expect(resolveNatsUrl(undefined, { EKM_NATS_URL: 'nats://env:2' }, deep)).toEqual({ url: 'nats://env:2', source: 'env' });
    expect(resolveNatsUrl(undefined, {}, deep, 'nats://cred:5')).toEqual({ url: 'nats://stack:4333', source: 'stack.json', stackFile: join(root, '.ekm', 'stack.json') });
    expect(resolveNatsUrl(undefined, {}, noStack(), 'nats://cred:5')).toEqual({ url: 'nats://cred:5', source: 'credentials' });
  });

  it('never guesses: no flag, env, stack.json or credential URL is a configuration error (exit 4), not 127.0.0.1:4222', () => {
    let err: unknown;
    try {
      resolveNatsUrl(undefined, {}, noStack());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ code: 'EKM_CLI_CONFIG', message: expect.stringContaining('--nats') });
    expect((err as Error).message).not.toContain('4222');
  });

  it('skips a stack.json that is not JSON or has no natsUrl (after `npm run down` there is none)', () => {
    const bad = noStack();
    mkdirSync(join(bad, '.ekm'));
    writeFileSync(join(bad, '.ekm', 'stack.json'), '{half');
    expect(() => resolveNatsUrl(undefined, {}, bad)).toThrow(/no NATS URL/);
    writeFileSync(join(bad, '.ekm', 'stack.json'), JSON.stringify({ services: {} }));
    expect(() => resolveNatsUrl(undefined, {}, bad)).toThrow(/no NATS URL/);
  });
});
