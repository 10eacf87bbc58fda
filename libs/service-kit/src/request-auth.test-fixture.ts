/**
 * Test-only module for the request-authentication tests: handlers that echo the authenticated caller
 * (through `@AuthPrincipal()` and `principalOf(ctx)`), over the service's event log so refusals are
 * recorded as `AuthenticationFailed` events.
 */
import { Controller, Module, type DynamicModule, type Type } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import type { AuthenticatedPrincipal } from '@ekm/auth';
import { ok, type Reply } from '@ekm/contracts';
import { EventLogModule } from './event-log.module';
import { AuthPrincipal, principalOf } from './request-auth';

function pattern(cls: Type<unknown>, method: string, subject: string): void {
  MessagePattern(subject)(cls.prototype as object, method, Object.getOwnPropertyDescriptor(cls.prototype, method)!);
}

export function authProbeModule(prefix: string): DynamicModule {
  @Controller()
  class ProbeController {
    whoami(@Payload() body: unknown, @AuthPrincipal() caller: AuthenticatedPrincipal): Reply<{ caller: AuthenticatedPrincipal; body: unknown }> {
      return ok({ caller, body });
    }

    echo(@Payload() body: unknown, @Ctx() ctx: NatsContext): Reply<{ principalId: string; body: unknown }> {
      return ok({ principalId: principalOf(ctx).principalId, body });
    }
  }
  pattern(ProbeController, 'whoami', `${prefix}.whoami`);
  pattern(ProbeController, 'echo', `${prefix}.echo`);

  @Module({})
  class ProbeModule {}
  return { module: ProbeModule, imports: [EventLogModule.forService('audit')], controllers: [ProbeController] };
}
