/**
 * `ekm.v1.audit.query|verify|report`: translate, call the trail reader / verifier, map the result.
 * Tenant isolation: a tenant principal reads only its own tenant's entries and usage (naming another
 * tenant, or a key whose entries belong to another tenant, is EKM_FORBIDDEN and an AccessDenied entry);
 * operator scope reads everything. `verify` is operator only: it recomputes the whole chain, every
 * tenant's entries included (a full-trail CPU job), and a per-tenant verdict would need inclusion proofs
 * the trail does not offer.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { JetStreamApiError } from '@nats-io/jetstream';
import { confineToTenant, isOperatorScope } from '@ekm/auth';
import { BusErrorCode, fail, ok, parseRequest, subject, type FailReply, type Reply } from '@ekm/contracts';
import { ACCESS_REFUSALS, principalOf, tenantNamedBy, type AccessRefusals } from '@ekm/service-kit';
import type { CheckpointRow, TrailSource, VerifyResult } from '../../application/verify-trail';
import { verifyTrail } from '../../application/verify-trail';
import { signReport, type SignedUsageReport } from '../../application/usage-report';
import type { TrailPage } from '../postgres/trail-reader';
import { TRAIL_RUNTIME, type TrailRuntime } from '../trail-runtime';
import { AUDIT_STREAM, CHECKPOINT_SUBJECT } from './siem-relay';
import { QueryRequest, ReportRequest, VerifyRequest } from './audit.schemas';

@Controller()
export class AuditController {
  constructor(@Inject(TRAIL_RUNTIME) private readonly rt: TrailRuntime, @Inject(ACCESS_REFUSALS) private readonly refusals: AccessRefusals) {}

  @MessagePattern(subject('audit', 'query'))
  async query(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<TrailPage>> {
    const r = parseRequest(QueryRequest, body);
    if (!r.ok) return this.refusals.deny(ctx, 'AuditQuery', tenantNamedBy(body), r);
    const q = r.data;
    const scope = await this.confine(ctx, 'AuditQuery', q.tenant, q.keyId);
    if (!scope.ok) return scope.reply;
    return ok(await this.rt.reader.query({
      ...(q.keyId !== undefined ? { keyId: q.keyId } : {}),
      ...(q.principal !== undefined ? { principal: q.principal } : {}),
      ...(scope.tenant !== undefined ? { tenant: scope.tenant } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
      ...(q.category !== undefined ? { category: q.category } : {}),
      ...(q.from !== undefined ? { fromMs: Date.parse(q.from) } : {}),
      ...(q.to !== undefined ? { toMs: Date.parse(q.to) } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      limit: q.limit ?? 100,
      order: q.order ?? 'asc',
    }));
  }

  @MessagePattern(subject('audit', 'verify'))
  async verify(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<VerifyResult>> {
    const r = parseRequest(VerifyRequest, body);
    if (!r.ok) return this.refusals.deny(ctx, 'AuditVerify', undefined, r);
    const caller = principalOf(ctx);
    if (!isOperatorScope(caller)) {
      return this.refusals.deny(ctx, 'AuditVerify', undefined,
        fail(BusErrorCode.Forbidden, `${caller.principalId} may not verify the trail: it covers every tenant's entries, so verify is for operator scope only`));
    }
    const progress = r.data.progressSubject;
    let lastSent = 0;
    const result = await verifyTrail(await this.withPublishedCheckpoint(), {
      verifySignature: (payload, sig) => this.rt.signer.verify(payload, sig),
      onProgress: progress === undefined ? undefined : (done, total) => {
        if (done - lastSent < 50_000 && done !== total) return;
        lastSent = done;
        this.rt.nc.publish(progress, JSON.stringify({ done, total }));
      },
    });
    return ok(result);
  }

  @MessagePattern(subject('audit', 'report'))
  async report(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<SignedUsageReport>> {
    const r = parseRequest(ReportRequest, body);
    if (!r.ok) return this.refusals.deny(ctx, 'AuditReport', tenantNamedBy(body), r);
    const { from, to, keyId } = r.data;
    const scope = await this.confine(ctx, 'AuditReport', r.data.tenant, keyId);
    if (!scope.ok) return scope.reply;
    const tenant = scope.tenant;
    const filter = { ...(tenant !== undefined ? { tenant } : {}), ...(keyId !== undefined ? { keyId } : {}) };
    const trail = await this.rt.reader.headWithHash();
    const rows = await this.rt.reader.usage(Date.parse(from), Date.parse(to), filter);
    return ok(signReport({ v: 1, from: new Date(from).toISOString(), to: new Date(to).toISOString(), filter, generatedAt: new Date().toISOString(), trail, rows }, this.rt.signer));
  }

  /** The caller's tenant scope for a read naming `tenant` and/or `keyId`, or the recorded refusal. */
  private async confine(ctx: NatsContext, operation: string, tenant: string | undefined, keyId: string | undefined):
  Promise<{ ok: true; tenant: string | undefined } | { ok: false; reply: FailReply }> {
    const caller = principalOf(ctx);
    const scope = confineToTenant(caller, tenant);
    if (!scope.ok) return { ok: false, reply: this.refusals.deny(ctx, operation, tenant, fail(BusErrorCode.Forbidden, scope.message)) };
    if (keyId !== undefined && scope.tenant !== undefined && !isOperatorScope(caller)) {
      const owner = await this.rt.reader.tenantOfKey(keyId);
      if (owner !== null && owner !== scope.tenant) {
        return { ok: false, reply: this.refusals.deny(ctx, operation, owner, fail(BusErrorCode.Forbidden, `${caller.principalId} is confined to tenant ${caller.tenant}; key ${keyId} is not in it`)) };
      }
    }
    return { ok: true, tenant: scope.tenant };
  }

  /**
   * The trail's checkpoints plus the newest one published on EKM_AUDIT: a superuser who cuts the tail
   * AND deletes the checkpoint rows is still caught by the copy outside Postgres.
   */
  private async withPublishedCheckpoint(): Promise<TrailSource> {
    const reader = this.rt.reader;
    let published: CheckpointRow | null = null;
    try {
      const m = await this.rt.jsm.streams.getMessage(AUDIT_STREAM, { last_by_subj: CHECKPOINT_SUBJECT });
      const c = m?.json<{ treeSize: number; root: string; payload: string; signature: string }>();
      if (c) published = { treeSize: c.treeSize, root: Buffer.from(c.root, 'hex'), payload: c.payload, signature: Buffer.from(c.signature, 'base64') };
    } catch (err) {
      if (!(err instanceof JetStreamApiError)) throw err;
    }
    return {
      head: () => reader.head(),
      scan: (after, limit) => reader.scan(after, limit),
      checkpoints: async () => {
        const rows = await reader.checkpoints();
        return published && !rows.some((x) => x.treeSize === published!.treeSize) ? [...rows, published] : rows;
      },
    };
  }
}

