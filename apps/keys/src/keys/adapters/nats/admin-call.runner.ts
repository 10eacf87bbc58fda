/**
 * Lifecycle calls through the keys service's one pipeline (../../application/call-pipeline.ts):
 * validate (zod) → access (KeyAccess: resolve `keyId` (id or `alias/<name>`), authorize) → run → usage
 * record (allowed, denied or failed) → reply. Fail closed: when the usage record cannot be committed the
 * reply is EKM_AUDIT_UNAVAILABLE. Errors are classified by the one table (call-failures.ts).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import type { z } from 'zod';
import { parseRequest, type Reply } from '@ekm/contracts';
import type { CallContext } from '../../application/call-context';
import { deadlinePassed, replyOf, runRecorded, type Attempt, type UsageFacts } from '../../application/call-pipeline';
import type { UsageRecorder } from '../../application/usage-recorder';
import { USAGE_RECORDER } from '../../application/ports';
import { KeyAccess } from '../../application/crypto/key-access';
import { callContextOf } from './call-of';

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
  /** Runs while the tenant is sealed: only the kill switch's own calls (seal, unseal, status). */
  readonly sealExempt?: boolean;
}

@Injectable()
export class AdminCallRunner {
  constructor(
    @Inject(KeyAccess) private readonly access: KeyAccess,
    @Inject(USAGE_RECORDER) private readonly recorder: UsageRecorder,
  ) {}

  async run<S extends z.ZodType, T>(body: unknown, nats: NatsContext, spec: AdminCall<S, T>): Promise<Reply<T>> {
    const call = callContextOf(nats);
    // What is known of the call so far: also the facts of its record when the run throws (a refused request id).
    const known: { -readonly [K in keyof UsageFacts]: UsageFacts[K] } = { operation: spec.operation };
    return replyOf(await runRecorded(this.recorder, call, known, () => this.attempt(body, call, spec, known)));
  }

  private async attempt<S extends z.ZodType, T>(body: unknown, call: CallContext, spec: AdminCall<S, T>, known: { -readonly [K in keyof UsageFacts]: UsageFacts[K] }): Promise<Attempt<T>> {
    const { operation } = spec;
    const parsed = parseRequest(spec.schema, body);
    if (!parsed.ok) return { ok: false, failure: { kind: 'REPLIED', error: parsed.error }, facts: { operation } };
    const req = parsed.data;
    const action = `keys:${operation}`;
    let keyId = '';
    let facts: UsageFacts;
    if (spec.keyRef !== undefined) {
      const a = await this.access.authorizeRef(spec.keyRef(req), call.principal, action);
      if (!a.ok) return { ok: false, failure: a.failure, facts: { operation, ...(a.keyId !== undefined ? { keyId: a.keyId } : {}) } };
      keyId = a.keyId;
      facts = { operation, keyId, tenant: a.state.tenant };
      Object.assign(known, facts);
    } else {
      const resource = spec.resource?.(req) ?? {};
      facts = { operation, ...(resource.tenant !== undefined ? { tenant: resource.tenant } : {}) };
      Object.assign(known, facts);
      const decision = await this.access.authorize({ principal: call.principal, action, resource });
      if (!decision.allowed) return { ok: false, failure: { kind: 'FORBIDDEN', action, reason: decision.reason, principal: call.principal, operation }, facts };
      if (spec.sealExempt !== true && resource.tenant !== undefined && (await this.access.isSealed(resource.tenant))) {
        return { ok: false, failure: { kind: 'TENANT_SEALED', tenant: resource.tenant }, facts };
      }
    }
    // Authorizing may have waited on the policy service: a command nobody waits for is not started.
    const late = deadlinePassed(call, operation);
    if (late) return { ok: false, failure: late, facts };
    const result = await spec.run(req, { ...call, keyId });
    if (!result.ok) return { ok: false, failure: { kind: 'REPLIED', error: result.error }, facts };
    const data = result.data as { keyId?: unknown; primaryVersion?: unknown } | null;
    if (facts.keyId === undefined && typeof data?.keyId === 'string') facts = { ...facts, keyId: data.keyId };
    if (typeof data?.primaryVersion === 'number') facts = { ...facts, keyVersion: data.primaryVersion };
    return { ok: true, value: result.data, facts };
  }
}
