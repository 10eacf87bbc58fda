/**
 * A private 3-node NATS JetStream cluster on loopback ports (for scale-out tests and chaos runs): each
 * node is a nats-server started by `startNats` (JetStream on, its own store dir `<node>/js` given as
 * `-sd`) with a config file holding its `server_name` and the cluster block (its own route port,
 * routes to the others). Streams
 * created with `num_replicas: 3` (EKM_JS_REPLICAS=3) survive the loss of one node.
 * Never the machine's shared nats-server; every node is stopped by pid.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, startNats, stopServer, type ServerHandle } from './servers';
import { scaled, waitFor } from './wait-for';

export interface NatsClusterNode {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly dir: string;
  readonly config: string;
  handle: ServerHandle | null;
}

export class NatsCluster {
  private constructor(readonly dir: string, readonly nodes: NatsClusterNode[]) {}

  /** Starts `size` nodes (default 3) and waits until JetStream answers (a meta leader was elected). */
  static async start(opts: { size?: number; name?: string } = {}): Promise<NatsCluster> {
    const size = opts.size ?? 3;
    const dir = mkdtempSync(join(tmpdir(), 'ekm-nats-cluster-'));
    const ports = await Promise.all(Array.from({ length: size }, async () => ({ port: await freePort(), clusterPort: await freePort() })));
    const nodes = ports.map((p, i): NatsClusterNode => {
      const nodeDir = join(dir, `n${i}`);
      mkdirSync(nodeDir, { recursive: true });
      const config = join(dir, `n${i}.conf`);
      const routes = ports.filter((_, j) => j !== i).map((o) => `nats-route://127.0.0.1:${o.clusterPort}`);
      writeFileSync(config, [
        `server_name: n${i}`,
        `cluster {`,
        `  name: ${opts.name ?? 'ekm-test'}`,
        `  listen: 127.0.0.1:${p.clusterPort}`,
        `  routes: [ ${routes.join(', ')} ]`,
        `}`,
        '',
      ].join('\n'));
      return { name: `n${i}`, port: p.port, clusterPort: p.clusterPort, dir: nodeDir, config, handle: null };
    });
    const cluster = new NatsCluster(dir, nodes);
    try {
      await Promise.all(nodes.map((n) => cluster.startNode(n)));
      await cluster.waitForJetStream();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Client URLs of every node (give all of them to clients so they fail over). */
  get urls(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  }

  node(name: string): NatsClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name} in the cluster (${this.nodes.map((x) => x.name).join(', ')})`);
    return n;
  }

  /** SIGKILL one node (as a crash). Its store dir is kept for `restartNode`. */
  async killNode(name: string): Promise<void> {
    const n = this.node(name);
    if (!n.handle) return;
    const pid = n.handle.pid;
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    const alive = (): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
    await waitFor(() => !alive(), { what: `node ${name} (pid ${pid}) to exit`, timeoutMs: 10_000, intervalMs: 20 });
    n.handle = null;
  }

  /** Starts a killed node again on its ports with its store dir (it rejoins and catches up). */
  async restartNode(name: string): Promise<void> {
    const n = this.node(name);
    if (n.handle) return;
    await this.startNode(n);
  }

  /** The server name of the current leader of `stream` (asked through any live node). */
  async streamLeader(stream: string): Promise<string | undefined> {
    return (await this.streamState(stream)).leader;
  }

  /** Leader, configured replicas and how many replicas are current (leader included) of `stream`. */
  async streamState(stream: string): Promise<{ leader?: string; replicas: number; current: number }> {
    const nc = await connect({ servers: this.nodes.filter((n) => n.handle).map((n) => `nats://127.0.0.1:${n.port}`), timeout: scaled(5000) });
    try {
      const info = await (await jetstreamManager(nc, { timeout: scaled(5000) })).streams.info(stream);
      const current = (info.cluster?.leader ? 1 : 0) + (info.cluster?.replicas ?? []).filter((r) => r.current && !r.offline).length;
      return { ...(info.cluster?.leader ? { leader: info.cluster.leader } : {}), replicas: info.config.num_replicas, current };
    } finally {
      await nc.close();
    }
  }

  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    for (const n of this.nodes) {
      if (n.handle) await stopServer(n.handle, { keepDir: true });
      n.handle = null;
    }
    if (!opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async startNode(n: NatsClusterNode): Promise<void> {
    n.handle = await startNats({ port: n.port, dir: n.dir, config: n.config });
  }

  private async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const nc = await connect({ servers: this.urls, timeout: scaled(5000) });
    try {
      // Until a meta leader is elected JetStream answers with an error: that is "not yet".
      await waitFor(async () => { await (await jetstreamManager(nc, { timeout: scaled(2000) })).getAccountInfo(); return true; },
        { what: 'the JetStream cluster (a meta leader)', timeoutMs, intervalMs: 250, retryOnError: true });
    } finally {
      await nc.close();
    }
  }
}

export async function startNatsCluster(opts: { size?: number; name?: string } = {}): Promise<NatsCluster> {
  return NatsCluster.start(opts);
}
