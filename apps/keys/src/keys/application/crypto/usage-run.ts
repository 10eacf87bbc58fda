/**
 * Runs one data-plane call and commits its usage record BEFORE the caller sees any result
 * (fail closed, ARCHITECTURE §6): allowed, denied and failed calls all get a record; when the record cannot
 * be committed the result is replaced by AUDIT_UNAVAILABLE and every secret it held is zeroed.
 */
import { EncryptionContextInvalidError, InvalidCiphertextError, RootKeyUnavailableError, RootOperationFailedError, UnwrapFailedError } from '@ekm/crypto';
import { isDatabaseUnavailable } from '../database-unavailable';
import { UsageRecordRefusedError, type UsageRecord } from '../usage-recorder';
import { busCodeOf, describeFailure, type CryptoFailure } from './crypto-failures';
import { MaterialEpochDestroyedError } from '../epochs/epoch.ports';
import { MaterialMissingError } from './crypto.ports';
import { disposeSecrets } from './secret-bytes';
import { DependencyUnavailableError } from '../dependency-unavailable';

/** Who asks, and how to find the request later. */
export interface CallMeta {
  readonly principal: string;
  readonly requestId: string;
  /** The edge the caller's session was opened through (`kms-api`). */
  readonly via?: string;
  readonly traceId?: string;
}

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
  | { readonly ok: false; readonly failure: CryptoFailure; readonly facts: UsageFacts };

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: CryptoFailure };

export { DependencyUnavailableError };

/** Known failures thrown below the application layer → CryptoFailure; unknown ones → null (a bug: EKM_INTERNAL). */
export function classify(err: unknown): CryptoFailure | null {
  if (err instanceof InvalidCiphertextError) return { kind: 'INVALID_CIPHERTEXT' };
  if (err instanceof MaterialEpochDestroyedError) return { kind: 'MATERIAL_MISSING', keyId: err.keyId, version: err.version, epoch: err.epoch };
  if (err instanceof MaterialMissingError) return { kind: 'MATERIAL_MISSING', keyId: err.keyId, version: err.version };
  if (err instanceof RootKeyUnavailableError || err instanceof UnwrapFailedError || err instanceof RootOperationFailedError) return { kind: 'ROOT_UNAVAILABLE' };
  if (err instanceof EncryptionContextInvalidError) return { kind: 'INVALID_CONTEXT', field: 'encryptionContext', message: err.message };
  if (err instanceof DependencyUnavailableError) return { kind: 'UNAVAILABLE', what: err.what };
  if (isDatabaseUnavailable(err)) return { kind: 'UNAVAILABLE', what: 'the key store (Postgres)' };
  return null;
}

export interface UsageSink {
  record(record: UsageRecord): Promise<void>;
}

export async function runRecorded<T>(sink: UsageSink, meta: CallMeta, base: UsageFacts, body: () => Promise<Attempt<T>>): Promise<Outcome<T>> {
  let attempt: Attempt<T>;
  let bug: unknown = null;
  try {
    attempt = await body();
  } catch (err) {
    const failure = classify(err);
    if (failure === null) bug = err;
    attempt = { ok: false, failure: failure ?? { kind: 'UNAVAILABLE', what: 'the key service' }, facts: base };
  }
  const at = new Date().toISOString();
  const records: UsageRecord[] = attempt.ok
    ? [attempt.facts, ...(attempt.extra ?? [])].map((f) => toRecord(meta, f, at, { outcome: 'ALLOWED' }))
    : [toRecord(meta, { ...base, ...attempt.facts }, at, failureFields(attempt.failure, bug !== null))];
  try {
    await Promise.all(records.map((r) => sink.record(r)));
  } catch (err) {
    if (attempt.ok) disposeSecrets(attempt.value);
    return { ok: false, failure: { kind: err instanceof UsageRecordRefusedError ? 'AUDIT_RECORD_REFUSED' : 'AUDIT_UNAVAILABLE' } };
  }
  // Recorded as FAILED/EKM_INTERNAL; the transport logs the error and replies EKM_INTERNAL.
  if (bug !== null) throw bug;
  return attempt.ok ? { ok: true, value: attempt.value } : { ok: false, failure: attempt.failure };
}

function failureFields(f: CryptoFailure, isBug: boolean): Pick<UsageRecord, 'outcome' | 'errorCode' | 'reason'> {
  if (isBug) return { outcome: 'FAILED', errorCode: 'EKM_INTERNAL', reason: 'internal error' };
  return { outcome: f.kind === 'FORBIDDEN' ? 'DENIED' : 'FAILED', errorCode: busCodeOf(f), reason: describeFailure(f) };
}

function toRecord(meta: CallMeta, f: UsageFacts, at: string, result: Pick<UsageRecord, 'outcome' | 'errorCode' | 'reason'>): UsageRecord {
  return {
    requestId: meta.requestId,
    principal: meta.principal,
    operation: f.operation,
    ...(f.tenant !== undefined ? { tenant: f.tenant } : {}),
    ...(f.keyId !== undefined ? { keyId: f.keyId } : {}),
    ...(f.keyVersion !== undefined ? { keyVersion: f.keyVersion } : {}),
    ...(f.context !== undefined ? { encryptionContext: f.context } : {}),
    ...result,
    ...(meta.traceId !== undefined ? { traceId: meta.traceId } : {}),
    ...(meta.via !== undefined ? { via: meta.via } : {}),
    at,
  };
}
