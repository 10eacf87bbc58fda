/**
 * The stack a chaos scenario breaks: its own Postgres and nats-server (test/support/servers, free
 * ports, stopped by pid, never the machine's shared servers), the four services as child processes
 * (keys, audit, policy and rotation replicas), and TCP proxies on the keys service's links to NATS and
 * to Postgres and on each rotation replica's link to NATS.
 * With the policy service and auth on, the keys service runs EKM_AUTHZ=policy and the load signs as a
 * principal created through the bootstrap admin, so every keys call depends on a policy decision.
 * With `root: 'pkcs11'` the keys service's root of trust is a SoftHSM2 token made for this run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { CredentialFile } from '@ekm/auth';
import { AuditClient, EkmClient, EkmError, PolicyClient } from '@ekm/client';
import { NatsCluster, startNatsCluster } from '../support/nats-cluster';
import { freePort, startNats, startPostgres, stopServer, type ServerHandle } from '../support/servers';
import type { ChaosClient } from './history';
import { ServiceProcess } from './service-process';
import type { ChaosAuth } from './history';
import { TcpProxy } from './tcp-proxy';

export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

export interface ChaosStackOptions {
  /** EKM_AUTH of every service; default true (requests signed with a service session). */
  readonly auth?: boolean;
  readonly root?: 'software' | 'pkcs11';
  /** Start the audit service too; default true. */
  readonly audit?: boolean;
  /** Extra env of the keys service (e.g. EKM_KEK_CACHE_TTL_MS=0 so every call reaches the root). */
  readonly keysEnv?: Readonly<Record<string, string>>;
  /** Start the policy service (keys then decides with EKM_AUTHZ=policy when auth is on); default true. */
  readonly policy?: boolean;
  /** Rotation replicas to start (tick 200 ms, lease `ROTATION_LEASE_MS`); default 2, 0 = none. */
  readonly rotationReplicas?: number;
  /**
   * Scale-out: a 3-node JetStream cluster (streams with 3 replicas, EKM_JS_REPLICAS=3) instead of one
   * nats-server, 2 replicas of keys, audit and policy, every service given all three node URLs (the
   * proxies are not used).
   */
  readonly scaleOut?: boolean;
}

export type ReplicatedService = 'keys' | 'audit' | 'policy';

/** The rotation replicas' claim lease (EKM_ROTATION_LEASE_MS): short, so a pause outlives it in seconds. */
export const ROTATION_LEASE_MS = 2000;

export interface SoftHsm { readonly conf: string; readonly tokenDir: string; readonly label: string; readonly pin: string }

export class ChaosStack {
  keys!: ServiceProcess;
  audit?: ServiceProcess;
  policy?: ServiceProcess;
  readonly rotation: ServiceProcess[] = [];
  /** One proxy per rotation replica, between it and NATS (latency widens its claim window). */
  readonly rotationProxies: TcpProxy[] = [];
  hsm?: SoftHsm;
  /** Replicas beyond the first of keys, audit and policy (scale-out). */
  readonly extra: Record<ReplicatedService, ServiceProcess[]> = { keys: [], audit: [], policy: [] };
  cluster?: NatsCluster;
  /** The load's principal (EKM_AUTHZ=policy): created by the bootstrap admin, allowed `keys:*`. */
  loadCredential?: CredentialFile;

  private constructor(
    readonly dir: string,
    private readonly opts: ChaosStackOptions,
    public pg: ServerHandle,
    public nats: ServerHandle,
    readonly natsProxy: TcpProxy,
    readonly pgProxy: TcpProxy,
    readonly authSecret: string | undefined,
  ) {}

