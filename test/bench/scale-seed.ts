/**
 * Bulk seeding for `npm run bench:scale`: key streams written straight into a keys schema, row for row
 * what the keys service writes, but thousands of streams per transaction instead of one.
 *
 * - Events come from the domain's own `decide` (CreateKey, RotateKey, TagKey, ...) and are prepared by the
 *   event store's `prepareAppend` (same event ids, JSON and metadata as `appendToStream`).
 * - KEK material is generated and wrapped by the stack's own root of trust (`generateKek`, as
 *   KeyAdminUseCases.newKek does) and stored in `key_material` under the event's materialRef.
 * - The key projection is written by the service's KeyProjection, over each chunk's recorded events.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { encryptBlob, keyFingerprint, KeyMaterial, type RootOfTrust } from '@ekm/crypto';
import { ExpectedVersion, pgTransactionContext, quoteIdent, serviceSchema, type RecordedEvent } from '@ekm/event-store';
import { prepareAppend } from '../../libs/event-store/src/append-input';
import { asKeyId, decide, DEFAULT_KEY_LIMITS, foldKeyEvents, initialState, isExistingKey, type KeyCommand, type KeyEvent, type KeyState } from '../../apps/keys/src/keys/domain';
import { commandMeta, deterministicId } from '../../apps/keys/src/keys/application/call-context';
import { keyStreamId } from '../../apps/keys/src/keys/application/key-stream';
import { KeyProjection } from '../../apps/keys/src/keys/adapters/postgres/key-projection';
import type { FixtureBlob, FixtureKey } from './load-scenarios';

/** One accepted command: the events it appends to its key stream (as one append would). */
interface Append { readonly streamId: string; readonly from: number; readonly rows: ReturnType<typeof prepareAppend> }

const PRINCIPAL = 'service:bench-scale';

const seedMeta = (operation: string): KeyCommand['meta'] => commandMeta({ requestId: randomUUID(), principal: PRINCIPAL, now: new Date().toISOString() }, operation);

/** decide → prepareAppend, as HandleKeyCommand does; null when the domain refuses the command. */
function accept(state: KeyState, cmd: KeyCommand): { events: KeyEvent[]; append: Append; state: KeyState } | null {
  const decision = decide(cmd, state, DEFAULT_KEY_LIMITS);
  if (!decision.ok || decision.events.length === 0) return null;
  const streamId = keyStreamId(cmd.data.keyId);
  const version = isExistingKey(state) ? streamVersionOf(state) : 0;
  const rows = prepareAppend(streamId, decision.events, { expectedVersion: ExpectedVersion.fromVersion(version), commandId: cmd.meta.commandId });
  return { events: decision.events, append: { streamId, from: version + 1, rows }, state: foldKeyEvents(decision.events, state) };
}

// The domain state does not carry the stream version: the generator tracks it beside the state.
const versions = new WeakMap<KeyState, number>();
const streamVersionOf = (s: KeyState): number => versions.get(s) ?? 0;

function fresh(tenant: string, n: number, fingerprint: string, description: string): { keyId: string; cmd: KeyCommand } {
  const requestId = randomUUID();
  const keyId = asKeyId(deterministicId('key-id', requestId));
  const meta = commandMeta({ requestId, principal: PRINCIPAL, now: new Date().toISOString() }, 'CreateKey');
  return {
    keyId,
    cmd: {
      type: 'CreateKey', meta,
      data: { keyId, tenant, spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin: 'EKM', description, tags: { bench: 'scale', n: String(n) }, initialVersion: { materialRef: randomUUID(), fingerprint } },
    },
  };
}

/** Writes appends (events, streams) in one statement each; returns the recorded events when asked. */
async function insertAppends(c: Client, schema: string, appends: readonly Append[], recorded: boolean): Promise<RecordedEvent[]> {
  const s = quoteIdent(schema);
  const cols: [string[], number[], string[], string[], number[], string[], string[]] = [[], [], [], [], [], [], []];
  const streamVersion = new Map<string, number>();
  for (const a of appends) {
    a.rows.forEach((r, i) => {
      cols[0].push(a.streamId); cols[1].push(a.from + i); cols[2].push(r.eventId); cols[3].push(r.type);
      cols[4].push(r.schemaVersion); cols[5].push(r.dataJson); cols[6].push(r.metaJson);
    });
    streamVersion.set(a.streamId, a.from + a.rows.length - 1);
  }
  // ORDER BY ordinality: global positions follow the log order of the generated appends.
  const res = await c.query<{ global_position: string; transaction_id: string; stream_id: string; stream_position: number; event_id: string; event_type: string; schema_version: number; data: unknown; metadata: RecordedEvent['meta']; recorded_at: Date }>(
    `INSERT INTO ${s}.events (stream_id, stream_position, event_id, event_type, schema_version, data, metadata)
     SELECT u.a, u.b, u.c, u.d, u.e, u.f, u.g
       FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[]) WITH ORDINALITY AS u(a, b, c, d, e, f, g, o)
      ORDER BY u.o
     ${recorded ? 'RETURNING global_position::text, transaction_id::text, stream_id, stream_position, event_id::text, event_type, schema_version, data, metadata, recorded_at' : ''}`,
    cols,
  );
  await c.query(
    `INSERT INTO ${s}.streams (stream_id, version) SELECT * FROM unnest($1::text[], $2::int[])
     ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version`,
    [[...streamVersion.keys()], [...streamVersion.values()]],
  );
  if (!recorded) return [];
  return res.rows
    .map((r) => ({
      globalPosition: r.global_position, transactionId: r.transaction_id, streamId: r.stream_id, streamPosition: r.stream_position, eventId: r.event_id,
      type: r.event_type, schemaVersion: r.schema_version, data: r.data, meta: r.metadata, recordedAt: r.recorded_at,
    }))
    .sort((a, b) => Number(a.globalPosition) - Number(b.globalPosition));
}

