/**
 * The bus's own limit: a raw NATS responder (separate process, no Nest, no work) on `bench.echo.<n>`
 * that answers every request with `n` bytes, so echo runs carry the same request and reply sizes as
 * the EKM operation they are compared with. It neither opens nor checks the seal: the caller seals and
 * signs echo requests exactly as EKM requests (same bytes, same caller work), and the reply is a fixed
 * body of the EKM reply's size. Against `npm run up` it logs in as the `bench_echo` nkey identity over
 * the same TLS as the load generator, so both sides of an echo pay the bus costs an EKM call pays.
 * Usage: node echo-responder.js <natsUrl> [credentialsFile] [tlsCaFile]; prints "ready".
 */
import { benchConnect } from './bench-nats';

async function main(url: string, credentialsFile: string | undefined, tlsCaFile: string | undefined): Promise<void> {
  const nc = await benchConnect(url, { ...(credentialsFile ? { credentialsFile } : {}), ...(tlsCaFile ? { tlsCaFile } : {}) }, 'ekm-bench-echo');
  const replies = new Map<number, Uint8Array>();
  const replyOf = (n: number): Uint8Array => {
    let r = replies.get(n);
    if (!r) {
      // A JSON-looking body of exactly n bytes (n >= 16).
      r = Buffer.from(`{"ok":true,"d":"${'x'.repeat(Math.max(0, n - 17))}"}`);
      replies.set(n, r);
    }
    return r;
  };
  nc.subscribe('bench.echo.*', {
    callback: (err, msg) => {
      if (err) return;
      const n = Number(msg.subject.slice('bench.echo.'.length)) || msg.data.length;
      msg.respond(replyOf(n));
    },
  });
  await nc.flush();
  process.stdout.write('ready\n');
  const stop = (): void => { void nc.drain().then(() => process.exit(0)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main(process.argv[2] ?? 'nats://127.0.0.1:4222', process.argv[3] || undefined, process.argv[4] || undefined).catch((err: unknown) => {
    process.stderr.write(`echo responder: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
