import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsFile } from '../cli-context';

describe('credentialsFile (--credentials, EKM_CREDENTIALS, .ekm/admin.credentials)', () => {
  it('prefers the flag, then the env, then the local admin file when it exists, else none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekm-cred-'));
    try {
      expect(credentialsFile(undefined, {}, dir)).toBeUndefined();
      mkdirSync(join(dir, '.ekm'));
      writeFileSync(join(dir, '.ekm', 'admin.credentials'), '{}', { mode: 0o600 });
      expect(credentialsFile(undefined, {}, dir)).toBe(join(dir, '.ekm', 'admin.credentials'));
      expect(credentialsFile(undefined, { EKM_CREDENTIALS: '/x/env.credentials' }, dir)).toBe('/x/env.credentials');
      expect(credentialsFile('/x/flag.credentials', { EKM_CREDENTIALS: '/x/env.credentials' }, dir)).toBe('/x/flag.credentials');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
