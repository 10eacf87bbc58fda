/**
 * The frame every lifecycle request goes through: validate (zod) → resolve `keyId` (id or
 * `alias/<name>`) → authorize → run → map to a Reply → record usage (allowed, denied or failed).
 * Fail closed: when the usage record cannot be committed the reply is EKM_AUDIT_UNAVAILABLE.
 */
import { trace } from '@opentelemetry/api';
import { Inject, Injectable } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import type { z } from 'zod';
import { BusErrorCode, fail, parseRequest, REQUEST_ID_HEADER, TRACEPARENT_HEADER, type Reply } from '@ekm/contracts';
import { LOGGER, principalOf } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { asKeyId } from '../../domain';
import { newRequestId, type CallContext } from '../../application/call-context';
import { AuditUnavailableError, UsageRecordRefusedError, type UsageRecorder } from '../../application/usage-recorder';
import { AUTHORIZER, KEY_STATE_READER, USAGE_RECORDER, type Authorizer, type KeyStateReader } from '../../application/ports';
import { errorReply, rejectionReply } from './keys-admin.errors';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What the run step knows: the call, and the resolved key when the request names one. */
export interface ResolvedCall extends CallContext {
  readonly keyId: string;
}

export interface AdminCall<S extends z.ZodType, T> {
  /** PascalCase operation, e.g. `CreateKey` (authz action `keys:CreateKey`, usage record operation). */
  readonly operation: string;
  readonly schema: S;
  /** The key reference in the request (id or alias); omitted for CreateKey and ListKeys. */
  readonly keyRef?: (req: z.output<S>) => string;
  /** Resource attributes for authorization when there is no key yet (CreateKey). */
  readonly resource?: (req: z.output<S>) => { tenant?: string; tags?: Readonly<Record<string, string>> };
  readonly run: (req: z.output<S>, call: ResolvedCall) => Promise<Reply<T>>;
}

@Injectable()
export class AdminCallRunner {
  constructor(
    @Inject(KEY_STATE_READER) private readonly reader: KeyStateReader,
    @Inject(AUTHORIZER) private readonly authorizer: Authorizer,
    @Inject(USAGE_RECORDER) private readonly recorder: UsageRecorder,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run<S extends z.ZodType, T>(body: unknown, nats: NatsContext, spec: AdminCall<S, T>): Promise<Reply<T>> {
    const ctx = contextOf(nats);
    const facts: { keyId?: string; tenant?: string; keyVersion?: number } = {};
    let reply: Reply<T>;
    try {
      reply = await this.execute(body, ctx, spec, facts);
    } catch (err) {
      const mapped = errorReply(err);
      if (mapped === null) {
        const e = err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { message: String(err) };
        this.logger.error({ operation: spec.operation, requestId: ctx.requestId, err: e }, 'lifecycle request failed');
      }
      reply = mapped ?? fail(BusErrorCode.Internal, `internal error (request id ${ctx.requestId})`, { requestId: ctx.requestId });
    }
    try {
      await this.recorder.record({
        requestId: ctx.requestId, principal: ctx.principal, operation: spec.operation, at: new Date().toISOString(),
        outcome: reply.ok ? 'ALLOWED' : reply.error.code === BusErrorCode.Forbidden ? 'DENIED' : 'FAILED',
        ...(reply.ok ? {} : { errorCode: reply.error.code, reason: reply.error.message }),
        ...(facts.keyId !== undefined ? { keyId: facts.keyId } : {}),
        ...(facts.tenant !== undefined ? { tenant: facts.tenant } : {}),
        ...(facts.keyVersion !== undefined ? { keyVersion: facts.keyVersion } : {}),
        ...traceIdField(),
      });
    } catch (err) {
      if (err instanceof UsageRecordRefusedError) return fail(BusErrorCode.Validation, `(request): ${err.message}`);
      const e = err instanceof AuditUnavailableError ? err : new AuditUnavailableError();
      return fail(BusErrorCode.AuditUnavailable, e.message);
    }
    return reply;
  }

  private async execute<S extends z.ZodType, T>(
    body: unknown, ctx: CallContext, spec: AdminCall<S, T>, facts: { keyId?: string; tenant?: string; keyVersion?: number },
  ): Promise<Reply<T>> {
    const parsed = parseRequest(spec.schema, body);
    if (!parsed.ok) return parsed;
    const req = parsed.data;
    let keyId = '';
    let resource: { keyId?: string; tenant?: string; tags?: Readonly<Record<string, string>> } = spec.resource?.(req) ?? {};
    if (spec.keyRef !== undefined) {
      const ref = spec.keyRef(req);
      const resolved = await this.reader.resolve(ref);
      const state = resolved === null ? null : await this.reader.load(resolved);
      if (resolved === null || state === null) return rejectionReply({ code: 'KEY_NOT_FOUND', keyId: asKeyId(ref) });
      keyId = resolved;
      resource = { keyId, tenant: state.tenant, tags: state.tags };
    }
    if (resource.keyId !== undefined) facts.keyId = resource.keyId;
    if (resource.tenant !== undefined) facts.tenant = resource.tenant;
    const decision = await this.authorizer.authorize({ principal: ctx.principal, action: `keys:${spec.operation}`, resource });
    if (!decision.allowed) return fail(BusErrorCode.Forbidden, `${ctx.principal} may not ${spec.operation}: ${decision.reason}`);
    const result = await spec.run(req, { ...ctx, keyId });
    if (result.ok) {
      const data = result.data as { keyId?: unknown; primaryVersion?: unknown } | null;
      if (facts.keyId === undefined && typeof data?.keyId === 'string') facts.keyId = data.keyId;
      if (typeof data?.primaryVersion === 'number') facts.keyVersion = data.primaryVersion;
    }
    return result;
  }
}

function contextOf(nats: NatsContext): CallContext {
  const h = nats.getHeaders() as { has(k: string): boolean; get(k: string): string } | undefined;
  const header = (name: string): string | undefined => (h?.has(name) ? h.get(name) : undefined);
  const requestId = header(REQUEST_ID_HEADER);
  const traceparent = header(TRACEPARENT_HEADER);
  const { via } = principalOf(nats);
  return {
    requestId: requestId !== undefined && REQUEST_ID.test(requestId) ? requestId : newRequestId(),
    // Authenticated by the transport (@ekm/auth); `anonymous` (or the dev Ekm-Principal claim) only with EKM_AUTH=disabled.
    principal: principalOf(nats).principalId,
    now: new Date().toISOString(),
    ...(via !== undefined ? { via } : {}),
    ...(traceparent !== undefined ? { traceparent } : {}),
  };
}

function traceIdField(): { traceId?: string } {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return id !== undefined ? { traceId: id } : {};
}
