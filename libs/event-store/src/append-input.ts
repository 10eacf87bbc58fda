/**
 * Validation and normalisation shared by both adapters, so they accept and store exactly the same
 * things: a bad append is rejected before any I/O and leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { v5 } from 'uuid';
import { InvalidAppendError, InvalidReadError } from './errors';
import type { AppendOptions, Checkpoint, EventMeta, NewEvent } from './event-store.port';

const META_FIELDS: ReadonlySet<string> = new Set(['actor', 'correlationId', 'causationId', 'commandId', 'traceparent', 'now', 'via']);
const MAX_STREAM_ID = 200;
const MAX_EVENT_TYPE = 200;
const MAX_META_VALUE = 1000;
/** Namespace of event ids derived from commands (a random v4 fixed once for EKM). */
const EVENT_ID_NAMESPACE = Buffer.from('6f1f4a0e2b7c4d1e9a35c8e07b1d2f44', 'hex');

/** What an adapter writes for one event: JSON texts already produced, so both adapters store the same. */
export interface PreparedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly dataJson: string;
  readonly metaJson: string;
}

/** UUID v5 (SHA-1, RFC 9562) of `name` in `namespace` (16 bytes; default EKM's event-id namespace). */
export function uuidV5(name: string, namespace: Buffer = EVENT_ID_NAMESPACE): string {
  // Bytes, not the string: uuid would encode it with encodeURIComponent, which throws on a lone surrogate.
  return v5(new Uint8Array(Buffer.from(name, 'utf8')), new Uint8Array(namespace));
}

/** Deterministic id of the `index`-th event appended to `streamId` by command `commandId`. */
export function eventIdFor(streamId: string, commandId: string, index: number): string {
  // JSON framing keeps ("a:b","c") and ("a","b:c") apart.
  return uuidV5(JSON.stringify([streamId, commandId, index]));
}

function toMetaJson(streamId: string, meta: EventMeta, i: number): string {
  if (typeof meta !== 'object' || meta === null) throw new InvalidAppendError(streamId, `event ${i}: meta is required`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (value === undefined) continue;
    if (!META_FIELDS.has(key)) throw new InvalidAppendError(streamId, `event ${i}: unknown meta field ${JSON.stringify(key.slice(0, 50))}`);
    if (typeof value !== 'string' || value.length > MAX_META_VALUE)
      throw new InvalidAppendError(streamId, `event ${i}: meta.${key} must be a string of at most ${MAX_META_VALUE} characters`);
    out[key] = value;
  }
  if (!out.actor) throw new InvalidAppendError(streamId, `event ${i}: meta.actor is required`);
  return JSON.stringify(out);
}

function toDataJson(streamId: string, data: unknown, i: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch {
    throw new InvalidAppendError(streamId, `event ${i}: data is not JSON-serializable`);
  }
  if (json === undefined) throw new InvalidAppendError(streamId, `event ${i}: data is required`);
  // Postgres jsonb rejects \u0000; reject it here so both adapters agree.
  if (json.includes('\\u0000')) throw new InvalidAppendError(streamId, `event ${i}: data contains a NUL character`);
  return json;
}

function checkExpectedVersion(streamId: string, options: AppendOptions): void {
  const ev = options?.expectedVersion;
  if (!ev || !['NoStream', 'Exact', 'Any'].includes(ev.kind)) throw new InvalidAppendError(streamId, 'expectedVersion is required');
  if (ev.kind === 'Exact' && !(Number.isSafeInteger(ev.version) && ev.version >= 1))
    throw new InvalidAppendError(streamId, `expected version must be an integer >= 1 (use NoStream for an absent stream), got ${String(ev.version)}`);
}

/** Validates an append and prepares its rows; throws InvalidAppendError. */
export function prepareAppend(streamId: string, events: readonly NewEvent[], options: AppendOptions): PreparedEvent[] {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > MAX_STREAM_ID)
    throw new InvalidAppendError(String(streamId), `stream id must be 1-${MAX_STREAM_ID} characters`);
  checkExpectedVersion(streamId, options);
  if (!Array.isArray(events) || events.length === 0) throw new InvalidAppendError(streamId, 'no events to append');
  const { commandId } = options;
  if (commandId !== undefined && (typeof commandId !== 'string' || commandId.length === 0 || commandId.length > MAX_META_VALUE))
    throw new InvalidAppendError(streamId, 'commandId must be a non-empty string');
  return events.map((e, i) => {
    if (typeof e.type !== 'string' || !/^[A-Za-z][A-Za-z0-9_.]*$/.test(e.type) || e.type.length > MAX_EVENT_TYPE)
      throw new InvalidAppendError(streamId, `event ${i}: type must be an identifier like KeyCreated`);
    const schemaVersion = e.schemaVersion ?? 1;
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > 2 ** 31 - 1)
      throw new InvalidAppendError(streamId, `event ${i}: schemaVersion must be a positive integer`);
    if (commandId !== undefined && e.meta?.commandId !== undefined && e.meta.commandId !== commandId)
      throw new InvalidAppendError(streamId, `event ${i}: meta.commandId differs from the append's commandId`);
    return {
      eventId: commandId === undefined ? randomUUID() : eventIdFor(streamId, commandId, i),
      type: e.type,
      schemaVersion,
      dataJson: toDataJson(streamId, e.data, i),
      metaJson: toMetaJson(streamId, e.meta, i),
    };
  });
}

const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/** Validates readAll arguments; throws InvalidReadError. */
export function checkReadAll(after: Checkpoint, limit: number): void {
  if (!after || !DECIMAL.test(String(after.transactionId)) || !DECIMAL.test(String(after.globalPosition)))
    throw new InvalidReadError('checkpoint positions must be non-negative decimal strings');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new InvalidReadError(`limit must be an integer in 1..10000, got ${String(limit)}`);
}

/** Validates readStream options; returns the inclusive start position and the count limit. */
export function checkReadStream(options?: { fromPosition?: number; maxCount?: number }): { from: number; max: number | null } {
  const from = options?.fromPosition ?? 1;
  const max = options?.maxCount ?? null;
  if (!Number.isSafeInteger(from) || from < 1) throw new InvalidReadError(`fromPosition must be an integer >= 1, got ${String(from)}`);
  if (max !== null && (!Number.isSafeInteger(max) || max < 0)) throw new InvalidReadError(`maxCount must be an integer >= 0, got ${String(max)}`);
  return { from, max };
}