  static async start(opts: ChaosStackOptions = {}): Promise<ChaosStack> {
    const dir = mkdtempSync(join(tmpdir(), 'ekm-chaos-'));
    const [pg, cluster] = await Promise.all([startPostgres(), opts.scaleOut ? startNatsCluster({ name: 'ekm-chaos' }) : Promise.resolve(undefined)]);
    const nats = cluster ? cluster.nodes[0]!.handle! : await startNats();
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE DATABASE ekm');
    await admin.end();
    const stack = new ChaosStack(dir, opts, pg, nats, await TcpProxy.start(nats.port), await TcpProxy.start(pg.port),
      opts.auth === false ? undefined : randomBytes(32).toString('base64url'));
    if (cluster) stack.cluster = cluster;
    const copies = opts.scaleOut ? 2 : 1;
    try {
      if (opts.root === 'pkcs11') stack.hsm = makeSoftHsm(join(dir, 'softhsm'));
      // One after another: the first replica migrates and creates the shared state (sealed root, bootstrap admin).
      if (stack.policyOn) stack.policy = await ServiceProcess.start({ service: 'policy', env: stack.policyEnv(), logFile: join(dir, 'policy.log') });
      stack.keys = await ServiceProcess.start({ service: 'keys', env: await stack.keysEnv(), logFile: join(dir, 'keys.log') });
      for (let i = 1; i < copies; i++) {
        if (stack.policyOn) stack.extra.policy.push(await ServiceProcess.start({ service: 'policy', env: stack.policyEnv(), logFile: join(dir, `policy-${i}.log`) }));
        stack.extra.keys.push(await ServiceProcess.start({ service: 'keys', env: await stack.keysEnv(), logFile: join(dir, `keys-${i}.log`) }));
      }
      for (let i = 0; i < (opts.rotationReplicas ?? 2); i++) {
        const proxy = await TcpProxy.start(nats.port);
        stack.rotationProxies.push(proxy);
        stack.rotation.push(await ServiceProcess.start({ service: 'rotation', env: stack.rotationEnv(i, proxy), logFile: join(dir, `rotation-${i}.log`) }));
      }
      if (opts.audit !== false) {
        stack.audit = await ServiceProcess.start({ service: 'audit', env: await stack.auditEnv(), logFile: join(dir, 'audit.log') });
        for (let i = 1; i < copies; i++) stack.extra.audit.push(await ServiceProcess.start({ service: 'audit', env: await stack.auditEnv(), logFile: join(dir, `audit-${i}.log`) }));
      }
      if (stack.policyOn && stack.authSecret) stack.loadCredential = await stack.createLoadPrincipal();
    } catch (err) {
      await stack.stop({ keepDir: true });
      throw new Error(`chaos stack did not start (logs in ${dir}): ${(err as Error).message}`);
    }
    return stack;
  }

  get natsUrl(): string {
    return this.natsUrls.join(',');
  }

  /** Every NATS URL a client should know (one server here; a cluster gives three). */
  get natsUrls(): string[] {
    return this.cluster ? this.cluster.urls : [this.nats.url];
  }

  /** Every replica of `service` (the first is `keys` / `audit` / `policy`). */
  replicasOf(service: ReplicatedService): ServiceProcess[] {
    const first = this[service];
    return [...(first ? [first] : []), ...this.extra[service]];
  }

  /** How the load and the checker sign (see ChaosAuth). */
  get clientAuth(): ChaosAuth {
    return this.loadCredential ? { credential: this.loadCredential } : this.authSecret;
  }

  /** The policy service runs and decides the keys service's calls. */
  get policyOn(): boolean {
    return this.opts.policy !== false;
  }

  /** Event logs the audit trail consumes (and the checker holds it to). */
  get auditSources(): string[] {
    return ['keys', ...(this.policyOn ? ['policy'] : []), ...((this.opts.rotationReplicas ?? 2) > 0 ? ['rotation'] : [])];
  }

