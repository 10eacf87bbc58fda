/**
 * CLI of the vector-store example:
 *   node dist/examples/vector-store/src/main.js ingest --tenant acme --collection docs --file data/acme.jsonl
 *   ... query  --tenant acme --collection docs --vector 1,0,0 --k 2
 *   ... rotate --tenant acme      ... rewrap --tenant acme      ... shred --tenant acme --window-days 0
 * NATS: --nats, else EKM_NATS_URL, else natsUrl of the nearest .ekm/stack.json (`npm run up`).
 * Postgres: --database-url, else VS_DATABASE_URL, else postgresUrl of .ekm/stack.json.
 * Prints one JSON document per command on stdout; errors go to stderr as `error <code>: <message>`, exit 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { Pool } from 'pg';
import { Ekm, type JsonValue } from '@ekm/client';
import { VectorStore, type AssetInput } from './vector-store';
import { migrateVectorStore } from './vector-store.schema';

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

interface Conn { nats?: string; databaseUrl?: string }

function stackJson(from = process.cwd()): { natsUrl?: string; postgresUrl?: string } {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, '.ekm', 'stack.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { natsUrl?: string; postgresUrl?: string };
    if (dirname(dir) === dir) return {};
  }
}

/** Parses a JSON-lines file of `{ "asset": "...", "vector": [numbers], "metadata": {...} }`. */
export function parseAssets(text: string): AssetInput[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0).map((line, i) => {
    const o = JSON.parse(line) as { asset?: unknown; vector?: unknown; metadata?: unknown };
    if (typeof o.asset !== 'string' || !Array.isArray(o.vector) || !o.vector.every((x) => typeof x === 'number')) {
      throw new Error(`line ${i + 1}: expected {"asset": string, "vector": number[], "metadata": any}`);
    }
    return { asset: o.asset, vector: Float32Array.from(o.vector as number[]), metadata: (o.metadata ?? null) as JsonValue };
  });
}

async function withStore<T>(conn: Conn, f: (store: VectorStore) => Promise<T>): Promise<T> {
  const stack = stackJson();
  // No default server: a guessed one could be someone else's, and would get our signed login.
  const servers = conn.nats ?? process.env.EKM_NATS_URL ?? stack.natsUrl;
  if (!servers) throw new Error('no NATS URL: pass --nats, set EKM_NATS_URL, or run `npm run up` first (.ekm/stack.json)');
  const databaseUrl = conn.databaseUrl ?? process.env.VS_DATABASE_URL ?? stack.postgresUrl;
  if (!databaseUrl) throw new Error('no database: pass --database-url, set VS_DATABASE_URL, or run `npm run up` first');
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  let ekm: Ekm | undefined;
  try {
    await migrateVectorStore(pool);
    ekm = await Ekm.connect({ servers, name: 'vector-store-example', connectTimeoutMs: 5000 });
    return await f(new VectorStore(ekm, pool));
  } finally {
    await ekm?.close().catch(() => undefined);
    await pool.end();
  }
}

const vectorArg = (s: string): Float32Array => {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new Error(`--vector must be comma-separated numbers, got "${s}"`);
  return Float32Array.from(v);
};

export function buildProgram(io: Io): Command {
  const program = new Command('vector-store').description('EKM vector-store example: encrypted embeddings per tenant')
    .option('--nats <url>', 'NATS server URL').option('--database-url <url>', 'Postgres URL for the example\'s tables')
    .exitOverride().configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  const conn = (): Conn => program.opts<Conn>();
  const print = (v: unknown) => io.out(JSON.stringify(v, null, 2));
  program.command('ingest').description('encrypt and store assets from a JSON-lines file')
    .requiredOption('--tenant <t>').requiredOption('--collection <c>').requiredOption('--file <path>')
    .action(async (o: { tenant: string; collection: string; file: string }) => {
      const items = parseAssets(readFileSync(o.file, 'utf8'));
      print(await withStore(conn(), async (s) => ({ ingested: await s.ingest(o.tenant, o.collection, items), keyId: await s.tenantKey(o.tenant), cache: s.keys.stats() })));
    });
  program.command('query').description('k nearest neighbours by cosine similarity (decrypts the collection)')
    .requiredOption('--tenant <t>').requiredOption('--collection <c>').requiredOption('--vector <v>', 'e.g. 1,0,0')
    .option('--k <k>', 'neighbours', '3')
    .action(async (o: { tenant: string; collection: string; vector: string; k: string }) => {
      const vector = vectorArg(o.vector);
      print(await withStore(conn(), (s) => s.query(o.tenant, o.collection, vector, Number(o.k))));
    });
  program.command('rotate').description("rotate the tenant's EKM key (new primary version)").requiredOption('--tenant <t>')
    .action(async (o: { tenant: string }) => {
      print(await withStore(conn(), async (s) => {
        const k = await s.rotate(o.tenant);
        return { keyId: k.keyId, primaryVersion: k.primaryVersion };
      }));
    });
  program.command('rewrap').description('re-wrap stored data keys under the primary version (EKM ReEncrypt)').requiredOption('--tenant <t>')
    .action(async (o: { tenant: string }) => print(await withStore(conn(), (s) => s.rewrap(o.tenant))));
  program.command('shred').description("schedule deletion of the tenant's key and destroy it once the window has passed")
    .requiredOption('--tenant <t>').option('--window-days <n>', 'pending window (>= the keys service EKM_DELETION_MIN_DAYS)', '7')
    .action(async (o: { tenant: string; windowDays: string }) => print(await withStore(conn(), (s) => s.shred(o.tenant, Number(o.windowDays)))));
  return program;
}

/** Runs one command; resolves to the process exit code. */
export async function run(argv: readonly string[], io: Io = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (err) {
    const e = err as { code?: string; message?: string; exitCode?: number };
    if (typeof e.exitCode === 'number' && e.code?.startsWith('commander.')) return e.exitCode; // commander already printed it
    io.err(`error ${e.code ?? 'ERROR'}: ${e.message ?? String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
