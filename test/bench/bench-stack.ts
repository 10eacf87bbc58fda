/**
 * The stack under load: either a private one (own Postgres and nats-server from test/support/servers,
 * the keys service as a child process `node dist/apps/keys/src/main.js`, as deployed), or the running
 * stack of `npm run up` (`.ekm/stack.json`). Knows the pids whose CPU and memory the harness reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { freePort, startNats, startPostgres, stopServer, type ServerHandle } from '../support/servers';
import type { BenchNatsLogin } from './bench-nats';

export interface StackPids {
  readonly keys?: number;
  readonly nats?: number;
  /** The postmaster: its children are the backends. */
  readonly postgres?: number;
}

export interface BenchStack {
  readonly mode: 'private' | 'stack';
  readonly natsUrl: string;
  readonly pids: StackPids;
  /** ms from spawning the keys service to its `ready` line (private stack only). */
  readonly keysStartupMs?: number;
  /** Date.now() when the keys service was spawned (private stack only): where its CPU profile starts. */
  readonly keysSpawnedAt?: number;
  /** Authentication and authorization of the keys service as configured. */
  readonly security: { readonly auth: string; readonly authz: string };
  /** EKM_AUTH_SECRET the harness signs with (never written to results); undefined = unsigned requests. */
  readonly authSecret?: string;
  /** Credential file to log in with (`--stack`: the bootstrap admin's). */
  readonly credentialsFile?: string;
  /** The service identity a login reply must be signed by (`--stack`: stack.json serviceKey). */
  readonly serviceKey?: string;
  /** NATS login of the load generator and of the echo responder (`--stack`: up's bench identities, TLS). */
  readonly natsLogin?: BenchNatsLogin;
  readonly echoNatsLogin?: BenchNatsLogin;
  /** Every EKM process running, by name (keys, policy, rotation, audit, kms-api): CPU accounting. */
  readonly services: Readonly<Record<string, number>>;
  /** http://127.0.0.1:<port> of nats-server monitoring (/varz, /jsz), when it has one. */
  readonly natsMonitorUrl?: string;
  /** A superuser URL of the stack's database (pg_stat_* for the accounting), when known. */
  readonly postgresUrl?: string;
  stop(): Promise<void>;
}

/** The monorepo root, seen from dist/test/bench (compiled) or test/bench (sources). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** `.ekm/stack.json` of `npm run up`, from `path` or the repo root. */
export function attachStack(path?: string): BenchStack {
  const file = path ?? join(repoRoot(), '.ekm', 'stack.json');
  if (!existsSync(file)) throw new Error(`${file} not found: run \`npm run up\` first, or drop --stack to start a private stack`);
  const s = JSON.parse(readFileSync(file, 'utf8')) as {
    natsUrl: string; natsCredentials?: string; natsTlsCa?: string; serviceKey?: string; postgresUrl?: string;
    services: Record<string, { pid: number }>; servers: { postgres: { pid?: number }; nats: { pid?: number } };
  };
  // `npm run up` gives every service one data dir; in development its auth secret is generated there.
  const secretFile = join(dirname(file), 'data', 'auth-secret');
  const authSecret = process.env.EKM_AUTH_SECRET ?? (existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : undefined);
  // The stack authorizes by policy: sign as a principal the policy service knows (EKM_CREDENTIALS, else the
  // bootstrap admin that `npm run up` wrote), not as a service session it has no policy for.
  const adminFile = join(dirname(file), 'admin.credentials');
  const credentialsFile = process.env.EKM_CREDENTIALS ?? (existsSync(adminFile) ? adminFile : undefined);
  const auth = credentialsFile !== undefined ? `required (logged in with ${credentialsFile})`
    : authSecret ? 'required (signing with the stack\'s auth secret)' : 'unsigned requests (no credentials or auth secret found)';
  const nats = stackNatsLogins(s.natsCredentials, s.natsTlsCa);
  const services: Record<string, number> = {};
  for (const [name, svc] of Object.entries(s.services)) if (typeof svc.pid === 'number') services[name] = svc.pid;
  return {
    mode: 'stack', natsUrl: s.natsUrl,
    pids: { keys: s.services.keys?.pid, nats: s.servers.nats.pid, postgres: s.servers.postgres.pid },
    security: { auth, authz: process.env.EKM_AUTHZ ?? 'as the stack runs (npm run up: policy)' },
    ...(authSecret ? { authSecret } : {}),
    ...(credentialsFile !== undefined ? { credentialsFile } : {}),
    ...(s.serviceKey !== undefined ? { serviceKey: s.serviceKey } : {}),
    ...nats,
    services,
    ...(s.postgresUrl !== undefined ? { postgresUrl: s.postgresUrl } : {}),
    stop: async () => undefined,
  };
}

