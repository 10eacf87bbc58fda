/**
 * npm run up / down / reset / backup / restore as a user runs them, each stack on private servers and
 * ports with an EKM_HOME of its own. Slow (several starts of the whole stack): one flow per test.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { alive, describePid, ekm, freePort, markedPids, pidOf, privateStack, script, type Run } from './stack-scripts.support';

jest.setTimeout(1_200_000);

const ok = (r: Run): void => {
  if (r.code !== 0) throw new Error(`exit ${r.code}:\n${r.out.slice(-4000)}`);
};
const SERVICES = ['keys', 'policy', 'rotation', 'audit'] as const;
const homes: Array<{ home: string; env: Record<string, string> }> = [];
afterAll(async () => {
  for (const h of homes) if (existsSync(h.home)) await script('down', h.env);
  for (const h of homes) rmSync(h.home, { recursive: true, force: true });
});

async function bindings(pgPort: string, home: string): Promise<Array<{ kind: string; fingerprint: string }>> {
  // up's own Postgres speaks TLS only (verify-full against the stack's CA).
  const c = new Client({ connectionString: `postgres://postgres@127.0.0.1:${pgPort}/ekm`, ssl: { ca: readFileSync(join(home, 'tls', 'ca.pem'), 'utf8'), servername: 'localhost' } });
  await c.connect();
  try {
    const keys = await c.query('SELECT kind, fingerprint FROM ekm_keys.root_binding');
    const audit = await c.query('SELECT kind, fingerprint FROM ekm_audit.root_binding');
    return [...keys.rows, ...audit.rows];
  } finally {
    await c.end();
  }
}

describe('npm run up / down on private servers', () => {
  it('pkcs11 end to end; a changed setting restarts exactly its services; a second checkout on the same database and a deleted .ekm are refused before anything starts', async () => {
    const a = await privateStack({ EKM_ROOT_OF_TRUST: 'pkcs11' });
    homes.push(a);
    ok(await script('up', a.env));
    expect(JSON.parse(readFileSync(join(a.home, 'stack.json'), 'utf8')).rootOfTrust).toBe('pkcs11');

    // keys and audit both sealed under the token root: one binding, kind pkcs11
    const bound = await bindings(a.env.EKM_PG_PORT, a.home);
    expect(bound).toHaveLength(2);
    expect(bound[0]).toEqual(bound[1]);
    expect(bound[0]!.kind).toBe('pkcs11');
    const key = await ekm(a, ['key', 'create', '--tenant', 'acme']);
    const dk = await ekm(a, ['datakey', 'generate', '--key', key.keyId]);
    expect((await ekm(a, ['decrypt', '--blob', dk.ciphertextBlob])).plaintext).toBe(dk.plaintext);
    expect(await ekm(a, ['audit', 'verify'])).toMatchObject({ ok: true, firstBadIndex: null });

    // a setting given once is saved and restarts keys alone
    const before = Object.fromEntries(SERVICES.map((s) => [s, pidOf(a.home, s)]));
    const changed = await script('up', { ...a.env, EKM_DELETION_MIN_DAYS: '0' });
    ok(changed);
    expect(changed.out).toMatch(/keys: settings changed: EKM_DELETION_MIN_DAYS: restarting it/);
    for (const s of ['policy', 'rotation', 'audit']) expect(changed.out).toMatch(new RegExp(`${s}: already running \\(pid ${before[s]}\\), settings unchanged, left alone`));
    expect(pidOf(a.home, 'keys')).not.toBe(before.keys);
    expect(readFileSync(join(a.home, 'config.env'), 'utf8')).toMatch(/^EKM_DELETION_MIN_DAYS=0$/m);
    const keysPid = pidOf(a.home, 'keys');
    // the saved setting applies without the environment; nothing restarts
    const again = await script('up', a.env);
    ok(again);
    expect(again.out).not.toMatch(/restarting/);
    expect(pidOf(a.home, 'keys')).toBe(keysPid);
    // a server setting cannot move a running server: said, not ignored
    const moved = await script('up', { ...a.env, EKM_NATS_PORT: String(await freePort()) });
    ok(moved);
    expect(moved.out).toMatch(/EKM_NATS_PORT=\d+ not applied: our nats keeps running on the port it started with/);
    expect(moved.out).not.toMatch(/restarting/);
    // a bad value is refused before anything changes
    const bad = await script('up', { ...a.env, EKM_DELETION_MIN_DAYS: '99' });
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/EKM_DELETION_MIN_DAYS must be an integer between 0 and 30/);
    expect(bad.out).toMatch(/nothing was started or restarted/);
    expect(pidOf(a.home, 'keys')).toBe(keysPid);

    // a second checkout on the same Postgres database: refused before anything starts, naming the switch.
    // (NATS needs no claim: every stack runs its own authenticated nats-server; and a TLS-only Postgres of
    // another stack refuses a plain probe, so up would start its own on the fallback port: point B at A's
    // database explicitly to reach the claim.)
    const b = await privateStack();
    homes.push(b);
    const aDb = `postgres://postgres@127.0.0.1:${a.env.EKM_PG_PORT}/ekm?sslmode=verify-full&sslrootcert=${join(a.home, 'tls', 'ca.pem')}`;
    const samePg = await script('up', { ...b.env, EKM_DATABASE_ADMIN_URL: aDb });
    expect(samePg.code).not.toBe(0);
    expect(samePg.out).toContain(`in use by the EKM stack in ${a.home}`);
    expect(samePg.out).toMatch(/EKM_PG_DATABASE=ekm_\d+/);
    expect(markedPids(b.home)).toEqual([]);

    // .ekm deleted while up: up refuses beside the orphans, down finds them by their marker
    const running = markedPids(a.home);
    const runningWas = new Map(running.map((pid) => [pid, describePid(pid)]));
    expect(running.length).toBeGreaterThanOrEqual(6);
    rmSync(a.home, { recursive: true, force: true });
    const orphaned = await script('up', a.env);
    expect(orphaned.code).not.toBe(0);
    expect(orphaned.out).toMatch(/still run without their pid files/);
    // a process of the stack that is none of the kinds down stops by name (as a postgres backend is
    // once its postmaster had to be SIGKILLed): down's last sweep ends it too
    const straggler = spawn('sleep', ['600'], { env: { ...process.env, EKM_STACK_HOME: a.home }, stdio: 'ignore', detached: true });
    expect(markedPids(a.home)).toContain(straggler.pid);
    straggler.unref();
    const down = await script('down', a.env);
    ok(down);
    expect(down.out).toMatch(new RegExp(`pid ${straggler.pid} of this stack \\(sleep 600 ?\\) still runs after its leader stopped: SIGKILL`));
    // Nothing of the stack is left: no live process carries its marker. (A pid seen before that is
    // alive again without the marker is one the kernel has since given to another process; a zombie
    // is dead, only not yet reaped by its parent.)
    const left = markedPids(a.home);
    if (left.length > 0) {
      const before = running.filter(alive).map((pid) => `${runningWas.get(pid)} -> now ${describePid(pid)}`);
      throw new Error(`left after down: ${left.map(describePid).join('; ')}\nalive of those seen before: ${before.join('; ')}\ndown said:\n${down.out}`);
    }
  });

  it('backup, lose everything (npm run reset), restore on a fresh stack: every acknowledged data key decrypts and the trail verifies', async () => {
    const a = await privateStack();
    homes.push(a);
    ok(await script('up', a.env));
    const key = await ekm(a, ['key', 'create', '--tenant', 'acme']);
    const dks: Array<{ plaintext: string; ciphertextBlob: string }> = [];
    for (let i = 0; i < 5; i++) dks.push(await ekm(a, ['datakey', 'generate', '--key', key.keyId]));
    const backup = join(mkdtempSync(join(tmpdir(), 'ekm-backup-')), 'b');
    const b = await script('backup', a.env, [backup]);
    ok(b);
    expect(b.out).toMatch(/NOT in the backup: the root secret/);
    expect(existsSync(join(backup, 'data', 'root-secret'))).toBe(false);
    expect(existsSync(join(backup, 'data', 'root-key.sealed'))).toBe(true);
    const secretKeptApart = join(tmpdir(), `ekm-secret-${process.pid}`);
    copyFileSync(join(a.home, 'data', 'root-secret'), secretKeptApart);

    const reset = await script('reset', a.env, ['--yes']);
    ok(reset);
    expect(existsSync(a.home)).toBe(false);
    expect(markedPids(a.home)).toEqual([]);

    // without the secret, restore refuses; with it, the stack comes back
    const noSecret = await script('restore', a.env, [backup]);
    expect(noSecret.code).not.toBe(0);
    expect(noSecret.out).toMatch(/EKM_RESTORE_ROOT_SECRET_FILE/);
    rmSync(a.home, { recursive: true, force: true });
    ok(await script('restore', { ...a.env, EKM_RESTORE_ROOT_SECRET_FILE: secretKeptApart }, [backup]));
    rmSync(secretKeptApart, { force: true });
    for (const dk of dks) expect((await ekm(a, ['decrypt', '--blob', dk.ciphertextBlob])).plaintext).toBe(dk.plaintext);
    expect(await ekm(a, ['audit', 'verify'])).toMatchObject({ ok: true, firstBadIndex: null });
    ok(await script('reset', a.env, ['--yes']));
    rmSync(join(backup, '..'), { recursive: true, force: true });
  });
});
