/**
 * The rotation service: its event log (schema `ekm_rotation`, outbox relay to `EKM_ROTATION_EVENTS`) and the
 * `ekm.v1.rotation.status` handler.
 */
import { Module } from '@nestjs/common';
import { EventLogModule } from '@ekm/service-kit';
import { StatusController } from './system/status.controller';

@Module({
  imports: [EventLogModule.forService('rotation')],
  controllers: [StatusController],
})
export class RotationModule {}
