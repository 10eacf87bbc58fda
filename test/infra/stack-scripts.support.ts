/**
 * Runs infra/scripts/*.sh the way a user does, on private servers and ports and an EKM_HOME of its own
 * (never the machine's Postgres/NATS, never the checkout's .ekm), and the CLI against that stack.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface Run { code: number; out: string }

/** Runs `cmd args` in the checkout with `env` on top of a scrubbed environment (no EKM_* of the caller). */
export function run(cmd: string, args: readonly string[], env: Record<string, string>, timeoutMs = 300_000): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EKM_')));
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

/** A private stack: its own EKM_HOME and free ports, so up starts its own Postgres and nats-server. */
export async function privateStack(extra: Record<string, string> = {}): Promise<{ home: string; env: Record<string, string>; natsUrl: string }> {
  const home = mkdtempSync(join(tmpdir(), 'ekm-stack-'));
  const env: Record<string, string> = {
    EKM_HOME: home,
    EKM_PG_PORT: String(await freePort()),
    EKM_NATS_PORT: String(await freePort()),
    EKM_KEYS_HTTP_PORT: String(await freePort()),
    EKM_POLICY_HTTP_PORT: String(await freePort()),
    EKM_ROTATION_HTTP_PORT: String(await freePort()),
    EKM_AUDIT_HTTP_PORT: String(await freePort()),
    EKM_KMS_PORT: String(await freePort()),
    EKM_KMS_HTTP_PORT: String(await freePort()),
    EKM_UP_TIMEOUT: '240',
    EKM_DOWN_GRACE: '20',
    ...extra,
  };
  return { home, env, natsUrl: `nats://127.0.0.1:${env.EKM_NATS_PORT}` };
}

export const script = (name: string, env: Record<string, string>, args: string[] = []) => run('bash', [join(ROOT, 'infra', 'scripts', `${name}.sh`), ...args], env);

/** `ekm --json ...` against the stack; parsed stdout. */
export async function ekm<T = any>(stack: { home: string; natsUrl: string }, args: string[]): Promise<T> {
  // The stack's own NATS identity and CA (the CLI finds them in a stack.json only under its cwd).
  const natsEnv = { EKM_NATS_CREDENTIALS: join(stack.home, 'nats-auth', 'cli.json'), EKM_NATS_TLS_CA: join(stack.home, 'tls', 'ca.pem') };
  const r = await run('node', ['bin/ekm.js', '--nats', stack.natsUrl, '--credentials', join(stack.home, 'admin.credentials'), '--json', ...args], natsEnv, 60_000);
  if (r.code !== 0) throw new Error(`ekm ${args.join(' ')} exited ${r.code}: ${r.out}`);
  return JSON.parse(r.out) as T;
}

export const pidOf = (home: string, s: string): number => Number(readFileSync(join(home, 'run', `${s}.pid`), 'utf8').trim());

/** A live process (a zombie, exited but not yet reaped by its parent, is not alive). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return procStat(pid)?.state !== 'Z';
}

/** State letter (R, S, D, Z, ...) and parent of /proc/<pid>/stat; null when the process is gone. */
function procStat(pid: number): { state: string; ppid: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid };
  } catch {
    return null;
  }
}

/** What a pid is now, for a failure message: state, parent, command line. */
export function describePid(pid: number): string {
  const st = procStat(pid);
  if (st === null) return `${pid} gone`;
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`).toString('latin1').split('\0').join(' ').trim();
  } catch {
    /* gone meanwhile */
  }
  return `${pid} state ${st.state} ppid ${st.ppid} cmd ${cmd || '(none)'}`;
}

/** Pids whose environment carries the stack's marker (what down looks for). */
export function markedPids(home: string): number[] {
  const { readdirSync } = require('node:fs') as typeof import('node:fs');
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`).toString('latin1').split('\0').includes(`EKM_STACK_HOME=${home}`)) pids.push(Number(d));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}