/**
 * up's NATS logins for the bench: the `bench` identity (requests and the echo subjects) and `bench_echo`
 * (answers the echo), beside stack.json's natsCredentials, with the stack's TLS CA; and the monitoring
 * port from the server config up generated there (`http: 127.0.0.1:<port>`).
 */
function stackNatsLogins(natsCredentials: string | undefined, tlsCa: string | undefined): Pick<BenchStack, 'natsLogin' | 'echoNatsLogin' | 'natsMonitorUrl'> {
  if (natsCredentials === undefined) return {};
  const dir = dirname(natsCredentials);
  const bench = join(dir, 'bench.json');
  const echo = join(dir, 'bench_echo.json');
  if (!existsSync(bench) || !existsSync(echo)) {
    throw new Error(`${dir} has no bench.json / bench_echo.json (the bench's NATS identities): run \`npm run up\` again to issue them`);
  }
  const tls = tlsCa !== undefined ? { tlsCaFile: tlsCa } : {};
  const conf = join(dir, 'nats-server.conf');
  const port = existsSync(conf) ? /^http:\s*127\.0\.0\.1:(\d+)\s*$/m.exec(readFileSync(conf, 'utf8'))?.[1] : undefined;
  return {
    natsLogin: { credentialsFile: bench, ...tls },
    echoNatsLogin: { credentialsFile: echo, ...tls },
    ...(port !== undefined ? { natsMonitorUrl: `http://127.0.0.1:${port}` } : {}),
  };
}

/** What the keys service runs with: EKM_AUTH and EKM_AUTHZ as the service reads them. */
function securityOf(env: Record<string, string | undefined>): { auth: string; authz: string } {
  return { auth: env.EKM_AUTH ?? 'required', authz: env.EKM_AUTHZ ?? 'allow-all (development default)' };
}

export interface PrivateStackOptions {
  /** Extra node flags for the keys service (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** false: EKM_AUTH=disabled (unsigned requests). Default: required, every request signed. */
  readonly auth?: boolean;
  /** Also run the audit service (`node dist/apps/audit/src/main.js`, source keys) on the same database. */
  readonly audit?: boolean;
}

/** Starts Postgres, nats-server and the keys service, all private to this run. */
export interface PrivateStack extends BenchStack {
  readonly dir: string;
  /** Postgres admin URL of the stack's `ekm` database (seeding, rebuilds). */
  readonly adminUrl: string;
  /** The keys service's data dir and root secret (its software root of trust lives there). */
  readonly keysDataDir: string;
  readonly rootSecret: string;
  /** http://127.0.0.1:<port> of the keys service's health server. */
  readonly keysHealthUrl: string;
  /** Stops the keys service (SIGTERM, drained); Postgres and NATS keep running. */
  stopKeys(): Promise<void>;
  /** Starts the keys service again with the same environment; resolves with ms from spawn to its `ready` line. */
  startKeys(): Promise<number>;
  /** With `audit`: the audit service's data dir and root secret (its signing key is wrapped under that root). */
  readonly auditDataDir?: string;
  readonly auditRootSecret?: string;
  /** With `audit`: stops / starts the audit service (same environment). */
  stopAudit(): Promise<void>;
  startAudit(): Promise<number>;
}

