/**
 * `@ekm/service-kit`: Nest glue shared by the four services — the EKM NATS transport, health and
 * metrics HTTP, the event-log module, graceful shutdown and `bootstrapService` for main.ts.
 */
export { bootstrapService, startServiceApp, type BootstrapOptions, type ServiceApp, type StartServiceOptions } from './bootstrap';
export { EkmNatsTransport, type EkmNatsTransportOptions } from './ekm-nats.transport';
export { AuthPrincipal, EkmRequestContext, principalOf, requestIdFromHeaders, requestIdOf, TransportAuth, unauthenticated, type AuthCheck, type RequestFacts } from './request-auth';
export { requestDeadline, withRequestDeadline } from './request-deadline';
export { EkmCoreModule, InjectConfig, InjectLogger, InjectNats, InjectReadiness, type ServiceContext } from './core.module';
export { EventLogModule, type EventLogOptions } from './event-log.module';
export { StatusService, ekmVersion, type ServiceStatus } from './status.service';
export { HealthServer } from './health-server';
export { ReadinessRegistry, type CheckResult, type ReadinessCheck, type ReadinessReport } from './readiness';
export { RequestMetrics, OUTCOME_OK } from './metrics';
export { RequestRateLimit, isServicePrincipal, type RateLimitScope, type RequestRateLimitOptions } from './request-rate-limit';
export type { BucketLimits } from './token-bucket';
export { KeyedBuckets } from './keyed-buckets';
export { NatsConnectionState } from './nats-health';
export { NestPinoLogger } from './nest-logger';
export { RethrowRpcFilter } from './rethrow-rpc.filter';
export { AccessRefusals, tenantNamedBy } from './access-refusals';
export { ACCESS_REFUSALS, LOGGER, METRICS, NATS_CONNECTION, NONCE_STORE, OUTBOX_RELAY, PG_POOL, READINESS, SERVICE_CONFIG } from './tokens';
export { PostgresNonceStore, requestNoncesSql, type PostgresNonceStoreOptions } from './postgres-nonce-store';
export { RequestNoncesMigration } from './request-nonces.migration';
export { RootBindingMigration } from './root-binding/root-binding.migration';
export { bindRootOfTrust, databaseNameOf, RootBindingMismatchError, type RootBinding } from './root-binding/root-binding';
