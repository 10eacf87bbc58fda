/**
 * `loadConfig(service)`: validates the environment once at start. A bad environment is an operator
 * error, so the message lists every bad variable and its rule, and never a value (values may be
 * passwords or root secrets).
 */
import { isServiceName, validate, type ServiceName, type ValidationIssue } from '@ekm/contracts';
import { configSchema, type ServiceConfig } from './config.schema';

/** Thrown by {@link loadConfig}. `issues` name each bad variable (`path`) and its rule. */
export class ConfigError extends Error {
  readonly code = 'EKM_CONFIG_INVALID';
  constructor(readonly service: string, readonly issues: readonly ValidationIssue[]) {
    super(`invalid configuration for ${service}: ${issues.map((i) => `${i.path}: ${i.rule}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` (default `process.env`) with `service`'s schema. Throws {@link ConfigError} naming
 * every bad variable; mains print `err.message` and exit 1 (see `bootstrapService`).
 */
export function loadConfig<S extends ServiceName>(service: S, env: Record<string, string | undefined> = process.env): ServiceConfig<S> {
  if (!isServiceName(service)) throw new ConfigError(String(service), [{ path: '(service)', rule: 'must be one of keys, policy, rotation, audit' }]);
  const r = validate(configSchema(service), env);
  if (!r.ok) throw new ConfigError(service, r.issues);
  return r.value as ServiceConfig<S>;
}
