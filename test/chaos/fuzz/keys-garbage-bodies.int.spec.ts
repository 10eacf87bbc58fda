/**
 * Garbage on every keys subject ("no database change on rejection"): random bytes,
 * arbitrary JSON and wrong-typed fields, sent over the bus to the real keys service (in-process,
 * EKM_AUTH=disabled, private nats-server). Every reply is a typed error (never EKM_INTERNAL, never a
 * hang) and no row of the service's state changes. Usage records (FAILED) are the only writes.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { headers } from '@nats-io/transport-node';
import { BusErrorCode, KEYS_OPERATIONS, subject, type Reply } from '@ekm/contracts';
import { dataOf, startKeysHarness, type Harness } from '../../../apps/keys/src/keys/adapters/nats/keys-admin.test-harness';
import { USAGE_RECORDS } from '../../support/usage-records';

let h: Harness;
let realKeyId: string;
const TYPED = new Set<string>(Object.values(BusErrorCode).filter((c) => c !== BusErrorCode.Internal));
// Reads that may answer ok to a body they tolerate (e.g. list-keys with {} lists everything).
const READ_ONLY = new Set(['status', 'list-keys', 'describe-key', 'list-key-versions', 'get-key-rotation-status']);

beforeAll(async () => {
  h = await startKeysHarness();
  realKeyId = dataOf(await h.call<{ keyId: string }>('create-key', { tenant: 'fuzz' })).keyId;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** Row counts of every table of the service's schema; events split into key streams and the rest (refusal records of invalid bodies are not state). */
async function snapshot(): Promise<Record<string, number>> {
  const { rows: tables } = await h.db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'ekm_keys' AND table_type = 'BASE TABLE' ORDER BY 1`);
  const out: Record<string, number> = {};
  for (const { t } of tables) {
    if (t === 'events' || t === 'streams') continue;
    out[t] = Number((await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_keys."${t}"`)).rows[0].n);
  }
  out['events(key-*)'] = await h.keyEvents();
  out['events(other, not usage)'] = Number((await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_keys.events WHERE stream_id NOT LIKE 'key-%' AND event_type NOT IN ('KeyUsageRecorded', 'KeyUsageBatchRecorded', 'AccessDenied')`)).rows[0].n);
  out['usage ALLOWED'] = Number((await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${USAGE_RECORDS} WHERE data->>'outcome' = 'ALLOWED' AND data->>'operation' NOT IN ('ListKeys','DescribeKey','ListKeyVersions','GetKeyRotationStatus')`)).rows[0].n);
  return out;
}

async function send(op: string, payload: Uint8Array | string): Promise<Reply<unknown>> {
  const hd = headers();
  hd.set('Ekm-Request-Id', randomUUID());
  const m = await h.nc.request(subject('keys', op as never), payload, { timeout: 10_000, headers: hd });
  return m.json<Reply<unknown>>();
}

const garbage: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 4 }).map((o) => JSON.stringify({ ...o, ['x-unknown-' + Object.keys(o).length]: 1 })),
  fc.record({ keyId: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string()), fc.constant('')), tenant: fc.oneof(fc.integer(), fc.constant('')), items: fc.oneof(fc.string(), fc.constant([{}])) }, { requiredKeys: ['keyId'] }).map((o) => JSON.stringify(o)),
  fc.constantFrom('', '{', '{"keyId":', '\u0000', 'null', '[]', '{"__proto__":{"keyId":"x"}}', `{"keyId":"${'a'.repeat(301)}"}`),
);

it('every keys subject: random garbage gets a typed error (or an ok read), and no state row changes', async () => {
  const ops = KEYS_OPERATIONS.filter((op) => op !== 'status');
  const before = await snapshot();
  const codes = new Map<string, number>();
  let slowest = 0;
  const samples = fc.sample(garbage, { numRuns: 12 * ops.length, seed: 9 });
  for (let i = 0; i < samples.length; i++) {
    const op = ops[i % ops.length];
    const start = performance.now();
    const r = await send(op, samples[i]);
    slowest = Math.max(slowest, performance.now() - start);
    if (r.ok) {
      expect({ op, ok: READ_ONLY.has(op) }).toEqual({ op, ok: true });
      continue;
    }
    expect({ op, code: r.error.code, typed: TYPED.has(r.error.code) }).toEqual({ op, code: r.error.code, typed: true });
    codes.set(r.error.code, (codes.get(r.error.code) ?? 0) + 1);
  }
  expect(await snapshot()).toEqual(before);
  expect(dataOf(await h.call<{ keyId: string }>('describe-key', { keyId: realKeyId })).keyId).toBe(realKeyId); // still serving
  console.log(`garbage bodies: ${samples.length} requests over ${ops.length} subjects, slowest reply ${slowest.toFixed(1)} ms, codes ${JSON.stringify(Object.fromEntries(codes))}`);
}, 60_000);
