/**
 * The policy service: its event log (schema `ekm_policy`, outbox relay to `EKM_POLICY_EVENTS`) and the
 * `ekm.v1.policy.status` handler.
 */
import { Module } from '@nestjs/common';
import { EventLogModule } from '@ekm/service-kit';
import { StatusController } from './system/status.controller';

@Module({
  imports: [EventLogModule.forService('policy')],
  controllers: [StatusController],
})
export class PolicyModule {}
