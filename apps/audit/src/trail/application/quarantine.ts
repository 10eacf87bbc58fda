/**
 * Quarantined entries: a source event the trail cannot store as is (a value Postgres refuses, a number
 * outside a column's type, no valid time, an entry the mapping cannot build) still gets its leaf, so the
 * chain moves on and one record can never stall the trail. The entry keeps what identifies the record
 * (source service, event id, stream and global position), its SHA-256 and the reason; never the
 * payload, which is what could not be stored (and may hold a caller's hostile input).
 */
import { createHash } from 'node:crypto';
import { storableTextProblem, MAX_KEY_VERSION } from '@ekm/contracts';
import { canonicalJson, type Json } from '../domain/canonical-json';
import { toAuditEntry, type AuditEntry, type SourceEvent } from '../domain/audit-entry';

/** The principal quarantined entries are attributed to (the audit service itself). */
export const QUARANTINE_ACTOR = 'ekm-audit';
export const QUARANTINE_ACTION = 'Quarantined';

/** SHA-256 (hex) of the source record as received: lets an operator match the entry to the source row. */
export function sourceDigest(e: SourceEvent): string {
  let text: string;
  try {
    text = JSON.stringify({ service: e.service, eventId: e.eventId, type: e.type, streamId: e.streamId, streamPosition: e.streamPosition, globalPosition: e.globalPosition, recordedAt: e.recordedAt, data: e.data, meta: e.meta });
  } catch {
    text = `unserializable:${textOf(e.service)}:${textOf(e.eventId)}`;
  }
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const INT4_MAX = MAX_KEY_VERSION;

/** Why the trail cannot store `entry` as is, or null. Mirrors the trail table's column types. */
export function unstorableReason(entry: AuditEntry): string | null {
  const text = firstUnsafeText(entry);
  if (text) return text;
  if (entry.keyVersion !== undefined && (entry.keyVersion < -INT4_MAX - 1 || entry.keyVersion > INT4_MAX)) return 'keyVersion is outside the integer range of the trail';
  const p = entry.source.streamPosition;
  if (!Number.isSafeInteger(p) || p < 1 || p > INT4_MAX) return 'source.streamPosition is outside the integer range of the trail';
  if (!/^[0-9]{1,19}$/.test(entry.source.globalPosition)) return 'source.globalPosition is not a bigint';
  const item = entry.source.item;
  if (item !== undefined && (!Number.isSafeInteger(item) || item < 0 || item > INT4_MAX)) return 'source.item is outside the integer range of the trail';
  if (!Number.isSafeInteger(entry.timeMs)) return 'timeMs is not an integer';
  return null;
}

function firstUnsafeText(v: unknown, path = ''): string | null {
  if (typeof v === 'string') {
    const p = storableTextProblem(v);
    return p ? `${path || 'entry'} ${p.replace(/^must not contain/, 'contains')}` : null;
  }
  if (typeof v !== 'object' || v === null) return null;
  for (const [k, x] of Object.entries(v)) {
    if (storableTextProblem(k)) return `${path || 'entry'} has a key Postgres cannot store`;
    const r = firstUnsafeText(x, path === '' ? k : `${path}.${k}`);
    if (r) return r;
  }
  return null;
}

/**
 * A string for any value, never a throw: this is the last-resort path, and `String(v)` throws on an
 * object whose own `toString`/`valueOf` are not functions (`{"toString": ""}` from JSON.parse).
 */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v;
  }
}

/** A storable stand-in for an identifying string: itself when safe and short, else its digest. */
const safeId = (v: unknown): string => {
  const s = textOf(v);
  return storableTextProblem(s) === null && s.length <= 512 ? s : `sha256:${createHash('sha256').update(s, 'utf8').digest('hex')}`;
};

/** The quarantined entry for `e` at `leafIndex`: storable by construction. */
export function quarantineEntry(e: SourceEvent, leafIndex: number, reason: string, now: Date): AuditEntry {
  const recorded = typeof e.recordedAt === 'string' ? Date.parse(e.recordedAt) : Number.NaN;
  const timeMs = Number.isFinite(recorded) && recorded >= 0 && recorded <= 253402300799999 ? recorded : now.getTime();
  const pos = Number.isSafeInteger(e.streamPosition) && e.streamPosition >= 1 && e.streamPosition <= INT4_MAX ? e.streamPosition : undefined;
  const gp = typeof e.globalPosition === 'string' && /^[0-9]{1,19}$/.test(e.globalPosition) ? e.globalPosition : '0';
  const item = Number.isSafeInteger(e.item) && e.item! >= 0 && e.item! <= INT4_MAX ? e.item : undefined;
  const source = { service: safeId(e.service), eventId: safeId(e.eventId), eventType: safeId(e.type), streamId: safeId(e.streamId), globalPosition: gp, ...(pos !== undefined ? { streamPosition: pos } : {}), ...(item !== undefined ? { item } : {}) };
  return {
    schema: 'ekm.audit.v1',
    leafIndex,
    time: new Date(timeMs).toISOString(),
    timeMs,
    category: 'quarantine',
    action: QUARANTINE_ACTION,
    outcome: 'failure',
    reason: safeId(reason).slice(0, 512),
    actor: { principal: QUARANTINE_ACTOR },
    quarantine: { sha256: sourceDigest(e), reason: safeId(reason).slice(0, 512) },
    source: source as AuditEntry['source'],
  };
}

/** The entry for `e` (or its quarantined stand-in) and its canonical text. */
export function buildEntry(e: SourceEvent, leafIndex: number, now: Date): { entry: AuditEntry; text: string; quarantined: boolean } {
  let reason: string;
  try {
    const entry = toAuditEntry(e, leafIndex);
    reason = unstorableReason(entry) ?? '';
    if (reason === '') return { entry, text: canonicalJson(entry as unknown as Json), quarantined: false };
  } catch (err) {
    reason = `the entry could not be built: ${err instanceof Error ? err.message : String(err)}`;
  }
  const q = quarantineEntry(e, leafIndex, reason, now);
  return { entry: q, text: canonicalJson(q as unknown as Json), quarantined: true };
}
