/**
 * The load generator: a separate node process (forked by the harness, IPC messages) that keeps
 * `concurrency` requests in flight on one raw @nats-io/transport-node connection, like a busy caller.
 * It also runs the in-process AES-256-GCM baseline, so the crypto's own limit is measured in the same
 * kind of process as the callers.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { readCredentialFile, SEAL_HEADER, sealedRequest, serviceSessionSource, SessionSealer, type ActiveSession } from '@ekm/auth';
import { loginSessionSource } from '@ekm/client';
import { benchConnect, type BenchNatsLogin } from './bench-nats';
import { SampleBuffer, summarize, type LatencySummary } from './latency-stats';
import { requestMaker, type BenchOp, type Fixture } from './load-scenarios';

export type WorkerTarget = { kind: 'ekm' } | { kind: 'echo'; replyBytes: number };

/**
 * Who the load generator is. With `authSecret` (EKM_AUTH=required) it mints a service session
 * (`service:bench`) with the shared secret, as services calling services do (docs/auth.md §7), and signs
 * every request — echo requests too, so both carry the same bytes and the same caller work. With
 * `credentialsFile` (preferred over the secret) it logs in over `ekm.v1.policy.login` as any client does:
 * `--stack` uses the bootstrap admin of `npm run up`, whose keys service authorizes by policy and does not
 * know `service:bench`. With neither, requests are unsigned and claim `principal` (EKM_AUTH=disabled).
 * `nats`: the NATS identity and TLS CA to connect with (`--stack`: up's `bench` nkey identity over TLS);
 * `serviceKey`: the service identity the login reply must be signed by, when the credential file names none.
 */
export interface WorkerCaller {
  readonly principal: string;
  readonly authSecret?: string;
  readonly credentialsFile?: string;
  readonly nats?: BenchNatsLogin;
  readonly serviceKey?: string;
}

/**
 * Headers and body of one call: with a session, signed (fresh nonce each) and sealed as the SDK does,
 * with `open` for the reply; without, the claimed principal.
 */
export function callRequest(caller: WorkerCaller, session: ActiveSession | null, subject: string, body: Uint8Array): { headers: MsgHdrs; body: Uint8Array; open(data: Uint8Array, seal: string | undefined): Uint8Array } {
  const h = headers();
  if (!session) {
    h.set('Ekm-Principal', caller.principal);
    return { headers: h, body, open: (d) => d };
  }
  const s = sealedRequest(session, subject, randomUUID(), body);
  for (const [k, v] of Object.entries(s.headers)) h.set(k, v);
  return { headers: h, body: s.body, open: (d, seal) => Buffer.from(s.openReply(d, seal)) };
}

export async function sessionFor(caller: WorkerCaller, natsUrl: string): Promise<ActiveSession | null> {
  if (caller.credentialsFile !== undefined) {
    const nc = await benchConnect(natsUrl, caller.nats, 'ekm-bench-login');
    try {
      return await loginSessionSource(nc, readCredentialFile(caller.credentialsFile), 10_000, caller.serviceKey)();
    } finally {
      await nc.close();
    }
  }
  return caller.authSecret ? serviceSessionSource(new SessionSealer(caller.authSecret), 'bench', 60 * 60_000)() : null;
}

export type WorkerCommand =
  | { type: 'fixture'; fixture: Fixture }
  | { type: 'run'; natsUrl: string; target: WorkerTarget; caller: WorkerCaller; op: BenchOp; concurrency: number; warmupMs: number; durationMs: number }
  | { type: 'aes'; durationMs: number }
  | { type: 'exit' };

export interface RunResult {
  readonly requests: number;
  /** Requests answered in the whole run, warm-up included (what the per-request accounting divides by). */
  readonly requestsWithWarmup: number;
  readonly errors: number;
  readonly errorCodes: Record<string, number>;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latency: LatencySummary;
  readonly avgRequestBytes: number;
  readonly avgReplyBytes: number;
  /** CPU seconds the load generator itself spent in the measured window. */
  readonly callerCpuSeconds: number;
}

export interface AesResult { readonly encrypt32PerSecond: number; readonly dataKeyCorePerSecond: number }

export type WorkerReply = { type: 'run'; result: RunResult } | { type: 'aes'; result: AesResult } | { type: 'error'; message: string };

const connections = new Map<string, NatsConnection>();
let fixture: Fixture = { keys: [], blobs: [] };

async function natsFor(url: string, login: BenchNatsLogin | undefined): Promise<NatsConnection> {
  const id = `${url} ${login?.credentialsFile ?? ''}`;
  let nc = connections.get(id);
  if (!nc) {
    nc = await benchConnect(url, login, 'ekm-bench-load');
    connections.set(id, nc);
  }
  return nc;
}

