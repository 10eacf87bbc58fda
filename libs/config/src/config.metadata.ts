/**
 * Machine-readable description of each service's environment, for checks outside the code
 * (the docker-compose test, docs): variable names, defaults, which are secrets, the HTTP port.
 */
import { SERVICES, type ServiceName } from '@ekm/contracts';
import { DEFAULT_HTTP_PORTS, envVarsOf } from './env-vars';

/** One variable, without its rule. */
export interface EnvVarMetadata {
  readonly name: string;
  /** Value used when unset; absent = no default (optional, or required by a cross-field rule). */
  readonly default?: string;
  readonly secret: boolean;
  readonly description: string;
}

/** What one service reads. */
export interface ServiceConfigMetadata {
  readonly service: ServiceName;
  readonly defaultHttpPort: number;
  readonly env: readonly EnvVarMetadata[];
}

/** Metadata of `service`'s config schema. */
export function configMetadata(service: ServiceName): ServiceConfigMetadata {
  return {
    service,
    defaultHttpPort: DEFAULT_HTTP_PORTS[service],
    env: envVarsOf(service).map((v) => ({ name: v.name, ...(v.default !== undefined ? { default: v.default } : {}), secret: v.secret === true, description: v.description })),
  };
}

/** Metadata of all four services, keyed by service. */
export const CONFIG_METADATA: Readonly<Record<ServiceName, ServiceConfigMetadata>> = Object.fromEntries(
  SERVICES.map((s) => [s, configMetadata(s)]),
) as Record<ServiceName, ServiceConfigMetadata>;
