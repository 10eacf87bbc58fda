/**
 * The key projection (`keys`, `key_versions`, `aliases`), used inline (same transaction as the append:
 * read-your-writes for list/resolve) and by `rebuildProjection`. Rather than one SQL statement per event
 * type, each run of consecutive events of one key stream is folded with the domain's own `evolve` and
 * the key's rows are rewritten from the folded state: live and rebuilt rows are equal by construction.
 */
import type { Projection, RecordedEvent, TransactionContext } from '@ekm/event-store';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { foldKeyEvents, type ExistingKeyState, type KeyEvent, type KeyState } from '../../domain';
import { KEY_STREAM_PREFIX, toKeyEvent } from '../../application/key-stream';

export const KEY_PROJECTION_NAME = 'keys-projection';

/** Another key holds the alias: thrown inside the append transaction, so nothing commits. */
export class AliasTakenError extends Error {
  override readonly name = 'AliasTakenError';
  constructor(readonly alias: string, readonly holderKeyId: string) {
    super(`alias ${alias} already names key ${holderKeyId}; aliases are unique across keys`);
  }
}

interface EventRow { event_type: string; data: unknown; metadata: unknown }

export class KeyProjection implements Projection {
  readonly name = KEY_PROJECTION_NAME;
  private readonly s: string;

  constructor(service = 'keys') {
    this.s = quoteIdent(serviceSchema(service));
  }

  async reset(tx: TransactionContext): Promise<void> {
    await tx.query(`DELETE FROM ${this.s}.aliases`);
    await tx.query(`DELETE FROM ${this.s}.key_versions`);
    await tx.query(`DELETE FROM ${this.s}.keys`);
  }

  async apply(tx: TransactionContext, events: readonly RecordedEvent[]): Promise<void> {
    // Folded states from earlier runs of this batch, so a rebuild does not re-read streams it just folded.
    const folded = new Map<string, { state: KeyState; position: number }>();
    for (const run of runsOfKeyStreams(events)) {
      const first = run[0];
      const last = run[run.length - 1];
      const known = folded.get(first.streamId);
      const state = known !== undefined && known.position === first.streamPosition - 1
        ? foldKeyEvents(run.map(toKeyEvent), known.state)
        : foldKeyEvents(await this.readPrefix(tx, first.streamId, last.streamPosition));
      folded.set(first.streamId, { state, position: last.streamPosition });
      if (state.status !== 'Absent') await this.write(tx, state, last.streamPosition, last.recordedAt);
    }
  }

  private async readPrefix(tx: TransactionContext, streamId: string, upTo: number): Promise<KeyEvent[]> {
    const rows = await tx.query<EventRow>(
      `SELECT event_type, data, metadata FROM ${this.s}.events WHERE stream_id = $1 AND stream_position <= $2 ORDER BY stream_position`,
      [streamId, upTo],
    );
    return rows.map((r) => ({ type: r.event_type, data: r.data, meta: r.metadata }) as KeyEvent);
  }

  private async write(tx: TransactionContext, k: ExistingKeyState, version: number, updatedAt: Date): Promise<void> {
    const rot = k.rotation;
    await tx.query(
      `INSERT INTO ${this.s}.keys (id, tenant, status, spec, usage, origin, description, tags, required_context, primary_version,
         rotation_enabled, rotation_period_days, next_rotation_at, last_rotated_at, deletion_date, revoked_at, destroyed_at,
         created_at, updated_at, stream_version)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)
       ON CONFLICT (id) DO UPDATE SET tenant = EXCLUDED.tenant, status = EXCLUDED.status, spec = EXCLUDED.spec,
         usage = EXCLUDED.usage, origin = EXCLUDED.origin, description = EXCLUDED.description, tags = EXCLUDED.tags,
         required_context = EXCLUDED.required_context, primary_version = EXCLUDED.primary_version,
         rotation_enabled = EXCLUDED.rotation_enabled, rotation_period_days = EXCLUDED.rotation_period_days,
         next_rotation_at = EXCLUDED.next_rotation_at, last_rotated_at = EXCLUDED.last_rotated_at,
         deletion_date = EXCLUDED.deletion_date, revoked_at = EXCLUDED.revoked_at, destroyed_at = EXCLUDED.destroyed_at,
         created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, stream_version = EXCLUDED.stream_version`,
      [
        k.keyId, k.tenant, k.status, k.spec, k.usage, k.origin, k.description, JSON.stringify(k.tags),
        JSON.stringify(k.requiredContext), k.primary, rot.enabled, rot.enabled ? rot.periodDays : null,
        rot.enabled ? rot.nextRotationAt : null, k.lastRotatedAt, k.deletion?.deletionDate ?? null,
        k.revocation?.revokedAt ?? null, k.destroyedAt, k.createdAt, updatedAt, version,
      ],
    );
    const versions = [...k.versions.values()];
    await tx.query(`DELETE FROM ${this.s}.key_versions WHERE key_id = $1`, [k.keyId]);
    if (versions.length > 0) {
      await tx.query(
        `INSERT INTO ${this.s}.key_versions (key_id, version, status, is_primary, fingerprint, origin, created_at)
         SELECT $1, u.v, u.st, u.p, u.fp, u.o, u.c
           FROM unnest($2::int[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::timestamptz[]) AS u(v, st, p, fp, o, c)`,
        [k.keyId, versions.map((v) => v.version), versions.map((v) => v.status), versions.map((v) => v.version === k.primary),
          versions.map((v) => v.fingerprint), versions.map((v) => v.origin), versions.map((v) => v.createdAt)],
      );
    }
    await this.writeAliases(tx, k.keyId, [...k.aliases]);
  }

  private async writeAliases(tx: TransactionContext, keyId: string, aliases: string[]): Promise<void> {
    await tx.query(`DELETE FROM ${this.s}.aliases WHERE key_id = $1 AND NOT (alias = ANY($2::text[]))`, [keyId, aliases]);
    if (aliases.length === 0) return;
    await tx.query(`INSERT INTO ${this.s}.aliases (alias, key_id) SELECT unnest($1::text[]), $2 ON CONFLICT (alias) DO NOTHING`, [aliases, keyId]);
    const taken = await tx.query<{ alias: string; key_id: string }>(
      `SELECT alias, key_id FROM ${this.s}.aliases WHERE alias = ANY($1::text[]) AND key_id <> $2 ORDER BY alias LIMIT 1`,
      [aliases, keyId],
    );
    if (taken.length > 0) throw new AliasTakenError(taken[0].alias, taken[0].key_id);
  }
}

/** Consecutive events of the same key stream, in log order (other streams, e.g. usage-*, skipped). */
function runsOfKeyStreams(events: readonly RecordedEvent[]): RecordedEvent[][] {
  const runs: RecordedEvent[][] = [];
  for (const e of events) {
    if (!e.streamId.startsWith(KEY_STREAM_PREFIX)) continue;
    const current = runs[runs.length - 1];
    if (current !== undefined && current[0].streamId === e.streamId) current.push(e);
    else runs.push([e]);
  }
  return runs;
}
