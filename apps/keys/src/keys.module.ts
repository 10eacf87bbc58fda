/**
 * The keys service: its event log (schema `ekm_keys`, outbox relay to `EKM_KEYS_EVENTS`) and the
 * `ekm.v1.keys.status` handler.
 */
import { Module } from '@nestjs/common';
import { EventLogModule } from '@ekm/service-kit';
import { StatusController } from './system/status.controller';

@Module({
  imports: [EventLogModule.forService('keys')],
  controllers: [StatusController],
})
export class KeysModule {}
