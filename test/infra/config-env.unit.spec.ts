/**
 * infra/scripts/lib/config-env.js, the persistent settings of `npm run up` (.ekm/config.env): what the
 * caller gives is validated by @ekm/config's rules and saved, secrets never are, a bad value or an unknown
 * name changes nothing, and `vars` lists what each service reads (up restarts a service when one changes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const HELPER = join(ROOT, 'infra/scripts/lib/config-env.js');
const LIB = join(ROOT, 'dist/libs/config/src/index.js');
let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ekm-config-env-'));
  file = join(dir, 'config.env');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EKM_')));
const save = (env: Record<string, string>) =>
  spawnSync('node', [HELPER, 'save', file, LIB], { env: { ...base, ...env, EKM_UP_GIVEN: Object.keys(env).join(' ') }, encoding: 'utf8' });

describe('config-env.js', () => {
  it('saves what the caller gave (0600), with every other setting as a commented default; an empty value removes one', () => {
    const r = save({ EKM_DELETION_MIN_DAYS: '0', EKM_LOG_LEVEL: 'debug', EKM_TEST_PG_URL: 'ignored' });
    expect(r.status).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^EKM_DELETION_MIN_DAYS=0$/m);
    expect(text).toMatch(/^EKM_LOG_LEVEL=debug$/m);
    expect(text).toMatch(/^# EKM_GCM_BUDGET=1073741824$/m);
    expect(text).toMatch(/^# EKM_PG_DATABASE=ekm$/m);
    expect(text).not.toContain('EKM_TEST_PG_URL');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(save({ EKM_LOG_LEVEL: '' }).stdout).toMatch(/EKM_LOG_LEVEL: removed/);
    expect(readFileSync(file, 'utf8')).toMatch(/^EKM_DELETION_MIN_DAYS=0$/m);
    expect(readFileSync(file, 'utf8')).not.toMatch(/^EKM_LOG_LEVEL=/m);
  });

  it('never writes a secret, and refuses one found in the file', () => {
    const r = save({ EKM_ROOT_SECRET: 'a root secret that must stay out' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/EKM_ROOT_SECRET: a secret, used for this start and not written/);
    expect(readFileSync(file, 'utf8')).not.toContain('a root secret that must stay out');
    writeFileSync(file, 'EKM_ROOT_SECRET=oops-this-is-a-secret\n');
    const again = save({});
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/EKM_ROOT_SECRET is a secret and does not belong in config.env/);
    expect(again.stderr).not.toContain('oops-this-is-a-secret');
  });

  it('a bad value or an unknown name in the file stops it without changing the file, and never echoes the value', () => {
    save({ EKM_DELETION_MIN_DAYS: '3' });
    const before = readFileSync(file, 'utf8');
    const bad = save({ EKM_DELETION_MIN_DAYS: '99x' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/EKM_DELETION_MIN_DAYS must be an integer between 0 and 30/);
    expect(bad.stderr).not.toContain('99x');
    expect(readFileSync(file, 'utf8')).toBe(before);
    writeFileSync(file, `${before}EKM_DELETON_MIN_DAYS=0\n`);
    expect(save({}).stderr).toMatch(/unknown setting EKM_DELETON_MIN_DAYS/);
  });

  it('vars lists the settings each service reads', () => {
    const vars = (s: string) => spawnSync('node', [HELPER, 'vars', LIB, s], { encoding: 'utf8' }).stdout.split('\n');
    expect(vars('keys')).toEqual(expect.arrayContaining(['EKM_DELETION_MIN_DAYS', 'EKM_ROOT_OF_TRUST', 'EKM_KEYS_HTTP_PORT']));
    expect(vars('audit')).toEqual(expect.arrayContaining(['EKM_ROOT_OF_TRUST', 'EKM_AUDIT_CHECKPOINT_EVERY']));
    expect(vars('policy')).not.toContain('EKM_DELETION_MIN_DAYS');
    expect(vars('rotation')).not.toContain('EKM_ROOT_OF_TRUST');
  });
});
