/**
 * The rotation service: its event log (schema `ekm_rotation` + the schedule tables, outbox relay to
 * `EKM_ROTATION_EVENTS`), the key-event consumer feeding the schedule and re-wrap projections, the
 * scheduler, and the `ekm.v1.rotation.*` handlers.
 */
import { Module } from '@nestjs/common';
import { EventLogModule } from '@ekm/service-kit';
import { Scheduler } from './schedules/application/scheduler';
import { KeyEventsConsumer } from './schedules/adapters/nats/key-events.consumer';
import { RotationController } from './schedules/adapters/nats/rotation.controller';
import { RotationSchemaMigration } from './schedules/adapters/postgres/rotation-schema.migration';

@Module({
  imports: [EventLogModule.forService('rotation', { extraMigrations: [RotationSchemaMigration] })],
  controllers: [RotationController],
  providers: [KeyEventsConsumer, Scheduler],
})
export class RotationModule {}
