/**
 * The built CLI as a child process (`node bin/ekm.js`), where the process itself matters: a closed
 * pipe, the environment (NO_COLOR, FORCE_COLOR, no stack), and exit codes. (`audit tail` goes through the
 * services' confined query route: test/e2e/audit-trail.e2e.spec.ts.)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
let work: string;

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs the built CLI outside any checkout (cwd: a temp dir) with only PATH and `env`. */
function ekm(args: string[], env: Record<string, string> = {}, opts: { closeStdout?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ekm.js'), ...args], { cwd: work, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Like `| head` that has already exited: the read end is gone before the CLI writes.
    if (opts.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ekm-cli-proc-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the ekm process', () => {
  it('a closed stdout (ekm ... | head) exits 0 without an EPIPE stack trace', async () => {
    for (const args of [['completion', 'bash'], ['help', 'key', 'create'], ['--json', 'completion', 'zsh']]) {
      const r = await ekm(args, {}, { closeStdout: true });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('--version before the command prints the version; rotation rewrap --version 1 is the command\'s option', async () => {
    expect(await ekm(['--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    const r = await ekm(['rotation', 'rewrap', '--key', 'k', '--version', '1', '--json']);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ code: 'EKM_CLI_CONFIG' }); // it got as far as connecting
  });

  it('outside a checkout without --nats or EKM_NATS_URL: exit 4, a clear message, no guessed server', async () => {
    const r = await ekm(['key', 'list']);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ekm: EKM_CLI_CONFIG: no NATS URL: pass --nats URL, set EKM_NATS_URL, run `npm run up`/);
  });

  it('a 0644 credential file is a configuration error (exit 4) naming the fix, not "unavailable" (3)', async () => {
    const file = join(work, `open-${randomUUID()}.credentials`);
    writeFileSync(file, '{}', { mode: 0o644 });
    const r = await ekm(['--nats', 'nats://127.0.0.1:1', '--credentials', file, 'key', 'list', '--json']);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stderr)).toEqual({ code: 'EKM_CLI_CONFIG', message: expect.stringContaining(`chmod 600 ${file}`) });
  });

  it('no colour codes in a pipe or with NO_COLOR; FORCE_COLOR turns them on', async () => {
    // health prints a table even when nothing answers (exit 3); its bus column shows the config error.
    const plain = await ekm(['health', '--timeout', '300']);
    expect(plain.code).toBe(3);
    expect(plain.stdout).toContain('│ keys');
    expect(plain.stdout).not.toMatch(/\u001b\[/);
    expect((await ekm(['health', '--timeout', '300'], { FORCE_COLOR: '1' })).stdout).toMatch(/\u001b\[1m/);
    expect((await ekm(['health', '--timeout', '300'], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toMatch(/\u001b\[/);
  });
});

