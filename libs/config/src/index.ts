/** `@ekm/config`: zod-validated EKM_* environment, one schema per service (docs/development.md). */
export { loadConfig, ConfigError } from './load-config';
export { configSchema, type AuditConfig, type BaseConfig, type KeysConfig, type PolicyConfig, type RateLimitConfig, type RateLimitsConfig, type RootOfTrustConfig, type RotationConfig, type ServiceConfig } from './config.schema';
export { configMetadata, CONFIG_METADATA, type EnvVarMetadata, type ServiceConfigMetadata } from './config.metadata';
export { DEFAULT_HTTP_PORTS, LOG_LEVELS, ROOT_OF_TRUST_KINDS, AUTHZ_MODES, AUTH_MODES, envVarsOf, type EnvVarSpec } from './env-vars';
export { createExclusive } from './private-file';