export interface SeedKeysOptions {
  /** Owner/admin URL of the database holding `ekm_keys`. */
  readonly adminUrl: string;
  /** The stack's root of trust (KEKs are wrapped under it, as the service wraps them). */
  readonly root: RootOfTrust;
  readonly count: number;
  readonly tenants: number;
  /** Keys per transaction. */
  readonly chunk?: number;
  readonly onProgress?: (done: number) => void;
}

export interface SeedKeysResult {
  readonly keys: FixtureKey[];
  /** One data-key blob per key (a 32-byte DEK under the key's version 1, as GenerateDataKey makes). */
  readonly blobs: FixtureBlob[];
  readonly events: number;
  readonly ms: number;
}

/**
 * `count` Enabled AES keys (KeyCreated + KeyVersionAdded each), their wrapped material and projection
 * rows, in `ekm_keys` of `adminUrl`; the outbox relay's checkpoint is moved past them (a deployment with
 * 100k keys relayed their creation long ago). Run with the keys service stopped.
 */
export async function seedKeys(o: SeedKeysOptions, keyIndexBase = 0): Promise<SeedKeysResult> {
  const t0 = Date.now();
  const schema = serviceSchema('keys');
  const s = quoteIdent(schema);
  const c = new Client({ connectionString: o.adminUrl, application_name: 'ekm-bench-scale-seed' });
  await c.connect();
  const projection = new KeyProjection('keys');
  const keys: FixtureKey[] = [];
  const blobs: FixtureBlob[] = [];
  let events = 0;
  try {
    const chunk = o.chunk ?? 1000;
    for (let done = 0; done < o.count; done += chunk) {
      const n = Math.min(chunk, o.count - done);
      const appends: Append[] = [];
      const material: { keyId: string; version: number; ref: string; wrapped: Buffer }[] = [];
      for (let i = 0; i < n; i++) {
        const idx = keyIndexBase + done + i;
        const tenant = `scale-t${idx % o.tenants}`;
        const context = { tenant, collection: `c${idx}` };
        const { material: kek, wrapped } = await o.root.generateKek();
        let created;
        try {
          const f = fresh(tenant, idx, keyFingerprint(kek), `bench scale key ${idx}`);
          created = { ...f, ...accept(initialState, f.cmd)! };
          blobs.push({ keyIndex: keys.length, ciphertextBlob: encryptBlob({ key: kek, keyId: f.keyId, keyVersion: 1, plaintext: randomBytes(32), context }).toString('base64') });
        } finally {
          kek.dispose();
        }
        keys.push({ keyId: created.keyId, tenant, context });
        appends.push(created.append);
        const added = created.events.find((e) => e.type === 'KeyVersionAdded');
        if (added?.type !== 'KeyVersionAdded') throw new Error('CreateKey did not add version 1');
        material.push({ keyId: created.keyId, version: added.data.version, ref: added.data.materialRef, wrapped });
      }
      await c.query('BEGIN');
      try {
        const recorded = await insertAppends(c, schema, appends, true);
        events += recorded.length;
        await c.query(
          `INSERT INTO ${s}.key_material (key_id, version, material_ref, wrapped) SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bytea[])`,
          [material.map((m) => m.keyId), material.map((m) => m.version), material.map((m) => m.ref), material.map((m) => m.wrapped)],
        );
        await projection.apply(pgTransactionContext(c as unknown as Parameters<typeof pgTransactionContext>[0]), recorded);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      o.onProgress?.(done + n);
    }
    await c.query(
      `UPDATE ${s}.outbox_relay SET (transaction_id, global_position) =
         (SELECT transaction_id, global_position FROM ${s}.events ORDER BY transaction_id DESC, global_position DESC LIMIT 1)
        WHERE name = 'outbox'`,
    );
  } finally {
    await c.end();
  }
  return { keys, blobs, events, ms: Date.now() - t0 };
}

export interface EventMixResult {
  readonly events: number;
  readonly keys: number;
  /** Keys whose projection row must exist after a rebuild. */
  readonly liveKeys: number;
  readonly byType: Record<string, number>;
  readonly ms: number;
}

type Op = 'create' | 'rotate' | 'tag' | 'untag' | 'describe' | 'rotation' | 'alias' | 'toggle';
/** Weights of what happens to the log over time (creation ~1 in 5 commands; then rotations, tags, ...). */
const MIX: readonly [Op, number][] = [['create', 20], ['rotate', 22], ['tag', 22], ['untag', 5], ['describe', 10], ['rotation', 8], ['alias', 7], ['toggle', 6]];

/**
 * Appends about `target` events of a realistic life of key streams to `ekm_keys` of `adminUrl` (a
 * database of its own; the schema must be migrated): keys are created over time and, interleaved with
 * the creation of others, rotated, tagged, re-described, aliased, disabled and enabled. Commands are
 * decided by the domain, so every stream folds. No key_material (a rebuild does not read it).
 */
export async function seedEventMix(adminUrl: string, target: number, onProgress?: (done: number) => void): Promise<EventMixResult> {
  const t0 = Date.now();
  const schema = serviceSchema('keys');
  const c = new Client({ connectionString: adminUrl, application_name: 'ekm-bench-scale-mix' });
  await c.connect();
  const ids: string[] = [];
  const states = new Map<string, KeyState>();
  const byType: Record<string, number> = {};
  const table: Op[] = MIX.flatMap(([op, w]) => Array.from({ length: w }, () => op));
  const fingerprint = (): string => { const m = KeyMaterial.random(32); try { return keyFingerprint(m); } finally { m.dispose(); } };
  let events = 0;
  let aliases = 0;
  let pending: Append[] = [];
  let pendingEvents = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    await c.query('BEGIN');
    await insertAppends(c, schema, pending, false);
    await c.query('COMMIT');
    pending = [];
    pendingEvents = 0;
    onProgress?.(events);
  };
  try {
    while (events < target) {
      const op: Op = ids.length < 100 ? 'create' : table[Math.floor(Math.random() * table.length)];
      let result: ReturnType<typeof accept> = null;
      let keyId: string;
      if (op === 'create') {
        const f = fresh(`mix-t${ids.length % 50}`, ids.length, fingerprint(), `mixed log key ${ids.length}`);
        keyId = f.keyId;
        result = accept(initialState, f.cmd);
        if (result) ids.push(keyId);
      } else {
        keyId = ids[Math.floor(Math.random() * ids.length)];
        const state = states.get(keyId)!;
        if (!isExistingKey(state)) continue;
        const k = asKeyId(keyId);
        const meta = seedMeta(op);
        const cmd = ((): KeyCommand | null => {
          switch (op) {
            case 'rotate': return { type: 'RotateKey', meta, data: { keyId: k, reason: Math.random() < 0.5 ? 'SCHEDULED' : 'ON_DEMAND', materialRef: randomUUID(), fingerprint: fingerprint() } };
            case 'tag': return { type: 'TagKey', meta, data: { keyId: k, tags: { team: `team-${Math.floor(Math.random() * 40)}`, env: Math.random() < 0.7 ? 'prod' : 'dev' } } };
            case 'untag': return { type: 'UntagKey', meta, data: { keyId: k, tagKeys: ['env'] } };
            case 'describe': return { type: 'UpdateDescription', meta, data: { keyId: k, description: `re-described at ${events}` } };
            case 'rotation': return state.rotation.enabled ? { type: 'DisableKeyRotation', meta, data: { keyId: k } } : { type: 'EnableKeyRotation', meta, data: { keyId: k, periodDays: 90 } };
            case 'alias': return { type: 'CreateAlias', meta, data: { keyId: k, alias: `alias/mix-${aliases++}` } };
            case 'toggle': return state.status === 'Enabled' ? { type: 'DisableKey', meta, data: { keyId: k } } : { type: 'EnableKey', meta, data: { keyId: k } };
            default: return null;
          }
        })();
        if (cmd) result = accept(state, cmd);
      }
      if (!result) continue;
      versions.set(result.state, result.append.from + result.append.rows.length - 1);
      states.set(keyId, result.state);
      pending.push(result.append);
      for (const e of result.events) byType[e.type] = (byType[e.type] ?? 0) + 1;
      events += result.events.length;
      pendingEvents += result.events.length;
      if (pendingEvents >= 5000) await flush();
    }
    await flush();
  } finally {
    await c.end();
  }
  const liveKeys = [...states.values()].filter(isExistingKey).length;
  return { events, keys: ids.length, liveKeys, byType, ms: Date.now() - t0 };
}