  /** Superuser URL of the `ekm` database (direct, not through the proxy). */
  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.pg.port}/ekm`;
  }

  async admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: this.adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  /** SIGKILL nats-server; `restartNats` brings it back on the same port with the same JetStream dir. */
  async killNats(): Promise<void> {
    await sigkill(this.nats.pid);
  }

  async restartNats(): Promise<void> {
    this.nats = await startNats({ port: this.nats.port, dir: this.nats.dir });
  }

  /** SIGKILL the postmaster (the backends notice and exit); `restartPostgres` runs crash recovery. */
  async killPostgres(): Promise<void> {
    await sigkill(this.pg.pid);
  }

  async restartPostgres(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.pg = await startPostgres({ port: this.pg.port, dir: this.pg.dir });
        return;
      } catch (err) {
        // Orphaned backends may still hold the old shared memory for a moment.
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    for (const r of this.rotation) {
      try { process.kill(r.pid, 'SIGCONT'); } catch { /* gone */ }
      await r.stop().catch(() => undefined);
    }
    for (const a of this.replicasOf('audit')) await a.stop().catch(() => undefined);
    for (const k of this.replicasOf('keys')) await k.stop().catch(() => undefined);
    for (const p of this.replicasOf('policy')) await p.stop().catch(() => undefined);
    for (const p of this.rotationProxies) await p.close();
    await this.natsProxy.close();
    await this.pgProxy.close();
    if (this.cluster) await this.cluster.stop({ keepDir: opts.keepDir });
    else await stopServer(this.nats, { keepDir: opts.keepDir });
    await stopServer(this.pg, { keepDir: opts.keepDir });
    if (!opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** The keys service talks to NATS and Postgres through the proxies; migrations go direct. */
  private async keysEnv(): Promise<Record<string, string>> {
    const root: Record<string, string> = this.hsm
      ? { EKM_ROOT_OF_TRUST: 'pkcs11', EKM_PKCS11_LIBRARY: SOFTHSM_LIBRARY, EKM_PKCS11_TOKEN_LABEL: this.hsm.label, EKM_PKCS11_PIN: this.hsm.pin, SOFTHSM2_CONF: this.hsm.conf }
      : { EKM_ROOT_SECRET: 'chaos-root-secret-0123456789' };
    return {
      ...this.common('keys'), ...root,
      EKM_NATS_URL: this.cluster ? this.natsUrl : `nats://${this.natsProxy.url}`,
      EKM_DATABASE_URL: `postgres://ekm_keys@${this.pgProxy.url}/ekm`,
      EKM_DELETION_MIN_DAYS: '0',
      // The load's deadline is 3 s: a stalled query plus the stalled usage record must fit in it.
      EKM_DB_QUERY_TIMEOUT_MS: '1000',
      ...(this.policyOn && this.authSecret ? { EKM_AUTHZ: 'policy' } : {}),
      ...this.opts.keysEnv,
    };
  }

  private policyEnv(): Record<string, string> {
    return {
      ...this.common('policy'),
      EKM_DATABASE_URL: `postgres://ekm_policy@127.0.0.1:${this.pg.port}/ekm`,
      EKM_BOOTSTRAP_CREDENTIALS_FILE: join(this.dir, 'admin.credentials'),
    };
  }

  /** Replica `i` talks to NATS through its own proxy and to Postgres directly (its lease lives there). */
  private rotationEnv(i: number, proxy: TcpProxy): Record<string, string> {
    return {
      ...this.common(`rotation-${i}`),
      EKM_NATS_URL: this.cluster ? this.natsUrl : `nats://${proxy.url}`,
      EKM_DATABASE_URL: `postgres://ekm_rotation@127.0.0.1:${this.pg.port}/ekm`,
      EKM_ROTATION_TICK_MS: '200',
      EKM_ROTATION_LEASE_MS: String(ROTATION_LEASE_MS),
      EKM_ROTATION_BATCH: '4',
    };
  }

  /**
   * `audit verify` as an operator runs it. With the policy service on, the load's principal (`keys:*`
   * only) is rightly refused it (EKM_FORBIDDEN): the bootstrap admin asks. Without it, `load` asks.
   */
  async verifyAudit(load: ChaosClient): Promise<{ ok: true; data: { ok: boolean; entries: number; reason: string } } | { ok: false; code: string }> {
    if (!this.policyOn) {
      const v = await load.call<{ ok: boolean; entries: number; reason: string }>('audit', 'verify', {}, undefined, 30_000);
      return v.outcome === 'ok' && v.data ? { ok: true, data: v.data } : { ok: false, code: v.code ?? 'no reply' };
    }
    try {
      return { ok: true, data: await this.asAdmin(30_000, (admin) => new AuditClient(admin).verify({}, { timeoutMs: 30_000 })) };
    } catch (err) {
      return { ok: false, code: err instanceof EkmError ? err.code : String(err) };
    }
  }

  /** Runs `fn` logged in as the bootstrap admin (admin.credentials), then closes the connection. */
  private async asAdmin<T>(timeoutMs: number, fn: (admin: EkmClient) => Promise<T>): Promise<T> {
    const admin = await EkmClient.connect({ servers: this.natsUrls, credentials: join(this.dir, 'admin.credentials'), timeoutMs, maxAttempts: 3 });
    try {
      return await fn(admin);
    } finally {
      await admin.close();
    }
  }

  /** Logs in as the bootstrap admin, creates the load's principal (tenant chaos, role app) and a policy allowing it keys:*. */
  private createLoadPrincipal(): Promise<CredentialFile> {
    return this.asAdmin(10_000, async (admin) => {
      const policy = new PolicyClient(admin);
      const { credential } = await policy.createPrincipal({ tenant: 'chaos', roles: ['app'], kind: 'service', name: 'chaos load' });
      await policy.putPolicy({ policyId: 'chaos-load', tenant: '*', document: { statements: [{ sid: 'load', effect: 'allow', roles: ['app'], actions: ['keys:*'], resources: ['*'] }] } });
      return credential;
    });
  }

  private async auditEnv(): Promise<Record<string, string>> {
    return {
      ...this.common('audit'),
      EKM_ROOT_SECRET: 'chaos-audit-secret-0123456789',
      EKM_DATABASE_URL: `postgres://ekm_audit@127.0.0.1:${this.pg.port}/ekm`,
      EKM_AUDIT_SOURCES: this.auditSources.join(','),
      EKM_AUDIT_CHECKPOINT_EVERY: '100',
      EKM_AUDIT_CHECKPOINT_INTERVAL_MS: '1000',
      EKM_AUDIT_RECONCILE_INTERVAL_MS: '1000',
    };
  }

  private common(service: string): Record<string, string> {
    const data = join(this.dir, `${service}-data`);
    mkdirSync(data, { recursive: true });
    return {
      EKM_ENV: 'development',
      EKM_NATS_URL: this.natsUrl,
      ...(this.cluster ? { EKM_JS_REPLICAS: '3' } : {}),
      EKM_DATABASE_ADMIN_URL: `postgres://postgres@127.0.0.1:${this.pg.port}/ekm`,
      EKM_HTTP_PORT: '0',
      EKM_DATA_DIR: data,
      EKM_LOG_LEVEL: 'info',
      EKM_SHUTDOWN_GRACE_MS: '3000',
      EKM_AUTH: this.authSecret ? 'required' : 'disabled',
      ...(this.authSecret ? { EKM_AUTH_SECRET: this.authSecret } : {}),
    };
  }
}

/** A SoftHSM2 config and one initialized token under `dir` (never the machine's /etc/softhsm2.conf). */
function makeSoftHsm(dir: string): SoftHsm {
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const hsm = { conf, tokenDir, label: 'ekm-chaos', pin: randomBytes(6).toString('hex') };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', hsm.label, '--pin', hsm.pin, '--so-pin', randomBytes(6).toString('hex')], {
    env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe',
  });
  return hsm;
}

async function sigkill(pid: number): Promise<void> {
  const alive = (): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  const deadline = Date.now() + 10_000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

export { freePort };
