/**
 * The policy service: its event log (schema `ekm_policy` + the access tables, outbox relay to
 * `EKM_POLICY_EVENTS`), the `ekm.v1.policy.status` handler, principals, policies and decisions.
 */
import { Module } from '@nestjs/common';
import { EventLogModule } from '@ekm/service-kit';
import { AccessModule } from './access/access.module';
import { AccessSchemaMigration } from './access/adapters/postgres/access-schema.migration';
import { AccessKeysModule } from './access-keys/access-keys.module';
import { AccessKeySchemaMigration } from './access-keys/adapters/postgres/access-key-schema.migration';
import { StatusController } from './system/status.controller';

const eventLog = EventLogModule.forService('policy', { extraMigrations: [AccessSchemaMigration, AccessKeySchemaMigration] });
const access = AccessModule.register(eventLog);

@Module({
  imports: [eventLog, access, AccessKeysModule.register(eventLog, access)],
  controllers: [StatusController],
})
export class PolicyModule {}
