/**
 * The keys and blobs every run draws from: 50 keys in 5 tenants (each key bound to its own
 * collection through the encryption context) and 4 data-key blobs per key for Decrypt/ReEncrypt.
 * Created through the keys service itself, over raw NATS.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ActiveSession } from '@ekm/auth';
import type { Fixture, FixtureBlob, FixtureKey } from './load-scenarios';
import { benchConnect } from './bench-nats';
import { callRequest, sessionFor, type WorkerCaller } from './load-worker';

export const TENANTS = 5;
export const KEYS_PER_TENANT = 10;
export const BLOBS_PER_KEY = 4;

async function call<T>(nc: NatsConnection, op: string, body: unknown, caller: WorkerCaller, session: ActiveSession | null): Promise<T> {
  const subject = `ekm.v1.keys.${op}`;
  const bytes = Buffer.from(JSON.stringify(body));
  const c = callRequest(caller, session, subject, bytes);
  const m = await nc.request(subject, c.body, { timeout: 30_000, headers: c.headers });
  const r = JSON.parse(Buffer.from(c.open(m.data, m.headers?.has('Ekm-Seal') ? m.headers.get('Ekm-Seal') : undefined)).toString('utf8')) as { ok: true; data: T } | { ok: false; error: { code: string; message: string } };
  if (!r.ok) throw new Error(`${op} failed while preparing the benchmark: ${r.error.code} ${r.error.message}`);
  return r.data;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inParallel<T, R>(items: readonly T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

export async function prepareFixture(natsUrl: string, caller: WorkerCaller): Promise<Fixture> {
  const nc = await benchConnect(natsUrl, caller.nats, 'ekm-bench-setup');
  const session = await sessionFor(caller, natsUrl);
  try {
    const run = Date.now().toString(36);
    const specs = Array.from({ length: TENANTS * KEYS_PER_TENANT }, (_, i) => ({ tenant: `bench-t${Math.floor(i / KEYS_PER_TENANT) + 1}`, collection: `c${i}` }));
    const keys: FixtureKey[] = await inParallel(specs, 8, async (s) => {
      const info = await call<{ keyId: string }>(nc, 'create-key', { tenant: s.tenant, description: `bench ${run}`, tags: { bench: run } }, caller, session);
      return { keyId: info.keyId, tenant: s.tenant, context: { tenant: s.tenant, collection: s.collection } };
    });
    const wanted = keys.flatMap((_, keyIndex) => Array.from({ length: BLOBS_PER_KEY }, () => keyIndex));
    const blobs: FixtureBlob[] = await inParallel(wanted, 16, async (keyIndex) => {
      const k = keys[keyIndex];
      const d = await call<{ ciphertextBlob: string }>(nc, 'generate-data-key-without-plaintext', { keyId: k.keyId, encryptionContext: k.context }, caller, session);
      return { keyIndex, ciphertextBlob: d.ciphertextBlob };
    });
    return { keys, blobs };
  } finally {
    await nc.close();
  }
}
