/**
 * Migrations of a service schema, in order. Every service gets the same tables in its own schema, so
 * migration classes take the service name in their constructor; TypeORM instantiates classes with no
 * arguments, hence `bindService`. Names must end in a 13-digit timestamp (TypeORM).
 */
import type { MigrationInterface } from 'typeorm';
import { EventLogMigration } from './event-log.migration';

/** A migration of a service schema: `new (service)`, e.g. `class KeyMaterial1767300000000 { constructor(private service: string) {} ... }`. */
export type ServiceMigrationClass = new (service: string) => MigrationInterface;
/** What TypeORM's `migrations` option takes. */
export type BoundMigrationClass = new () => MigrationInterface;

/** The event store's own migrations, in order (the outbox relay appends its lease migration here). */
export const EVENT_STORE_MIGRATIONS: readonly ServiceMigrationClass[] = [EventLogMigration];

export function bindService(cls: ServiceMigrationClass, service: string): BoundMigrationClass {
  return class extends cls {
    constructor() {
      super(service);
    }
  };
}

/** The event store's migrations for `service` (schema `ekm_<service>`), ready for a TypeORM DataSource. */
export function eventStoreMigrations(service: string): BoundMigrationClass[] {
  return EVENT_STORE_MIGRATIONS.map((cls) => bindService(cls, service));
}
