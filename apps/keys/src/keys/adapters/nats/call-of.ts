/**
 * The keys service's call meta, read from the request context the transport built once per message
 * (service-kit's EkmRequestContext: request id, principal, trace). No rule is applied here again.
 */
import type { NatsContext } from '@nestjs/microservices';
import { EkmRequestContext, principalOf, requestIdOf } from '@ekm/service-kit';
import type { CallContext, CallMeta } from '../../application/call-context';

export function callMetaOf(ctx: NatsContext): CallMeta {
  // Authenticated by the transport (@ekm/auth); `anonymous` (or the dev Ekm-Principal claim) only with EKM_AUTH=disabled.
  const { principalId, via } = principalOf(ctx);
  const traceId = ctx instanceof EkmRequestContext ? ctx.traceId : undefined;
  // Built field by field (no spreads of temporaries): this runs once per data-plane request.
  const meta: { -readonly [K in keyof CallMeta]: CallMeta[K] } = { principal: principalId, requestId: requestIdOf(ctx) };
  if (via !== undefined) meta.via = via;
  if (traceId !== undefined) meta.traceId = traceId;
  if (ctx instanceof EkmRequestContext) meta.deadline = ctx.deadline;
  return meta;
}

/** A lifecycle call: the meta, the caller's traceparent (recorded with the events) and the command time. */
export function callContextOf(ctx: NatsContext): CallContext {
  const traceparent = ctx instanceof EkmRequestContext ? ctx.traceparent : undefined;
  return { ...callMetaOf(ctx), now: new Date().toISOString(), ...(traceparent !== undefined ? { traceparent } : {}) };
}
