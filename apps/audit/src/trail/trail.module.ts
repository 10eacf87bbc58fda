/** The audit trail bounded context: runtime (consumers, appender, relay, sweeper) and its bus API. */
import { Module } from '@nestjs/common';
import { AuditController } from './adapters/nats/audit.controller';
import { TrailLifecycle, trailRuntimeProvider } from './adapters/trail-runtime';

@Module({
  providers: [trailRuntimeProvider, TrailLifecycle],
  controllers: [AuditController],
})
export class TrailModule {}
