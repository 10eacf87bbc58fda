/** Nest injection tokens provided by `EkmCoreModule` (global) and `EventLogModule`. */

/** The process's `NatsConnection` (@nats-io/transport-node v3), shared by the transport and JetStream users. */
export const NATS_CONNECTION = Symbol('EKM_NATS_CONNECTION');
/** The validated `ServiceConfig` of this service (`@ekm/config`). */
export const SERVICE_CONFIG = Symbol('EKM_SERVICE_CONFIG');
/** The service's pino `Logger` (`@ekm/telemetry`). */
export const LOGGER = Symbol('EKM_LOGGER');
/** The `ReadinessRegistry`: add checks that gate `/health/ready`. */
export const READINESS = Symbol('EKM_READINESS');
/** The `RequestMetrics` (prom-client registry served on `/metrics`). */
export const METRICS = Symbol('EKM_METRICS');
/** The service's pg `Pool` on EKM_DATABASE_URL (provided by `EventLogModule`). */
export const PG_POOL = Symbol('EKM_PG_POOL');
/** The service's `OutboxRelay` (provided by `EventLogModule`). */
export const OUTBOX_RELAY = Symbol('EKM_OUTBOX_RELAY');
/** The service's shared replay guard (`SharedNonceStore` of `@ekm/auth`, Postgres; provided by `EventLogModule`). */
export const NONCE_STORE = Symbol('EKM_NONCE_STORE');
/** The service's `AccessRefusals` (handlers' refusals into its event log; provided by `EventLogModule`). */
export const ACCESS_REFUSALS = Symbol('EKM_ACCESS_REFUSALS');
/**
 * `() => Promise<void>`: commits the transport's queued `AuthenticationFailed` records (provided by
 * `EkmCoreModule`). `EventLogModule` calls it at shutdown before it ends the pool they are written through.
 */
export const AUTH_FAILURES_FLUSH = Symbol('EKM_AUTH_FAILURES_FLUSH');
