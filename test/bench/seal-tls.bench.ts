/**
 * `npm run bench:seal [-- --quick]`: what sealing bodies (docs/auth.md §4a) and TLS to NATS cost, in one
 * run. Two private nats-servers with the generated per-identity config (one plaintext, one TLS with a
 * CA from infra/scripts/lib/tls.sh), and a responder in its own process answering a GenerateDataKey-
 * shaped request/reply (32-byte data key and a ~100-byte blob in the reply), sealed or not. The load
 * generator keeps BENCH_IN_FLIGHT requests in flight for BENCH_DURATION_MS per mode and reports req/s
 * and latency for {plain, tls} x {unsealed, sealed}, plus the seal/open CPU per message in-process.
 * Prints a markdown table and writes JSON to test/bench/results/seal-tls-<time>.json.
 *
 * This isolates the bus and the AEAD: the keys service's own work (policy, crypto, usage records) is
 * the same in every mode, so the whole-stack ratio is smaller than the one shown here.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { openBody, SEAL_HEADER, SEAL_VERSION, sealBody, sealKeyOf } from '@ekm/auth';
import { ekmNatsConfig, type EkmNatsConfig } from '../support/nats-auth';
import { startNats, stopServer, type ServerHandle } from '../support/servers';
import { summarize, type LatencySummary } from './latency-stats';

const QUICK = process.argv.includes('--quick');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? (QUICK ? 1500 : 8000));
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const SUBJECT = 'ekm.v1.keys.generate-data-key';
const log = (s: string): void => void process.stderr.write(`[bench:seal] ${s}\n`);

interface Mode { readonly tls: boolean; readonly sealed: boolean }
interface Row extends Mode { readonly requestsPerSecond: number; readonly latency: LatencySummary; readonly errors: number }

/** The responder process: answers SUBJECT, opening and sealing when the request is sealed. */
async function responder(): Promise<void> {
  const key = Buffer.from(process.env.BENCH_SEAL_KEY!, 'base64url');
  const nc = await connect({
    servers: process.env.BENCH_NATS_URL!, user: process.env.BENCH_USER!, pass: process.env.BENCH_PASS!,
    ...(process.env.BENCH_CA ? { tls: { caFile: process.env.BENCH_CA } } : {}),
  });
  const blob = randomBytes(100).toString('base64');
  nc.subscribe(SUBJECT, {
    callback: (_e, m) => {
      const h = m.headers;
      const sealed = h?.get(SEAL_HEADER) === SEAL_VERSION;
      const rid = h?.get('Ekm-Request-Id') ?? '';
      const req = JSON.parse((sealed ? openBody(key, 'request', m.subject, rid, m.data) : Buffer.from(m.data)).toString('utf8')) as { keyId: string };
      const reply = JSON.stringify({ ok: true, data: { keyId: req.keyId, keyVersion: 1, plaintext: randomBytes(32).toString('base64'), ciphertextBlob: blob } });
      if (!sealed) return void m.respond(reply);
      const rh = headers();
      rh.set(SEAL_HEADER, SEAL_VERSION);
      m.respond(sealBody(key, 'reply', m.subject, rid, Buffer.from(reply)), { headers: rh });
    },
  });
  await nc.flush();
  process.stdout.write('ready\n');
}

async function load(nc: NatsConnection, key: Buffer, sealed: boolean): Promise<Omit<Row, keyof Mode>> {
  const latencies: number[] = [];
  let errors = 0;
  const body = Buffer.from(JSON.stringify({ keyId: 'alias/bench', encryptionContext: { collection: 'docs' } }));
  const deadline = performance.now() + DURATION_MS;
  const one = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const rid = randomUUID();
      const h = headers();
      h.set('Ekm-Request-Id', rid);
      let payload: Uint8Array = body;
      if (sealed) {
        h.set(SEAL_HEADER, SEAL_VERSION);
        payload = sealBody(key, 'request', SUBJECT, rid, body);
      }
      const t0 = performance.now();
      try {
        const m = await nc.request(SUBJECT, payload, { timeout: 10_000, headers: h });
        const plain = sealed ? openBody(key, 'reply', SUBJECT, rid, m.data) : Buffer.from(m.data);
        if (!(JSON.parse(plain.toString('utf8')) as { ok: boolean }).ok) errors++;
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, one));
  const seconds = (performance.now() - started) / 1000;
  return { requestsPerSecond: Math.round(latencies.length / seconds), latency: summarize(Float64Array.from(latencies)), errors };
}

