/**
 * NATS header names EKM reads and writes. Trace context follows W3C Trace Context
 * (https://www.w3.org/TR/trace-context/); header names are lowercase as the spec writes them.
 */

/** W3C `traceparent`: version-traceid-spanid-flags of the caller's span. */
export const TRACEPARENT_HEADER = 'traceparent';

/** W3C `tracestate`: vendor-specific trace data, passed through unchanged. */
export const TRACESTATE_HEADER = 'tracestate';

/**
 * Caller-chosen request id (opaque, at most 128 characters), echoed in logs and in `EKM_INTERNAL`
 * messages so an operator can find the server's log line. The server generates one when absent.
 */
export const REQUEST_ID_HEADER = 'Ekm-Request-Id';

/**
 * The ONE request-id rule: 1 to 128 characters of `[A-Za-z0-9._:-]` (header-safe, log-safe). A request
 * whose id breaks it is served under a fresh id the service chooses (service-kit's transport), and that
 * id is the one in the reply header, the logs and the audit record.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** True when `v` is a request id the rule accepts. */
/** Nonce syntax (the `Ekm-Nonce` header and the login proof): base64url, 16..64 characters (the SDK sends 22: 16 random bytes). */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export const isRequestId = (v: unknown): v is string => typeof v === 'string' && REQUEST_ID_PATTERN.test(v);

/**
 * How long the caller still waits for the reply, in milliseconds from when the request arrives, as a
 * decimal integer (like gRPC's `grpc-timeout`). The SDK sends each attempt's remaining time; a service
 * turns it into an absolute deadline on its own clock at arrival, refuses a request whose deadline has
 * passed with `EKM_DEADLINE_EXCEEDED` before doing anything (`0` is always refused), and carries the
 * remaining time to the calls it makes while serving it. Relative on purpose: an absolute deadline would
 * refuse every request of a caller whose clock is behind by more than its timeout (the signing skew
 * allows 30 s). Time spent on the wire before arrival is not counted.
 */
export const DEADLINE_HEADER = 'Ekm-Timeout-Ms';

/** The deadline of a request that sends none (raw callers): this long after it arrived. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** The longest a caller may ask to wait: longer ones are clamped to this (no request holds a slot for hours). */
export const MAX_DEADLINE_MS = 120_000;

/** At most 9 digits (about 11 days, far beyond the clamp): stays a safe integer whatever `now` is. */
const DEADLINE_PATTERN = /^[0-9]{1,9}$/;

export type DeadlineParse = { readonly ok: true; readonly deadline: number } | { readonly ok: false; readonly message: string };

/**
 * The ONE deadline rule, applied by service-kit's transport when a request arrives at `now` (epoch ms):
 * absent → `now + DEFAULT_DEADLINE_MS`; a remaining time above `MAX_DEADLINE_MS` → clamped to it;
 * anything but a decimal integer (negative, fractional, exponent, spaces, too long) → refused. The result
 * is an absolute deadline on the service's clock; `0` gives `now`, which {@link isPastDeadline} refuses.
 */
export function parseDeadline(raw: string | undefined, now: number): DeadlineParse {
  if (raw === undefined) return { ok: true, deadline: now + DEFAULT_DEADLINE_MS };
  if (!DEADLINE_PATTERN.test(raw)) return { ok: false, message: `${DEADLINE_HEADER} must be the milliseconds the caller still waits (a decimal integer of at most 9 digits)` };
  return { ok: true, deadline: now + Math.min(Number(raw), MAX_DEADLINE_MS) };
}

/** True when a request with `deadline` must not start anything at `now`: the caller no longer waits for it. */
export const isPastDeadline = (deadline: number, now: number): boolean => now >= deadline;

/** All EKM header names, as one table. */
export const EkmHeaders = {
  traceparent: TRACEPARENT_HEADER,
  tracestate: TRACESTATE_HEADER,
  requestId: REQUEST_ID_HEADER,
  deadline: DEADLINE_HEADER,
} as const;
