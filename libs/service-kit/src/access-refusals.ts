/**
 * Handlers' refusals into the trail: `deny(ctx, …)` records an `AccessDenied` event (principal, own
 * tenant, the tenant the request named, operation, code, reason, request id) in the service's event log
 * and returns the reply unchanged, so a controller writes `return this.refusals.deny(ctx, op, tenant, reply)`.
 * `loginFailed` records a refused login as `AuthenticationFailed`. Both go through one rate-limited
 * {@link RefusalRecorder} per process (a flood cannot fill the trail). Provided as ACCESS_REFUSALS by
 * EventLogModule.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { NatsContext } from '@nestjs/microservices';
import { ACCESS_DENIED, AUTHENTICATION_FAILED, RefusalRecorder, type AccessDeniedData, type AuthenticationFailedData, type AuthFailureReason } from '@ekm/auth';
import type { FailReply } from '@ekm/contracts';
import type { EventStore } from '@ekm/event-store';
import type { Logger } from '@ekm/telemetry';
import { EkmRequestContext, requestIdOf } from './request-auth';

export class AccessRefusals {
  readonly recorder: RefusalRecorder;

  constructor(store: EventStore, private readonly service: string, private readonly logger?: Logger, instanceId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`) {
    this.recorder = new RefusalRecorder(store, `refusals-${instanceId}`, logger);
  }

  /** Records `reply` (a refusal) as `AccessDenied` for the caller of `ctx`, and returns it. */
  deny<R extends FailReply>(ctx: NatsContext, operation: string, tenant: string | undefined, reply: R): R {
    const caller = ctx instanceof EkmRequestContext ? ctx.principal : null;
    const requestId = requestIdOf(ctx);
    const data: AccessDeniedData = {
      principal: caller?.principalId ?? 'unknown', principalTenant: caller?.tenant ?? 'unknown', operation,
      errorCode: reply.error.code, reason: reply.error.message, service: this.service, at: new Date().toISOString(),
      ...(tenant !== undefined ? { tenant } : {}), requestId,
    };
    this.logger?.info({ event: 'access-denied', principal: data.principal, operation, code: data.errorCode, requestId }, 'request refused');
    this.recorder.record(ACCESS_DENIED, data, data.principal);
    return reply;
  }

  /** A refused login (`ekm.v1.policy.login`), rate-limited per claimed principal. */
  loginFailed(ctx: NatsContext, subject: string, reason: AuthFailureReason, principalClaimed: string | undefined): void {
    const requestId = requestIdOf(ctx);
    const data: AuthenticationFailedData = {
      subject, reason, service: this.service, at: new Date().toISOString(),
      ...(principalClaimed !== undefined ? { principalClaimed } : {}), requestId,
    };
    this.recorder.record(AUTHENTICATION_FAILED, data, principalClaimed ?? 'unauthenticated');
  }

  flush(): Promise<void> {
    return this.recorder.flush();
  }
}

/** The tenant a (possibly invalid) request body names, for the refusal record; undefined when none or not a plain string. */
export function tenantNamedBy(body: unknown): string | undefined {
  const t = typeof body === 'object' && body !== null ? (body as { tenant?: unknown }).tenant : undefined;
  return typeof t === 'string' && t.length > 0 && t.length <= 256 ? t.replace(/\u0000/g, '') : undefined;
}
