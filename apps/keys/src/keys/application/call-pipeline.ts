/**
 * The ONE request pipeline of the keys service, lifecycle and data plane alike:
 *   resolve → access → authorize (KeyAccess) → run (the operation) → usage record → reply.
 * `runRecorded` is its last two steps: it runs the operation and commits its usage record BEFORE the
 * caller sees any result (fail closed, ARCHITECTURE §6). Allowed, denied and failed calls all get a
 * record; when the record cannot be committed the result is replaced by AUDIT_UNAVAILABLE and every
 * secret it held is zeroed. Errors are classified once, by ./call-failures.ts.
 */
import { BusErrorCode, isPastDeadline, ok, type Reply } from '@ekm/contracts';
import { busCodeOf, classify, describeFailure, toFailReply, type CallFailure } from './call-failures';
import type { CallMeta } from './call-context';
import { UsageRecordRefusedError, type UsageRecord } from './usage-recorder';
import { disposeSecrets } from './crypto/secret-bytes';

export type { CallMeta };

/** The usage-relevant facts of one (sub-)operation. */
export interface UsageFacts {
  readonly operation: string;
  readonly keyId?: string;
  readonly keyVersion?: number;
  readonly tenant?: string;
  readonly context?: Readonly<Record<string, string>>;
}

export type Attempt<T> =
  | { readonly ok: true; readonly value: T; readonly facts: UsageFacts; readonly extra?: readonly UsageFacts[] }
  | { readonly ok: false; readonly failure: CallFailure; readonly facts: UsageFacts };

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: CallFailure };

export interface UsageSink {
  record(record: UsageRecord): Promise<void>;
}

/** The reply of an outcome (the transport serializes it; SecretBytes zero themselves then). */
export const replyOf = <T>(o: Outcome<T>): Reply<T> => (o.ok ? ok(o.value) : toFailReply(o.failure));

/**
 * The caller's deadline passed (`meta.deadline`, epoch ms), so `step` must not start: the failure to
 * return, else null. Checked before authorize (here, in runRecorded) and before the operation's first
 * side effect (DataPlaneSteps, the admin-call runner before `run`), never after one: nothing half done.
 */
export function deadlinePassed(meta: CallMeta, step: string): CallFailure | null {
  return meta.deadline !== undefined && isPastDeadline(meta.deadline, Date.now()) ? { kind: 'DEADLINE_EXCEEDED', step } : null;
}

export async function runRecorded<T>(sink: UsageSink, meta: CallMeta, base: UsageFacts, body: () => Promise<Attempt<T>>): Promise<Outcome<T>> {
  let attempt: Attempt<T>;
  let bug: unknown = null;
  try {
    const late = deadlinePassed(meta, 'authorization');
    attempt = late ? { ok: false, failure: late, facts: base } : await body();
  } catch (err) {
    const failure = classify(err);
    if (failure === null) bug = err;
    attempt = { ok: false, failure: failure ?? { kind: 'UNAVAILABLE', what: 'the key service' }, facts: base };
  }
  const at = new Date().toISOString();
  try {
    if (attempt.ok && attempt.extra === undefined) {
      await sink.record(toRecord(meta, attempt.facts, at, ALLOWED));
    } else if (attempt.ok) {
      const records = [attempt.facts, ...(attempt.extra ?? [])].map((f) => toRecord(meta, f, at, ALLOWED));
      await Promise.all(records.map((r) => sink.record(r)));
    } else {
      await sink.record(toRecord(meta, attempt.facts === base ? base : { ...base, ...attempt.facts }, at, failureFields(attempt.failure, bug !== null)));
    }
  } catch (err) {
    if (attempt.ok) disposeSecrets(attempt.value);
    return { ok: false, failure: { kind: err instanceof UsageRecordRefusedError ? 'AUDIT_RECORD_REFUSED' : 'AUDIT_UNAVAILABLE' } };
  }
  // Recorded as FAILED/EKM_INTERNAL; the transport logs the error and replies EKM_INTERNAL.
  if (bug !== null) throw bug;
  return attempt.ok ? { ok: true, value: attempt.value } : { ok: false, failure: attempt.failure };
}

type Result = Pick<UsageRecord, 'outcome' | 'errorCode' | 'reason'>;
const ALLOWED: Result = { outcome: 'ALLOWED' };

function failureFields(f: CallFailure, isBug: boolean): Result {
  if (isBug) return { outcome: 'FAILED', errorCode: BusErrorCode.Internal, reason: 'internal error' };
  const errorCode = busCodeOf(f);
  return { outcome: errorCode === BusErrorCode.Forbidden ? 'DENIED' : 'FAILED', errorCode, reason: describeFailure(f) };
}

function toRecord(meta: CallMeta, f: UsageFacts, at: string, result: Result): UsageRecord {
  const r: { -readonly [K in keyof UsageRecord]: UsageRecord[K] } = { requestId: meta.requestId, principal: meta.principal, operation: f.operation, outcome: result.outcome, at };
  if (f.tenant !== undefined) r.tenant = f.tenant;
  if (f.keyId !== undefined) r.keyId = f.keyId;
  if (f.keyVersion !== undefined) r.keyVersion = f.keyVersion;
  if (f.context !== undefined) r.encryptionContext = f.context;
  if (result.errorCode !== undefined) r.errorCode = result.errorCode;
  if (result.reason !== undefined) r.reason = result.reason;
  if (meta.traceId !== undefined) r.traceId = meta.traceId;
  if (meta.via !== undefined) r.via = meta.via;
  return r;
}
