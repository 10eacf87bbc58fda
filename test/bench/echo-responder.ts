/**
 * The bus's own limit: a raw NATS responder (separate process, no Nest, no work) on `bench.echo.<n>`
 * that answers every request with `n` bytes, so echo runs carry the same request and reply sizes as
 * the EKM operation they are compared with. Usage: node echo-responder.js <natsUrl>; prints "ready".
 */
import { connect } from '@nats-io/transport-node';

async function main(url: string): Promise<void> {
  const nc = await connect({ servers: url, name: 'ekm-bench-echo' });
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
  main(process.argv[2] ?? 'nats://127.0.0.1:4222').catch((err: unknown) => {
    process.stderr.write(`echo responder: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