export async function startPrivateStack(opts: PrivateStackOptions = {}): Promise<PrivateStack> {
  const dir = mkdtempSync(join(tmpdir(), 'ekm-bench-'));
  const servers: ServerHandle[] = [];
  let keys: ChildProcess | undefined;
  let audit: ChildProcess | undefined;
  const stopAll = async (): Promise<void> => {
    if (keys) await stopChild(keys);
    if (audit) await stopChild(audit);
    for (const s of servers.reverse()) await stopServer(s);
  };
  try {
    // A monitoring port on loopback (the accounting reads /varz and /jsz); anonymous, plaintext, like the rest of this server.
    const monitorPort = await freePort();
    const natsConfig = join(dir, 'nats-monitor.conf');
    writeFileSync(natsConfig, `http: 127.0.0.1:${monitorPort}\n`);
    const [pg, nats] = await Promise.all([startPostgres(), startNats({ config: natsConfig })]);
    servers.push(pg, nats);
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE DATABASE ekm');
    await admin.end();
    const authSecret = randomBytes(32).toString('base64url');
    const db = (user: string): string => `postgres://${user}@127.0.0.1:${pg.port}/ekm`;
    const env = {
      ...process.env,
      EKM_ENV: 'development',
      EKM_NATS_URL: nats.url,
      EKM_DATABASE_ADMIN_URL: db('postgres'),
      EKM_DATABASE_URL: db('ekm_keys'),
      EKM_HTTP_PORT: String(await freePort()),
      EKM_DATA_DIR: join(dir, 'keys-data'),
      EKM_ROOT_SECRET: 'bench-root-secret-0123456789',
      EKM_LOG_LEVEL: 'info',
      EKM_AUTH: opts.auth === false ? 'disabled' : 'required',
      EKM_AUTH_SECRET: authSecret,
      ...opts.env,
    };
    const main = join(repoRoot(), 'dist', 'apps', 'keys', 'src', 'main.js');
    let keysSpawnedAt = 0;
    const startKeys = async (): Promise<number> => {
      // Each start logs to its own file, so `ready` is this start's line.
      const logFile = join(dir, `keys-${Date.now()}.log`);
      const log = openSync(logFile, 'a');
      const t0 = performance.now();
      keysSpawnedAt = Date.now();
      keys = spawn(process.execPath, [...(opts.nodeArgs ?? []), main], { env, cwd: dir, stdio: ['ignore', log, log] });
      await waitForReady(keys, logFile);
      return Math.round(performance.now() - t0);
    };
    const keysStartupMs = await startKeys();
    // The audit service as deployed: its own role, data dir and root; it consumes the keys service's events.
    const auditEnv = {
      ...env, EKM_DATABASE_URL: db('ekm_audit'), EKM_HTTP_PORT: String(await freePort()), EKM_DATA_DIR: join(dir, 'audit-data'),
      EKM_ROOT_SECRET: 'bench-audit-root-secret-0123', EKM_AUDIT_SOURCES: 'keys',
    };
    const startAudit = async (): Promise<number> => {
      const logFile = join(dir, `audit-${Date.now()}.log`);
      const log = openSync(logFile, 'a');
      const t0 = performance.now();
      audit = spawn(process.execPath, [join(repoRoot(), 'dist', 'apps', 'audit', 'src', 'main.js')], { env: auditEnv, cwd: dir, stdio: ['ignore', log, log] });
      await waitForReady(audit, logFile, 'audit', 300_000);
      return Math.round(performance.now() - t0);
    };
    if (opts.audit) await startAudit();
    return {
      mode: 'private', natsUrl: nats.url, dir, keysStartupMs, keysSpawnedAt,
      get pids(): StackPids { return { keys: keys?.pid, nats: nats.pid, postgres: pg.pid }; },
      security: securityOf(env),
      ...(opts.auth === false ? {} : { authSecret }),
      get services(): Record<string, number> { return { ...(keys?.pid ? { keys: keys.pid } : {}), ...(audit?.pid ? { audit: audit.pid } : {}) }; },
      natsMonitorUrl: `http://127.0.0.1:${monitorPort}`,
      postgresUrl: db('postgres'),
      adminUrl: env.EKM_DATABASE_ADMIN_URL, keysDataDir: env.EKM_DATA_DIR, rootSecret: env.EKM_ROOT_SECRET,
      keysHealthUrl: `http://127.0.0.1:${env.EKM_HTTP_PORT}`,
      stopKeys: async () => { if (keys) await stopChild(keys); keys = undefined; },
      startKeys,
      ...(opts.audit ? { auditDataDir: auditEnv.EKM_DATA_DIR, auditRootSecret: auditEnv.EKM_ROOT_SECRET } : {}),
      stopAudit: async () => { if (audit) await stopChild(audit); audit = undefined; },
      startAudit,
      stop: async () => {
        await stopAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Resolves on the service's `"event":"ready"` log line; rejects when it exits first or after 60 s. */
async function waitForReady(child: ChildProcess, logFile: string, name = 'keys', timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    if (text.includes('"event":"ready"')) return;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} service exited (${child.exitCode ?? child.signalCode}) before ready: ${text.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${name} service not ready within ${timeoutMs / 1000} s: ${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** SIGTERM and wait (the service drains and exits 0; a --cpu-prof profile is written at exit). */
export async function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export const resolveFromRoot = (...parts: string[]): string => resolve(repoRoot(), ...parts);
