import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NATS_URL, resolveNatsUrl } from './nats-url';

describe('resolveNatsUrl', () => {
  const root = mkdtempSync(join(tmpdir(), 'ekm-stack-'));
  const deep = join(root, 'a', 'b');
  mkdirSync(join(root, '.ekm'), { recursive: true });
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(root, '.ekm', 'stack.json'), JSON.stringify({ natsUrl: 'nats://stack:4333' }));

  it('prefers --nats, then EKM_NATS_URL, then the nearest .ekm/stack.json, then the default', () => {
    expect(resolveNatsUrl('nats://flag:1', { EKM_NATS_URL: 'nats://env:2' }, deep)).toEqual({ url: 'nats://flag:1', source: 'flag' });
    expect(resolveNatsUrl(undefined, { EKM_NATS_URL: 'nats://env:2' }, deep)).toEqual({ url: 'nats://env:2', source: 'env' });
    expect(resolveNatsUrl(undefined, {}, deep)).toEqual({ url: 'nats://stack:4333', source: 'stack.json' });
    expect(resolveNatsUrl(undefined, {}, mkdtempSync(join(tmpdir(), 'ekm-nostack-')))).toEqual({ url: DEFAULT_NATS_URL, source: 'default' });
  });
  it('skips a stack.json that is not JSON or has no natsUrl', () => {
    const bad = mkdtempSync(join(tmpdir(), 'ekm-badstack-'));
    mkdirSync(join(bad, '.ekm'));
    writeFileSync(join(bad, '.ekm', 'stack.json'), '{half');
    expect(resolveNatsUrl(undefined, {}, bad).source).toBe('default');
  });
});
