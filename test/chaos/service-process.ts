/**
 * One EKM service as a child process, as deployed: `node dist/apps/<service>/src/main.js` with its env,
 * its log in the run's dir, ready on its `"event":"ready"` line. Stopped (or SIGKILLed) by pid.
 * `faketime` runs it under libfaketime (LD_PRELOAD) for clock-skew scenarios.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

export interface ServiceProcessOptions {
  readonly service: 'keys' | 'audit' | 'policy' | 'rotation';
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
  /** e.g. `+5m` / `-5m`: the service's wall clock is shifted (monotonic clock left alone). */
  readonly faketime?: string;
}

export class ServiceProcess {
  private constructor(readonly opts: ServiceProcessOptions, private child: ChildProcess, private logOffset: number) {}

  static async start(opts: ServiceProcessOptions): Promise<ServiceProcess> {
    const p = new ServiceProcess(opts, spawnService(opts), logSize(opts.logFile));
    await p.waitReady();
    return p;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: no drain, no shutdown hooks, as a crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    process.kill(this.pid, 'SIGKILL');
    await exited;
  }

  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => { if (this.alive) process.kill(this.pid, 'SIGKILL'); }, graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Starts it again with the same env (plus `env` overrides, minus faketime unless given). */
  async restart(change: { env?: Readonly<Record<string, string>>; faketime?: string | null } = {}): Promise<void> {
    await this.stop();
    const { faketime: _old, ...base } = this.opts;
    const faketime = change.faketime === undefined ? this.opts.faketime : change.faketime ?? undefined;
    (this as { opts: ServiceProcessOptions }).opts = { ...base, env: { ...this.opts.env, ...change.env }, ...(faketime ? { faketime } : {}) };
    this.logOffset = logSize(this.opts.logFile);
    this.child = spawnService(this.opts);
    await this.waitReady();
  }

  /** Spawns again after a kill (same options). */
  async respawn(): Promise<void> {
    if (this.alive) throw new Error(`${this.opts.service} is still running (pid ${this.pid})`);
    this.logOffset = logSize(this.opts.logFile);
    this.child = spawnService(this.opts);
    await this.waitReady();
  }

  /** The log written since the last (re)start. */
  log(): string {
    return existsSync(this.opts.logFile) ? readFileSync(this.opts.logFile, 'utf8').slice(this.logOffset) : '';
  }

  private async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.log();
      if (text.includes('"event":"ready"')) return;
      if (!this.alive) throw new Error(`${this.opts.service} exited (${this.child.exitCode ?? this.child.signalCode}) before ready: ${text.slice(-1500)}`);
      if (Date.now() > deadline) throw new Error(`${this.opts.service} not ready within ${timeoutMs} ms: ${text.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function logSize(file: string): number {
  return existsSync(file) ? readFileSync(file).length : 0;
}

function spawnService(opts: ServiceProcessOptions): ChildProcess {
  const main = join(repoRoot(), 'dist', 'apps', opts.service, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
  // Without the library the loader only warns and the service runs unskewed: a skew scenario would pass vacuously.
  if (opts.faketime && !existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing (Debian package libfaketime): cannot skew ${opts.service}'s clock`);
  const skew = opts.faketime
    ? { LD_PRELOAD: LIBFAKETIME, FAKETIME: opts.faketime, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_NO_CACHE: '1' }
    : {};
  const log = openSync(opts.logFile, 'a');
  return spawn(process.execPath, [main], { env: { ...process.env, ...opts.env, ...skew }, cwd: dirname(opts.logFile), stdio: ['ignore', log, log] });
}
