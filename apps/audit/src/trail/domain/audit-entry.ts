/**
 * A trail entry: one source event, normalized (OCSF-style, docs/siem.md). The entry is what is hashed
 * (`canonicalJson`), stored and published; it never holds key material, plaintext or blobs: usage
 * records are mapped field by field, and lifecycle events carry only what their service put in its
 * (material-free) event log.
 */
import { AUDIT_CATEGORIES, AUDIT_OUTCOMES } from '@ekm/contracts';
import type { Json } from './canonical-json';

/** The source event as the audit service sees it (the relay envelope or a row of `ekm_<service>.events`). */
export interface SourceEvent {
  readonly service: string;
  readonly eventId: string;
  readonly type: string;
  readonly streamId: string;
  readonly streamPosition: number;
  readonly globalPosition: string;
  /** ISO-8601 commit time in the source log. */
  readonly recordedAt: string;
  readonly data: unknown;
  readonly meta: { readonly actor?: string; readonly correlationId?: string; readonly traceparent?: string; readonly via?: string };
  /**
   * A record of a batch event: its index in the event's records (the event id alone no longer names one
   * entry). Absent for single events, whose entries carry no `source.item`.
   */
  readonly item?: number;
}

/** One group commit of the keys service's usage records: `{ records: [...] }`, each shaped as a single record's data. */
export const USAGE_BATCH_EVENT = 'KeyUsageBatchRecorded';
export const USAGE_RECORD_EVENT = 'KeyUsageRecorded';
/**
 * More records than the keys service ever puts in one batch (512): a batch beyond this is forged, and
 * expanding it would let one message flood the trail, so it becomes one quarantined entry.
 */
export const MAX_BATCH_ITEMS = 2_048;

/**
 * The per-record source events of `e`: a usage batch expands into one event per record (`item` = its
 * index, `data` = the record), anything else is itself. A batch without a usable `records` array stays
 * one event without `item`, which the mapping refuses, so it is quarantined rather than dropped.
 */
export function expandSource(e: SourceEvent): SourceEvent[] {
  if (e.type !== USAGE_BATCH_EVENT) return [e];
  const records = isObj(e.data) ? e.data.records : undefined;
  if (!Array.isArray(records) || records.length === 0 || records.length > MAX_BATCH_ITEMS) return [e];
  // Each record names its own principal; the batch's metadata names only the first record's.
  const meta = e.meta.traceparent !== undefined ? { traceparent: e.meta.traceparent } : {};
  return records.map((data: unknown, item) => ({ ...e, data, meta, item }));
}

// The vocabularies are the wire contract's: query filters and replies name the same values.
export { AUDIT_CATEGORIES, AUDIT_OUTCOMES };
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** The normalized entry. Optional fields are absent (not null) when unknown. */
export interface AuditEntry {
  readonly schema: 'ekm.audit.v1';
  readonly leafIndex: number;
  readonly time: string;
  readonly timeMs: number;
  readonly category: AuditCategory;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly reason?: string;
  readonly errorCode?: string;
  /** `via`: the edge the request came through (`kms-api`), absent for bus callers. */
  readonly actor: { readonly principal: string; readonly via?: string };
  readonly resource?: { readonly type: string; readonly id: string };
  readonly tenant?: string;
  readonly keyId?: string;
  readonly keyVersion?: number;
  readonly encryptionContext?: Readonly<Record<string, string>>;
  readonly request?: { readonly id?: string; readonly traceId?: string; readonly items?: number };
  /** Lifecycle events: the source event's data (already material-free by the source's rules). */
  readonly details?: Json;
  /** Quarantined entries only: the digest of the record that could not be stored, and why. */
  readonly quarantine?: { readonly sha256: string; readonly reason: string };
  readonly source: {
    readonly service: string;
    readonly eventId: string;
    readonly eventType: string;
    readonly streamId: string;
    readonly streamPosition: number;
    readonly globalPosition: string;
    /** Records of a batch event only: the record's index in the event. */
    readonly item?: number;
  };
}

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
// jsonb refuses NUL characters: strip them so a hostile value cannot wedge the consumer.
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v.replace(/\u0000/g, '') : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);

