/**
 * Who calls and under which request id. The principal is the one the transport authenticated
 * (@ekm/auth, `principalOf(ctx)`); with EKM_AUTH=disabled (development/tests) it is `anonymous`, or
 * the unauthenticated `Ekm-Principal` claim.
 */
import { createHash, createHmac } from 'node:crypto';
import type { CommandMeta } from '../domain';

export const PRINCIPAL_HEADER = 'Ekm-Principal';

/** Who asks, and how to find the request later: what every call (lifecycle and data plane) carries. */
export interface CallMeta {
  /** The request id the transport chose (the caller's `Ekm-Request-Id`, or a fresh one): the idempotency key of this call. */
  readonly requestId: string;
  readonly principal: string;
  /** The edge the caller's session was opened through (`kms-api`), recorded with every event. */
  readonly via?: string;
  /** Trace id of the request's span, for the usage record. */
  readonly traceId?: string;
  /** Epoch ms after which nothing is started for this call (the transport's bounded `Ekm-Timeout-Ms` from arrival). */
  readonly deadline?: number;
}

/** A lifecycle call: the meta plus what its command events record. */
export interface CallContext extends CallMeta {
  readonly traceparent?: string;
  /** The command time, read once per call. */
  readonly now: string;
}

/** Command meta for `operation`: the command id is per operation, so one request id reused for two different calls is not mistaken for a retry. */
export function commandMeta(ctx: CallContext, operation: string): CommandMeta {
  return {
    actor: ctx.principal,
    correlationId: ctx.requestId,
    commandId: `${operation}:${ctx.requestId}`,
    now: ctx.now,
    ...(ctx.via !== undefined ? { via: ctx.via } : {}),
    ...(ctx.traceparent !== undefined ? { traceparent: ctx.traceparent } : {}),
  };
}

/**
 * A UUID-shaped id derived from the request id, so a retried CreateKey names the same key (and is a
 * duplicate). With `key` (ID_DERIVATION_KEY) it is an HMAC: another principal who learns a request id
 * cannot compute the key id it created. Without (bench seeding) a plain SHA-256.
 */
export function deterministicId(purpose: string, requestId: string, key?: Uint8Array): string {
  const h = (key ? createHmac('sha256', key) : createHash('sha256')).update(`ekm/${purpose}/`).update(requestId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

