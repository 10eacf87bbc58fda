/**
 * Is this error Postgres being unreachable, stalled or refusing writes (so: EKM_UNAVAILABLE, retry),
 * rather than a bug (EKM_INTERNAL)? Duck-typed on pg's messages and SQLSTATEs so the application layer
 * needs no pg import. The bounds behind the timeouts are EKM_DB_QUERY_TIMEOUT_MS (service-kit pool).
 */

/** Messages of node-postgres / pg-pool for a timeout or a lost connection (they carry no code). */
const PG_MESSAGES = [
  'Query read timeout', // query_timeout: no answer in time (a partition)
  'timeout exceeded when trying to connect', // no free pool connection in time
  'Connection terminated due to connection timeout',
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/** SQLSTATEs: 57014 statement_timeout, 57P01..03 shutdown / cannot connect now, 53300 too many connections, 25006 read-only. */
const SQLSTATES = new Set(['57014', '57P01', '57P02', '57P03', '53300', '25006']);

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (SQLSTATES.has(code) || code.startsWith('08') || SOCKET_CODES.has(code))) return true;
  return PG_MESSAGES.includes(err.message);
}
