/**
 * The policy service: its event log (schema `ekm_policy` + the access tables, outbox relay to
 * `EKM_POLICY_EVENTS`), the `ekm.v1.policy.status` handler, principals, policies and decisions.
 */
import { Module } from '@nestjs/common';
import { EventLogModule } from '@ekm/service-kit';
import { AccessModule } from './access/access.module';
import { AccessSchemaMigration } from './access/adapters/postgres/access-schema.migration';
import { StatusController } from './system/status.controller';

const eventLog = EventLogModule.forService('policy', { extraMigrations: [AccessSchemaMigration] });

@Module({
  imports: [eventLog, AccessModule.register(eventLog)],
  controllers: [StatusController],
})
export class PolicyModule {}
