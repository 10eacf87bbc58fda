/**
 * The schedule projection's handling of a SCHEDULED KeyRotated (real Postgres, the rotation schema's own
 * migration): a late event must not skip the slot after the one it served (docs/reliability.md bug 7).
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { migrateServiceSchema, withTransaction, type EventEnvelope } from '@ekm/event-store';
import { createTestDatabase } from '../../../../../../test/support/pg';
import { RotationSchemaMigration } from './rotation-schema.migration';
import { ScheduleProjection, scheduledSlotOf } from './schedule.projection';

const DAY = 86_400_000;

describe('schedule projection: SCHEDULED KeyRotated', () => {
  let pool: Pool;
  const projection = new ScheduleProjection('ekm_rotation');
  beforeAll(async () => {
    const db = await createTestDatabase('ekm_rotation_proj');
    await migrateServiceSchema({ adminUrl: db.url, service: 'rotation', extraMigrations: [RotationSchemaMigration] });
    pool = new Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(() => pool?.end());

  let position = 0;
  const envelope = (keyId: string, pos: number, type: string, data: Record<string, unknown>, correlationId?: string): EventEnvelope => ({
    eventId: randomUUID(), type, schemaVersion: 1, streamId: `key-${keyId}`, streamPosition: pos, globalPosition: String(++position),
    transactionId: String(position), recordedAt: new Date().toISOString(), data: { keyId, ...data },
    meta: { actor: 'test', ...(correlationId !== undefined ? { correlationId } : {}) },
  });
  const apply = (e: EventEnvelope) => withTransaction(pool, (tx) => projection.apply(tx, e));
  const nextDue = async (keyId: string): Promise<number> =>
    (await pool.query<{ t: Date }>('SELECT next_rotation_at AS t FROM ekm_rotation.schedule_keys WHERE key_id = $1', [keyId])).rows[0].t.getTime();
  const dbNow = async (): Promise<number> => (await pool.query<{ t: Date }>('SELECT now() AS t')).rows[0].t.getTime();

  /** A key with a 1-day period whose first slot fell due a day and an hour ago. */
  async function keyDueSince(now: number): Promise<{ keyId: string; slot1: number }> {
    const keyId = randomUUID();
    const slot1 = now - DAY - 3_600_000;
    await apply(envelope(keyId, 1, 'KeyCreated', { tenant: 't' }));
    await apply(envelope(keyId, 2, 'KeyRotationEnabled', { periodDays: 1, nextRotationAt: new Date(slot1).toISOString() }));
    return { keyId, slot1 };
  }
  const rotated = (keyId: string, slotMs: number | null, reason = 'SCHEDULED') =>
    envelope(keyId, 3, 'KeyRotated', { from: 1, to: 2, reason, rotatedAt: new Date((slotMs ?? 0) + 1000).toISOString(), nextRotationAt: new Date((slotMs ?? 0) + DAY + 1000).toISOString() },
      slotMs === null ? undefined : `rotation:ROTATE:${keyId}:-:${slotMs}`);

  it('a late event (the scheduler already moved to the next slot, which is due now) leaves that slot due', async () => {
    const now = await dbNow();
    const { keyId, slot1 } = await keyDueSince(now);
    // The scheduler served slot 1 and advanced the schedule to slot 2 in its claim transaction ...
    await pool.query('UPDATE ekm_rotation.schedule_keys SET next_rotation_at = $2 WHERE key_id = $1', [keyId, new Date(slot1 + DAY)]);
    // ... and slot 1's KeyRotated is applied only now, when slot 2 is due as well.
    await apply(rotated(keyId, slot1));
    expect(await nextDue(keyId)).toBe(slot1 + DAY);
    expect(await nextDue(keyId)).toBeLessThanOrEqual(await dbNow());
  });

  it('an event whose slot the scheduler did not advance (it lost its lease after sending) moves the schedule past now, once', async () => {
    const now = await dbNow();
    const { keyId, slot1 } = await keyDueSince(now);
    await apply(rotated(keyId, slot1));
    const next = await nextDue(keyId);
    expect(next).toBeGreaterThan(await dbNow());
    expect((next - slot1) % DAY).toBe(0);
  });

  it('an event without a slot id (hashed request id) keeps the old rule', async () => {
    const now = await dbNow();
    const { keyId, slot1 } = await keyDueSince(now);
    await pool.query('UPDATE ekm_rotation.schedule_keys SET next_rotation_at = $2 WHERE key_id = $1', [keyId, new Date(slot1 + DAY)]);
    await apply(rotated(keyId, null));
    expect(await nextDue(keyId)).toBeGreaterThan(await dbNow());
  });

  it('scheduledSlotOf reads only its own key\'s scheduler ids', () => {
    expect(scheduledSlotOf({ meta: { actor: 'a', correlationId: 'rotation:ROTATE:k1:-:86400000' } }, 'k1')).toBe('1970-01-02T00:00:00.000Z');
    expect(scheduledSlotOf({ meta: { actor: 'a', correlationId: 'rotation:ROTATE:k2:-:86400000' } }, 'k1')).toBeNull();
    expect(scheduledSlotOf({ meta: { actor: 'a', correlationId: 'rotation:DESTROY:k1:-:86400000' } }, 'k1')).toBeNull();
    expect(scheduledSlotOf({ meta: { actor: 'a', correlationId: 'rotation:ROTATE:k1:-:12x' } }, 'k1')).toBeNull();
    expect(scheduledSlotOf({ meta: { actor: 'a' } }, 'k1')).toBeNull();
  });
});
