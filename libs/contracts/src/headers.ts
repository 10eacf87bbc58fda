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
export const isRequestId = (v: unknown): v is string => typeof v === 'string' && REQUEST_ID_PATTERN.test(v);

/** All EKM header names, as one table. */
export const EkmHeaders = {
  traceparent: TRACEPARENT_HEADER,
  tracestate: TRACESTATE_HEADER,
  requestId: REQUEST_ID_HEADER,
} as const;
