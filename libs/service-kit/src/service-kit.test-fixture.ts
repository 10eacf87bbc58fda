/**
 * Test-only sample service for the service-kit integration tests: a handler that validates with zod
 * and appends to the PostgresEventStore, a slow one, one that throws, and one that reports its trace.
 */
import { Controller, Inject, Module, type DynamicModule, type Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { requestDeadline } from './request-deadline';
import { trace } from '@opentelemetry/api';
import { z } from 'zod';
import { integerBetween, ok, parseRequest, type Reply } from '@ekm/contracts';
import { EVENT_STORE, ExpectedVersion, type EventStore } from '@ekm/event-store';
import { EventLogModule } from './event-log.module';

const Append = z.strictObject({ streamId: z.string().min(1).max(200), amount: integerBetween(1, 100), note: z.string().optional() });

/** Applies @MessagePattern at runtime, so each suite can use unique subjects on a shared server. */
function pattern(cls: Type<unknown>, method: string, subject: string): void {
  const desc = Object.getOwnPropertyDescriptor(cls.prototype, method)!;
  MessagePattern(subject)(cls.prototype as object, method, desc);
}

export function sampleModule(prefix: string, withEventLog = true): DynamicModule {
  @Controller()
  class SampleController {
    constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

    async append(body: unknown): Promise<Reply<{ version: number }>> {
      const req = parseRequest(Append, body);
      if (!req.ok) return req;
      const r = await this.store.appendToStream(req.data.streamId, [{ type: 'SampleAppended', data: { amount: req.data.amount }, meta: { actor: 'test' } }], { expectedVersion: ExpectedVersion.any });
      return ok({ version: r.nextExpectedVersion });
    }

    async slow(body: { ms?: number }): Promise<Reply<{ sleptMs: number }>> {
      const ms = body.ms ?? 300;
      await new Promise((r) => setTimeout(r, ms));
      return ok({ sleptMs: ms });
    }

    boom(): Reply<never> {
      throw new Error('simulated failure');
    }

    traced(): Reply<{ traceId: string | undefined }> {
      return ok({ traceId: trace.getActiveSpan()?.spanContext().traceId });
    }

    /** The deadline a service client would carry, read after an await (async context must survive it). */
    async deadline(): Promise<Reply<{ deadline: number | undefined }>> {
      await Promise.resolve();
      return ok({ deadline: requestDeadline() });
    }
  }
  pattern(SampleController, 'append', `${prefix}.append`);
  pattern(SampleController, 'slow', `${prefix}.slow`);
  pattern(SampleController, 'boom', `${prefix}.boom`);
  pattern(SampleController, 'traced', `${prefix}.traced`);
  pattern(SampleController, 'deadline', `${prefix}.deadline`);

  @Controller()
  class PingController {
    ping(): Reply<string> {
      return ok('pong');
    }
  }
  pattern(PingController, 'ping', `${prefix}.ping`);

  @Module({})
  class SampleModule {}
  return withEventLog
    ? { module: SampleModule, imports: [EventLogModule.forService('audit')], controllers: [SampleController] }
    : { module: SampleModule, controllers: [PingController] };
}