function sealCpu(key: Buffer): { sealOpenUsPerMessage: number } {
  const body = Buffer.from(JSON.stringify({ ok: true, data: { keyId: randomUUID(), keyVersion: 1, plaintext: randomBytes(32).toString('base64'), ciphertextBlob: randomBytes(100).toString('base64') } }));
  const n = QUICK ? 20_000 : 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) openBody(key, 'reply', SUBJECT, 'r', sealBody(key, 'reply', SUBJECT, 'r', body));
  return { sealOpenUsPerMessage: Number((((performance.now() - t0) * 1000) / n).toFixed(2)) };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'ekm-bench-tls-'));
  const lib = join(__dirname, '..', '..', '..', 'infra', 'scripts', 'lib');
  execFileSync('bash', ['-c', `set -euo pipefail; source "${lib}/common.sh"; EKM_HOME="${home}"; source "${lib}/tls.sh"; ensure_local_ca; ensure_server_cert nats 127.0.0.1 localhost`], { stdio: 'ignore' });
  const tlsDir = join(home, 'tls');
  const configs: Record<'plain' | 'tls', EkmNatsConfig> = { plain: ekmNatsConfig(), tls: ekmNatsConfig({ tlsCert: join(tlsDir, 'nats.pem'), tlsKey: join(tlsDir, 'nats-key.pem') }) };
  const servers: ServerHandle[] = [];
  const children: ChildProcess[] = [];
  const key = sealKeyOf(randomBytes(32));
  const rows: Row[] = [];
  try {
    for (const tls of [false, true]) {
      const cfg = configs[tls ? 'tls' : 'plain'];
      const nats = await startNats({ config: cfg.config });
      servers.push(nats);
      const url = `nats://127.0.0.1:${nats.port}`;
      const ca = tls ? join(tlsDir, 'ca.pem') : '';
      const child = spawn(process.execPath, [__filename, '--responder'], {
        env: { ...process.env, BENCH_NATS_URL: url, BENCH_USER: cfg.harness.user, BENCH_PASS: cfg.harness.password, BENCH_CA: ca, BENCH_SEAL_KEY: key.toString('base64url') },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
        child.once('exit', (c) => reject(new Error(`responder exited (${c})`)));
      });
      const nc = await connect({ servers: url, user: cfg.harness.user, pass: cfg.harness.password, ...(tls ? { tls: { caFile: ca } } : {}) });
      for (const sealed of [false, true]) {
        await load(nc, key, sealed); // warm-up, same length as the measurement would be too long in --quick
        log(`${tls ? 'tls' : 'plain'} ${sealed ? 'sealed' : 'unsealed'}`);
        rows.push({ tls, sealed, ...(await load(nc, key, sealed)) });
      }
      await nc.close();
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    for (const s of servers) await stopServer(s);
  }
  const base = rows.find((r) => !r.tls && !r.sealed)!.requestsPerSecond;
  const cpu = sealCpu(key);
  const table = [
    `| NATS | bodies | in flight | req/s | × plain unsealed | p50 ms | p99 ms | errors |`,
    `|---|---|---|---|---|---|---|---|`,
    ...rows.map((r) => `| ${r.tls ? 'TLS' : 'plaintext'} | ${r.sealed ? 'sealed' : 'unsealed'} | ${IN_FLIGHT} | ${r.requestsPerSecond} | ${(r.requestsPerSecond / base).toFixed(2)} | ${r.latency.p50Ms.toFixed(2)} | ${r.latency.p99Ms.toFixed(2)} | ${r.errors} |`),
  ].join('\n');
  process.stdout.write(`${table}\n\nseal + open of one GenerateDataKey reply in-process: ${cpu.sealOpenUsPerMessage} µs\n`);
  const dir = join(__dirname, '..', '..', '..', 'test', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `seal-tls-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ quick: QUICK, durationMs: DURATION_MS, inFlight: IN_FLIGHT, host: hostname(), cpus: cpus().length, loadavg: loadavg(), rows, ...cpu }, null, 2)}\n`);
  log(`wrote ${file}`);
}

(process.argv.includes('--responder') ? responder() : main()).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
