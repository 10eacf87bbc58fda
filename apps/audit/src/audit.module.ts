/**
 * The audit service: its event log (schema `ekm_audit`, outbox relay to `EKM_AUDIT_EVENTS`) and the
 * `ekm.v1.audit.status` handler.
 */
import { Module } from '@nestjs/common';
import { EventLogModule } from '@ekm/service-kit';
import { StatusController } from './system/status.controller';

@Module({
  imports: [EventLogModule.forService('audit')],
  controllers: [StatusController],
})
export class AuditModule {}