/** Byte 6 of `{"ok":true,...}` is `t`: success is checked without parsing the reply. */
const isOk = (data: Uint8Array): boolean => data.length > 7 && data[6] === 0x74;

function codeOf(data: Uint8Array): string {
  try {
    const r = JSON.parse(Buffer.from(data).toString('utf8')) as { error?: { code?: string } };
    return r.error?.code ?? 'UNKNOWN';
  } catch {
    return 'UNPARSABLE_REPLY';
  }
}

async function run(cmd: Extract<WorkerCommand, { type: 'run' }>): Promise<RunResult> {
  const nc = await natsFor(cmd.natsUrl, cmd.caller.nats);
  const make = requestMaker(cmd.op, fixture);
  const session = await sessionFor(cmd.caller, cmd.natsUrl);
  const echoSubject = cmd.target.kind === 'echo' ? `bench.echo.${cmd.target.replyBytes}` : '';
  const samples = new SampleBuffer();
  const errorCodes: Record<string, number> = {};
  let errors = 0;
  let all = 0;
  let reqBytes = 0;
  let replyBytes = 0;
  const start = performance.now();
  const measureFrom = start + cmd.warmupMs;
  const end = measureFrom + cmd.durationMs;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const loop = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      if (!cpuAtStart && t0 >= measureFrom) cpuAtStart = process.cpuUsage();
      const req = make();
      const subj = echoSubject || `ekm.v1.keys.${req.op}`;
      const body = Buffer.from(req.body);
      let data: Uint8Array | undefined;
      let failure: string | undefined;
      try {
        // Signature and seal cover the EKM subject, also on echo runs (same bytes and caller work).
        const call = callRequest(cmd.caller, session, `ekm.v1.keys.${req.op}`, body);
        const m = await nc.request(subj, call.body, { timeout: 10_000, headers: call.headers });
        data = m.data;
        if (!echoSubject) {
          const plain = call.open(m.data, m.headers?.has(SEAL_HEADER) ? m.headers.get(SEAL_HEADER) : undefined);
          if (!isOk(plain)) failure = codeOf(plain);
        }
      } catch (err) {
        failure = (err as { code?: string }).code ?? (err as Error).name ?? 'REQUEST_FAILED';
      }
      const t1 = performance.now();
      all++;
      if (t0 < measureFrom) continue;
      samples.push(t1 - t0);
      reqBytes += body.length;
      replyBytes += data?.length ?? 0;
      if (failure) {
        errors++;
        errorCodes[failure] = (errorCodes[failure] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency }, loop));
  const cpu = process.cpuUsage(cpuAtStart);
  const seconds = (performance.now() - measureFrom) / 1000;
  const n = samples.length;
  return {
    requests: n, requestsWithWarmup: all, errors, errorCodes, seconds: Math.round(seconds * 1000) / 1000,
    requestsPerSecond: Math.round(n / seconds),
    latency: summarize(samples.take()),
    avgRequestBytes: n ? Math.round(reqBytes / n) : 0,
    avgReplyBytes: n ? Math.round(replyBytes / n) : 0,
    callerCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

/** AES-256-GCM of 32 bytes with node:crypto (createCipheriv: WebCrypto is ~7x slower here), and a DEK generation + wrap. */
function aesBaseline(durationMs: number): AesResult {
  const key = randomBytes(32);
  const plaintext = randomBytes(32);
  const timed = (fn: () => void): number => {
    let n = 0;
    const t0 = performance.now();
    const end = t0 + durationMs / 2;
    while (performance.now() < end) {
      for (let i = 0; i < 256; i++) fn();
      n += 256;
    }
    return Math.round(n / ((performance.now() - t0) / 1000));
  };
  const seal = (pt: Buffer): void => {
    const c = createCipheriv('aes-256-gcm', key, randomBytes(12), { authTagLength: 16 });
    Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
  };
  return { encrypt32PerSecond: timed(() => seal(plaintext)), dataKeyCorePerSecond: timed(() => seal(randomBytes(32))) };
}

async function handle(cmd: WorkerCommand): Promise<WorkerReply | undefined> {
  switch (cmd.type) {
    case 'fixture':
      fixture = cmd.fixture;
      return undefined;
    case 'run':
      return { type: 'run', result: await run(cmd) };
    case 'aes':
      return { type: 'aes', result: aesBaseline(cmd.durationMs) };
    case 'exit':
      await Promise.all([...connections.values()].map((c) => c.close()));
      process.exit(0);
  }
}

if (require.main === module) {
  process.on('message', (cmd: WorkerCommand) => {
    handle(cmd).then(
      (reply) => { if (reply) process.send!(reply); },
      (err: unknown) => process.send!({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
    );
  });
}