/**
 * Sets `k` as an own, enumerable member. Plain assignment of a key `__proto__` (which JSON.parse
 * hands us as an own member of hostile data) would instead replace the prototype of `out`, and the
 * entry would then fail canonicalJson's plain-object rule (fuzzing found it) or silently lose the key.
 */
function put<V>(out: Record<string, V>, k: string, v: V): void {
  Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') put(out, k.replace(/\u0000/g, ''), val.replace(/\u0000/g, ''));
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Deep copy of JSON data with NULs stripped and non-JSON values dropped. */
function toJson(v: unknown, depth = 0): Json | undefined {
  if (depth > 16) return undefined;
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.replace(/\u0000/g, '');
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (Array.isArray(v)) return v.map((x) => toJson(x, depth + 1) ?? null);
  if (isObj(v)) {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) {
      const j = toJson(x, depth + 1);
      if (j !== undefined) put(out, k.replace(/\u0000/g, ''), j);
    }
    return out;
  }
  return undefined;
}

const USAGE_OUTCOME: Readonly<Record<string, AuditOutcome>> = { ALLOWED: 'success', DENIED: 'denied', FAILED: 'failure' };

function categoryOf(e: SourceEvent): AuditCategory {
  if (e.type === USAGE_RECORD_EVENT || e.type === USAGE_BATCH_EVENT) return 'key_usage';
  if (e.type === 'AuthenticationFailed') return 'authentication';
  if (e.service === 'keys') return 'key_lifecycle';
  if (e.service === 'policy') return 'policy';
  if (e.service === 'rotation') return 'rotation';
  return 'other';
}

/** `traceparent` = `00-<trace id>-<span id>-<flags>`: the trace id alone is enough to correlate. */
const traceIdOf = (tp: unknown): string | undefined => (typeof tp === 'string' ? /^[0-9a-f]{2}-([0-9a-f]{32})-/.exec(tp)?.[1] : undefined);

/**
 * A source event without a parseable `recordedAt`. Source stores always write one, so this is a forged
 * or corrupted message: consumers refuse it (dead letter) rather than invent a time for the trail.
 */
export class InvalidSourceEventError extends Error {
  override readonly name = 'InvalidSourceEventError';
  readonly retriable = false;
}

/** The event id for a message: strings only (`String()` of a hostile object throws). */
const idOf = (e: SourceEvent): string => (typeof e.eventId === 'string' ? e.eventId.slice(0, 64) : '(not a string)');

