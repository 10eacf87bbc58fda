/**
 * Names derived from a service name (docs/development.md): schema and login role `ekm_<service>`,
 * NOTIFY channel `ekm_events_<service>`. Service names are validated once here because they end up
 * inside SQL identifiers.
 */
import { InvalidServiceNameError } from '../errors';

const SERVICE_NAME = /^[a-z][a-z0-9_]{0,39}$/;

export function assertServiceName(service: string): void {
  if (typeof service !== 'string' || !SERVICE_NAME.test(service)) throw new InvalidServiceNameError(String(service));
}

/** Schema of a service's tables, e.g. `ekm_keys`. */
export function serviceSchema(service: string): string {
  assertServiceName(service);
  return `ekm_${service}`;
}

/** Login role of a service; same name as its schema. */
export function serviceRole(service: string): string {
  return serviceSchema(service);
}

/** Channel that `pg_notify` signals once per appending transaction (payload: empty). */
export function eventsNotifyChannel(service: string): string {
  assertServiceName(service);
  return `ekm_events_${service}`;
}

/** Double-quotes an identifier (schema names come from `serviceSchema`, but quote anyway). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
