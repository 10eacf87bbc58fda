/**
 * The audit service: its schema (`ekm_audit`: event log + trail tables), the trail (consumers of every
 * source's events, hash chain, signed checkpoints, SIEM relay to EKM_AUDIT) and `ekm.v1.audit.*`.
 * The trail's providers sit here, beside EventLogModule, because they need its PG_POOL.
 */
import { Module } from '@nestjs/common';
import { EventLogModule, RootBindingMigration } from '@ekm/service-kit';
import { StatusController } from './system/status.controller';
import { AuditController } from './trail/adapters/nats/audit.controller';
import { AuditTrailMigration } from './trail/adapters/postgres/audit-schema.migration';
import { AuditTrailBatchMigration } from './trail/adapters/postgres/trail-batch.migration';
import { TrailLifecycle, trailRuntimeProvider } from './trail/adapters/trail-runtime';

@Module({
  imports: [EventLogModule.forService('audit', { extraMigrations: [AuditTrailMigration, AuditTrailBatchMigration, RootBindingMigration] })],
  providers: [trailRuntimeProvider, TrailLifecycle],
  controllers: [StatusController, AuditController],
})
export class AuditModule {}
