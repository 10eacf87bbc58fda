/**
 * The audit service: its schema (`ekm_audit`: event log + trail tables), the trail (consumers of every
 * source's events, hash chain, signed checkpoints, SIEM relay to EKM_AUDIT) and `ekm.v1.audit.*`.
 */
import { Module } from '@nestjs/common';
import { EventLogModule } from '@ekm/service-kit';
import { StatusController } from './system/status.controller';
import { AuditTrailMigration } from './trail/adapters/postgres/audit-schema.migration';
import { TrailModule } from './trail/trail.module';

@Module({
  imports: [EventLogModule.forService('audit', { extraMigrations: [AuditTrailMigration] }), TrailModule],
  controllers: [StatusController],
})
export class AuditModule {}
