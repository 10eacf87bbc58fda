/**
 * `npm run bench:kms`: GenerateDataKey and Decrypt through the AWS KMS-compatible API (kms-api, over
 * HTTPS, SigV4, the policy check and the keys service behind it) next to a bare HTTPS echo server in the
 * same run. Both are driven by the same `@aws-sdk/client-kms` client, TLS settings and connection pool;
 * the echo server answers each operation with a canned reply of the same shape and size, so the ratio
 * is what EKM costs over HTTP itself. Targets (docs/performance.md): at 64 in flight >= 0.4x the echo's
 * throughput; sequential p50 <= 4x the echo's p50.
 * Runs against `npm run up` (reads .ekm/stack.json, .ekm/aws/credentials, .ekm/tls/).
 *   --quick   1 s per run instead of 10 s      --save   write test/bench/results/kms-api-<time>.json
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { summarize, SampleBuffer, type LatencySummary } from './latency-stats';

const root = join(__dirname, '..', '..', '..');
const home = process.env.EKM_HOME ?? join(root, '.ekm');
const args = new Set(process.argv.slice(2));
const durationMs = args.has('--quick') ? 1000 : 10_000;
const CONTEXT = { collection: 'bench' };

interface Run { target: 'kms-api' | 'echo'; op: string; concurrency: number; requestsPerSecond: number; errors: number; latency: LatencySummary }

function profile(file: string): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(file, 'utf8');
  const get = (k: string): string => new RegExp(`^${k}\\s*=\\s*(\\S+)`, 'm').exec(text)?.[1] ?? '';
  return { accessKeyId: get('aws_access_key_id'), secretAccessKey: get('aws_secret_access_key') };
}

/** Replies with `replies[target op]` to every POST: HTTP, TLS and JSON, no EKM. */
function startEcho(cert: Buffer, key: Buffer, replies: Record<string, string>): Promise<Server> {
  const server = createServer({ cert, key }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = replies[op] ?? '{}';
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': 'echo' });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function run(target: Run['target'], client: KMSClient, op: string, make: () => GenerateDataKeyCommand | DecryptCommand, concurrency: number): Promise<Run> {
  const samples = new SampleBuffer();
  let errors = 0;
  const end = performance.now() + durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        await client.send(make() as never);
        samples.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const latency = summarize(samples.take());
  return { target, op, concurrency, requestsPerSecond: Math.round(latency.count / ((performance.now() - started) / 1000)), errors, latency };
}

async function main(): Promise<void> {
  const stack = JSON.parse(readFileSync(join(home, 'stack.json'), 'utf8')) as { kmsEndpoint?: string };
  if (!stack.kmsEndpoint) throw new Error('no kmsEndpoint in .ekm/stack.json: run npm run up');
  const ca = readFileSync(join(home, 'tls', 'ca.pem'));
  const agent = new Agent({ ca, keepAlive: true, maxSockets: 64 });
  const clientFor = (endpoint: string): KMSClient => new KMSClient({
    endpoint, region: 'us-east-1', maxAttempts: 1, credentials: profile(join(home, 'aws', 'credentials')), requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
  });
  const kms = clientFor(stack.kmsEndpoint);
  const keyId = (await kms.send(new CreateKeyCommand({ Description: 'bench:kms' }))).KeyMetadata!.KeyId!;
  const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32, EncryptionContext: CONTEXT }));
  const blob = dk.CiphertextBlob!;
  const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
  const replies = {
    GenerateDataKey: JSON.stringify({ CiphertextBlob: b64(blob), Plaintext: b64(dk.Plaintext!), KeyId: dk.KeyId }),
    Decrypt: JSON.stringify({ Plaintext: b64(dk.Plaintext!), KeyId: dk.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
  };
  const echoServer = await startEcho(readFileSync(join(home, 'tls', 'kms-api.pem')), readFileSync(join(home, 'tls', 'kms-api-key.pem')), replies);
  const echo = clientFor(`https://127.0.0.1:${(echoServer.address() as AddressInfo).port}`);
  const ops = {
    GenerateDataKey: () => new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32, EncryptionContext: CONTEXT }),
    Decrypt: () => new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: CONTEXT }),
  };
  const runs: Run[] = [];
  const rows: string[] = ['| operation | in flight | kms-api req/s | p50 ms | p99 ms | errors | echo req/s | echo p50 ms | throughput ×echo | p50 ÷echo |', '|---|---|---|---|---|---|---|---|---|---|'];
  for (const [op, make] of Object.entries(ops)) {
    for (const concurrency of [1, 64]) {
      const a = await run('kms-api', kms, op, make, concurrency);
      const e = await run('echo', echo, op, make, concurrency);
      runs.push(a, e);
      const ratio = e.requestsPerSecond ? Math.round((a.requestsPerSecond / e.requestsPerSecond) * 100) / 100 : null;
      const p50 = e.latency.p50Ms ? Math.round((a.latency.p50Ms / e.latency.p50Ms) * 10) / 10 : null;
      rows.push(`| ${op} | ${concurrency} | ${a.requestsPerSecond} | ${a.latency.p50Ms} | ${a.latency.p99Ms} | ${a.errors} | ${e.requestsPerSecond} | ${e.latency.p50Ms} | ${ratio ?? '–'} | ${p50 ?? '–'} |`);
      process.stderr.write(`[bench:kms] ${op} @${concurrency}: ${a.requestsPerSecond}/s (echo ${e.requestsPerSecond}/s), p50 ${a.latency.p50Ms} ms (echo ${e.latency.p50Ms}), errors ${a.errors}\n`);
    }
  }
  process.stdout.write(`${rows.join('\n')}\n\ntargets: 64 in flight >= 0.4x echo throughput; sequential p50 <= 4x echo p50\n`);
  if (args.has('--save')) {
    const dir = join(root, 'test', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `kms-api-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), `${JSON.stringify({ durationMs, runs }, null, 2)}\n`);
  }
  kms.destroy();
  echo.destroy();
  agent.destroy();
  await new Promise<void>((r) => echoServer.close(() => r()));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:kms failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
