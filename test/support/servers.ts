/**
 * Private PostgreSQL and nats-server processes for tests.
 *
 * Tests never touch the machine's shared servers: each run (and each chaos test that kills a server)
 * starts its own on free loopback ports, in a temp dir, and stops it by pid.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, chownSync, openSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerHandle {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Debian keeps server binaries in /usr/lib/postgresql/<major>/bin; EKM_PG_BINDIR overrides. */
export function postgresBinDir(): string {
  if (process.env.EKM_PG_BINDIR) return process.env.EKM_PG_BINDIR;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const majors = readdirSync(base).filter((d) => existsSync(join(base, d, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
    if (majors.length > 0) return join(base, majors[0], 'bin');
  }
  throw new Error('PostgreSQL server binaries not found: install the Debian package "postgresql" or set EKM_PG_BINDIR');
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * postgres refuses to run as root: as root, run it as the "postgres" OS user by spawning it with that
 * uid/gid directly. (Not `runuser`: it forks and returns at once on a signal, so the pid we held was
 * runuser's, stopServer returned while postgres still ran, and a "SIGKILL of Postgres" killed nothing.)
 */
function postgresIds(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot()) return {};
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
}

/**
 * `tls`: the server's certificate and key (PEM files); the server then accepts TLS connections only
 * (pg_hba: hostssl trust, everything else rejected), like up's own Postgres.
 */
export async function startPostgres(opts: { port?: number; dir?: string; tls?: { cert: string; key: string } } = {}): Promise<ServerHandle> {
  const bin = postgresBinDir();
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ekm-pg-'));
  const data = join(dir, 'data');
  if (!existsSync(join(data, 'PG_VERSION'))) {
    mkdirSync(data, { recursive: true });
    if (isRoot()) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
      chownSync(data, uid, gid);
    }
    execFileSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], { stdio: 'ignore', cwd: dir, ...postgresIds() });
  }
  const log = openSync(join(dir, 'postgres.log'), 'a');
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    chownSync(join(dir, 'postgres.log'), uid, Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  }
  const args = [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=on', '-c', 'full_page_writes=off', '-c', 'max_connections=300',
  ];
  if (opts.tls) {
    const ids = postgresIds();
    for (const [from, to] of [[opts.tls.cert, 'server.pem'], [opts.tls.key, 'server-key.pem']] as const) {
      copyFileSync(from, join(dir, to));
      chmodSync(join(dir, to), 0o600);
      if ('uid' in ids) chownSync(join(dir, to), ids.uid, ids.gid);
    }
    writeFileSync(join(data, 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 trust\nhostnossl all all all reject\nlocal all all trust\n');
    if ('uid' in ids) chownSync(join(data, 'pg_hba.conf'), ids.uid, ids.gid);
    args.push('-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir, 'server.pem')}`, '-c', `ssl_key_file=${join(dir, 'server-key.pem')}`);
  }
  // The pid we hold is the postmaster's own: signals reach it, and stopServer waits for its exit.
  const child = spawn(join(bin, 'postgres'), args, { detached: true, cwd: dir, stdio: ['ignore', log, log], ...postgresIds() });
  child.unref();
  await waitForPort(port);
  // Readiness over the Unix socket in `dir` (allowed by the hba above when TLS is on).
  await waitForPostgresReady(opts.tls ? `postgres://postgres@/postgres?host=${encodeURIComponent(dir)}&port=${port}` : `postgres://postgres@127.0.0.1:${port}/postgres`);
  return { pid: child.pid!, port, dir, url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

async function waitForPostgresReady(url: string): Promise<void> {
  const { Client } = await import('pg');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const c = new Client({ connectionString: url });
    try {
      await c.connect();
      await c.query('select 1');
      await c.end();
      return;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startNats(opts: { port?: number; dir?: string; config?: string } = {}): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ekm-nats-'));
  const bin = process.env.EKM_NATS_SERVER_BIN ?? 'nats-server';
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js')];
  if (opts.config) args.push('-c', opts.config);
  const log = openSync(join(dir, 'nats.log'), 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  await waitForPort(port);
  return { pid: child.pid!, port, dir, url: `nats://127.0.0.1:${port}` };
}

/**
 * Stops a server we started, by pid: `signal` (default SIGTERM), then SIGKILL after `graceMs`.
 * For Postgres, SIGTERM is a "smart" shutdown that waits for clients to disconnect; pass SIGINT (fast
 * shutdown) when services still hold connections and the server must restart on the same data dir —
 * a SIGKILLed postmaster leaves backends holding its shared memory, and a restart then fails.
 */
export async function stopServer(h: Pick<ServerHandle, 'pid' | 'dir'>, opts: { graceMs?: number; keepDir?: boolean; signal?: NodeJS.Signals } = {}): Promise<void> {
  const alive = (): boolean => { try { process.kill(h.pid, 0); return true; } catch { return false; } };
  if (alive()) {
    try { process.kill(h.pid, opts.signal ?? 'SIGTERM'); } catch { /* gone */ }
    const deadline = Date.now() + (opts.graceMs ?? 5_000);
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (alive()) { try { process.kill(h.pid, 'SIGKILL'); } catch { /* gone */ } }
    while (alive()) await new Promise((r) => setTimeout(r, 20));
  }
  if (!opts.keepDir) rmSync(h.dir, { recursive: true, force: true });
}
