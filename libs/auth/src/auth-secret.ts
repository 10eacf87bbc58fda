/**
 * EKM_AUTH_SECRET: the session secret every service shares. In development without it, the first
 * service to start writes a random one to `<EKM_DATA_DIR>/auth-secret` (0600, created exclusively so
 * concurrent starts agree) and the others read it, as `npm run up` gives them one data dir. Production
 * requires the variable (enforced by @ekm/config).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createExclusive } from '@ekm/config';

/** File name of the development secret inside EKM_DATA_DIR. */
export const DEV_AUTH_SECRET_FILE = 'auth-secret';

/** The configured secret, or the development file's (created when missing). */
export function resolveAuthSecret(opts: { readonly secret?: string; readonly env: 'development' | 'production'; readonly dataDir: string }): string {
  if (opts.secret !== undefined) return opts.secret;
  if (opts.env !== 'development') throw new Error('EKM_AUTH_SECRET is required outside development');
  const path = join(opts.dataDir, DEV_AUTH_SECRET_FILE);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  if (!exists(path)) createExclusive(path, `${randomBytes(32).toString('base64url')}\n`);
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new Error(`${path} has mode 0${mode.toString(8)}; it must be 0600 (run: chmod 600 ${path})`);
  return readFileSync(path, 'utf8').trim();
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