/** The entry for `e` at `leafIndex`. Total over event types: an unknown type still becomes an entry. */
export function toAuditEntry(e: SourceEvent, leafIndex: number): AuditEntry {
  const d: Obj = isObj(e.data) ? e.data : {};
  const timeMs = typeof e.recordedAt === 'string' ? Date.parse(e.recordedAt) : NaN;
  if (!Number.isFinite(timeMs) || timeMs < 0 || timeMs > 253402300799999) throw new InvalidSourceEventError(`source event ${idOf(e)} has no valid recordedAt`);
  if (e.type === USAGE_BATCH_EVENT && (e.item === undefined || !isObj(e.data))) {
    throw new InvalidSourceEventError(`batch event ${idOf(e)} has no usable records (none, not records, or more than ${MAX_BATCH_ITEMS})`);
  }
  const category = categoryOf(e);
  const base = {
    schema: 'ekm.audit.v1' as const,
    leafIndex,
    time: new Date(timeMs).toISOString(),
    timeMs,
    category,
    source: { service: e.service, eventId: e.eventId, eventType: e.type, streamId: e.streamId, streamPosition: e.streamPosition, globalPosition: e.globalPosition, ...(e.item !== undefined ? { item: e.item } : {}) },
  };
  if (category === 'key_usage') {
    const keyId = str(d.keyId);
    return strip({
      ...base,
      action: str(d.operation) ?? 'unknown',
      // Own keys only: `outcome: "toString"` found Object.prototype's function (fuzzing), which canonicalJson refuses.
      outcome: (typeof d.outcome === 'string' && Object.hasOwn(USAGE_OUTCOME, d.outcome) ? USAGE_OUTCOME[d.outcome] : undefined) ?? 'failure',
      reason: str(d.reason),
      errorCode: str(d.errorCode),
      actor: strip({ principal: str(d.principal) ?? str(e.meta.actor) ?? 'unknown', via: str(d.via) ?? str(e.meta.via) }),
      resource: keyId ? { type: 'key', id: keyId } : undefined,
      tenant: str(d.tenant),
      keyId,
      keyVersion: int(d.keyVersion),
      encryptionContext: stringMap(d.encryptionContext),
      request: strip({ id: str(d.requestId), traceId: str(d.traceId), items: int(d.items) }),
    });
  }
  if (e.type === 'AccessDenied') {
    // A handler refused an authenticated caller: `tenant` is the tenant the request named (the victim's
    // trail shows the attempt); the caller's own tenant is in details.principalTenant.
    return strip({
      ...base,
      action: str(d.operation) ?? 'unknown',
      outcome: 'denied' as const,
      reason: str(d.reason),
      errorCode: str(d.errorCode),
      actor: { principal: str(d.principal) ?? str(e.meta.actor) ?? 'unknown' },
      tenant: str(d.tenant),
      request: strip({ id: str(d.requestId) ?? str(e.meta.correlationId), traceId: traceIdOf(e.meta.traceparent) }),
      details: toJson(d),
    });
  }
  if (category === 'authentication') {
    return strip({
      ...base,
      action: 'authenticate',
      // A refused request or login is a refusal like any other: `denied` (not a fault of the service).
      outcome: 'denied' as const,
      reason: str(d.reason),
      errorCode: 'EKM_UNAUTHENTICATED',
      actor: strip({ principal: str(d.principalId) ?? str(d.principal) ?? str(e.meta.actor) ?? 'unknown', via: str(d.via) ?? str(e.meta.via) }),
      tenant: str(d.tenant),
      request: strip({ id: str(d.requestId) ?? str(e.meta.correlationId), traceId: traceIdOf(e.meta.traceparent) }),
      details: toJson(d),
    });
  }
  const keyId = str(d.keyId);
  return strip({
    ...base,
    action: e.type,
    outcome: outcomeOfDecision(d),
    reason: str(d.reason),
    actor: strip({ principal: str(e.meta.actor) ?? 'unknown', via: str(e.meta.via) }),
    resource: keyId ? { type: 'key', id: keyId } : str(d.policyId) ? { type: 'policy', id: str(d.policyId)! } : undefined,
    tenant: str(d.tenant),
    keyId,
    keyVersion: int(d.version) ?? int(d.to),
    request: strip({ id: str(e.meta.correlationId), traceId: traceIdOf(e.meta.traceparent) }),
    details: toJson(d),
  });
}

/** Policy decisions carry `effect`/`decision`; every other lifecycle event is a fact that happened. */
function outcomeOfDecision(d: Obj): AuditOutcome {
  // Strings only: `String(v)` on hostile data (`{"toString": ""}`) throws a TypeError (fuzzing found it).
  const v = [d.effect, d.decision, d.outcome].find((x): x is string => typeof x === 'string')?.toLowerCase() ?? '';
  return v === 'deny' || v === 'denied' ? 'denied' : v === 'failed' || v === 'failure' ? 'failure' : 'success';
}

/** Drops undefined members; an object left empty becomes undefined. */
function strip<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return (Object.keys(out).length > 0 ? out : undefined) as T;
}
