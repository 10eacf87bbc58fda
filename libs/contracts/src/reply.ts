/**
 * The reply envelope of every request on the bus: `{ok:true,data}` or `{ok:false,error}`.
 * Never carries key material in `error` (messages name rules and ids, not values).
 */
import type { BusErrorCode } from './error-codes';

/** The error half of a {@link Reply}. `details` holds extra machine-readable facts (never secrets). */
export interface ReplyError {
  readonly code: BusErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A successful reply. */
export type OkReply<T> = { readonly ok: true; readonly data: T };

/** A failed reply. */
export type FailReply = { readonly ok: false; readonly error: ReplyError };

/** The reply to a request: success with `data`, or a typed error. */
export type Reply<T> = OkReply<T> | FailReply;

/**
 * `T` read-only all the way down: the type of a wire value that both a zod schema's (mutable) output and
 * a service's read-only domain value satisfy, e.g. a policy document, which is both a request field and a reply field.
 */
export type DeepReadonly<T> = T extends readonly (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Builds a successful reply. */
export function ok<T>(data: T): OkReply<T> {
  return { ok: true, data };
}

/** Builds a failed reply; `details` is omitted from the JSON when not given. */
export function fail(code: BusErrorCode, message: string, details?: Readonly<Record<string, unknown>>): FailReply {
  return details === undefined ? { ok: false, error: { code, message } } : { ok: false, error: { code, message, details } };
}

/** Type guard: is `value` shaped like a {@link Reply} (used by clients and the transport)? */
export function isReply(value: unknown): value is Reply<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; data?: unknown; error?: { code?: unknown; message?: unknown } };
  if (v.ok === true) return 'data' in v;
  if (v.ok === false) return typeof v.error === 'object' && v.error !== null && typeof v.error.code === 'string' && typeof v.error.message === 'string';
  return false;
}
