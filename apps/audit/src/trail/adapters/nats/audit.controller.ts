/**
 * `ekm.v1.audit.query|verify|report`: translate, call the trail reader / verifier, map the result.
 * Tenant isolation: a tenant principal reads only its own tenant's entries and usage (naming another
 * tenant, or a key whose entries belong to another tenant, is EKM_FORBIDDEN and an AccessDenied entry);
 * operator scope reads everything. `verify` is operator only: it recomputes the whole chain, every
 * tenant's entries included (a full-trail CPU job), and a per-tenant verdict would need inclusion proofs
 * the trail does not offer. Each handler's return type is its reply contract (@ekm/contracts
 * audit.replies.ts), so a handler drifting from the schema fails the typecheck.
 */
import { readFileSync } from 'node:fs';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { jetstream } from '@nats-io/jetstream';
import { confineToTenant, isOperatorScope } from '@ekm/auth';
import {
  AuditQueryRequest, AuditReportRequest, AuditVerifyRequest, BusErrorCode, DestructionReceiptRequest, fail, ok, parseRequest, subject,
  type AuditPageReply, type AuditVerifyReply, type FailReply, type Reply, type SignedDestructionReceiptReply, type SignedUsageReportReply,
} from '@ekm/contracts';
import { ACCESS_REFUSALS, EkmRequestContext, principalOf, tenantNamedBy, type AccessRefusals } from '@ekm/service-kit';
import type { CheckpointRow, TrailSource } from '../../application/verify-trail';
import { verifyTrail } from '../../application/verify-trail';
import { signReport } from '../../application/usage-report';
import { TRAIL_RUNTIME, type TrailRuntime } from '../trail-runtime';
import type { SignedCheckpoint } from '../postgres/chain-guard';
import { parsePublishedCheckpoint, readPublishedCheckpoints } from './published-checkpoints';
import { buildReceipt, signReceipt } from '../../application/destruction-receipt';

@Controller()
export class AuditController {
  constructor(@Inject(TRAIL_RUNTIME) private readonly rt: TrailRuntime, @Inject(ACCESS_REFUSALS) private readonly refusals: AccessRefusals) {}

  @MessagePattern(subject('audit', 'query'))
  async query(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<AuditPageReply>> {
    const r = parseRequest(AuditQueryRequest, body);
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
  async verify(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<AuditVerifyReply>> {
    const r = parseRequest(AuditVerifyRequest, body);
    if (!r.ok) return this.refusals.deny(ctx, 'AuditVerify', undefined, r);
    const caller = principalOf(ctx);
    if (!isOperatorScope(caller)) {
      return this.refusals.deny(ctx, 'AuditVerify', undefined,
        fail(BusErrorCode.Forbidden, `${caller.principalId} may not verify the trail: it covers every tenant's entries, so verify is for operator scope only`));
    }
    const progress = r.data.progressSubject;
    if (progress !== undefined && !isCallersInbox(progress, ctx)) {
      return fail(BusErrorCode.Validation, 'progressSubject: must be under the inbox prefix of this request\'s reply subject', { issues: [{ path: 'progressSubject', rule: 'must be under the inbox prefix of the reply subject' }] });
    }
    let trusted: Awaited<ReturnType<AuditController['trustedCheckpoints']>>;
    try {
      trusted = await this.trustedCheckpoints();
    } catch (err) {
      // Without the copy outside Postgres a superuser's re-signed or restored trail would pass: refuse.
      const what = err instanceof WitnessUnreadableError ? err.message : 'the published checkpoint stream EKM_AUDIT cannot be read';
      return fail(BusErrorCode.Unavailable, `${what}; verify trusts it over the database rows, so it did not run`);
    }
    let lastSent = 0;
    const result = await verifyTrail(trusted.source, {
      verifySignature: (payload, sig) => this.rt.signer.verify(payload, sig),
      onProgress: progress === undefined ? undefined : (done, total) => {
        if (done - lastSent < 50_000 && done !== total) return;
        lastSent = done;
        this.rt.nc.publish(progress, JSON.stringify({ done, total }));
      },
    });
    // Entries after the last checkpoint are only as good as the chain, unless the signer vouches for them:
    // it re-chains them and rebuilds each from its source event (a forged entry after the head fails here).
    await this.rt.appender.checkHead().catch(() => undefined);
    const guard = this.rt.appender.guard;
    const health = await this.rt.health();
    const extra = { published: trusted.published, quarantined: health.quarantined, signerDistrust: guard.untrustedReason };
    if (result.ok && guard.untrustedReason !== null) {
      return ok({ ...result, ...extra, ok: false, firstBadIndex: guard.untrustedIndex, reason: `the audit service stopped signing: ${guard.untrustedReason}` });
    }
    // Entries appended after a cut hide where it was; the signer saw the cut happen.
    if (!result.ok && guard.untrustedIndex !== null && result.firstBadIndex !== null && guard.untrustedIndex < result.firstBadIndex) {
      return ok({ ...result, ...extra, firstBadIndex: guard.untrustedIndex, reason: `${result.reason}; the audit service saw the trail change at entry ${guard.untrustedIndex}: ${guard.untrustedReason ?? ''}` });
    }
    return ok({ ...result, ...extra });
  }

  @MessagePattern(subject('audit', 'report'))
  async report(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<SignedUsageReportReply>> {
    const r = parseRequest(AuditReportRequest, body);
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

  /**
   * The signed destruction receipt of a key, built from the trail. EKM_NOT_FOUND while the key is not
   * destroyed; EKM_UNAVAILABLE (retriable) while the epoch roll that follows the destroy is not in the trail yet.
   */
  @MessagePattern(subject('audit', 'destruction-receipt'))
  async destructionReceipt(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<SignedDestructionReceiptReply>> {
    const r = parseRequest(DestructionReceiptRequest, body);
    if (!r.ok) return this.refusals.deny(ctx, 'DestructionReceipt', tenantNamedBy(body), r);
    // A tenant principal gets receipts of its own tenant's keys only (the receipt names the tenant).
    const scope = await this.confine(ctx, 'DestructionReceipt', undefined, r.data.keyId);
    if (!scope.ok) return scope.reply;
    const { keyRows, epochRows } = await this.rt.reader.receiptRows(r.data.keyId);
    const receipt = buildReceipt(r.data.keyId, keyRows, epochRows);
    if (receipt === 'NOT_DESTROYED') return fail(BusErrorCode.NotFound, `the audit trail holds no KeyDestroyed for key ${r.data.keyId}`);
    if (receipt === 'EPOCH_PENDING') return fail(BusErrorCode.Unavailable, `key ${r.data.keyId} is destroyed but the epoch roll that destroys its root-of-trust epoch key is not in the audit trail yet; retry shortly`);
    return ok(signReceipt(receipt, this.rt.signer));
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
   * The checkpoints verify checks the chain against: every checkpoint published on EKM_AUDIT and in the
   * optional witness file (outside Postgres, so deleting or cutting rows cannot hide what was signed),
   * plus the stored rows (a row can be deleted, but a forged one fails its signature). A trail shorter
   * than, or different from, any of them is reported.
   */
  private async trustedCheckpoints(): Promise<{ source: TrailSource; published: AuditVerifyReply['published'] }> {
    const reader = this.rt.reader;
    const pub = await readPublishedCheckpoints(jetstream(this.rt.nc), this.rt.signer);
    const witness = this.rt.config.witnessFile ? readWitness(this.rt.config.witnessFile, this.rt.signer) : { checkpoints: [], rejected: 0 };
    const outside = [...pub.checkpoints, ...witness.checkpoints];
    const key = (c: CheckpointRow): string => `${c.treeSize}:${c.signature.toString('base64')}`;
    return {
      published: {
        checkpoints: pub.checkpoints.length,
        signedThrough: outside.reduce((m, c) => Math.max(m, c.treeSize), 0),
        rejected: pub.rejected + witness.rejected,
        witness: witness.checkpoints.length,
      },
      source: {
        head: () => reader.head(),
        scan: (after, limit) => reader.scan(after, limit),
        checkpoints: async () => {
          const rows = await reader.checkpoints();
          const seen = new Set(rows.map(key));
          return [...rows, ...outside.filter((c) => !seen.has(key(c)) && (seen.add(key(c)), true))];
        },
      },
    };
  }
}

/** Only the caller's own inbox: the same first token (`_INBOX`, or a per-user prefix) as the reply subject. */
function isCallersInbox(progress: string, ctx: NatsContext | undefined): boolean {
  const reply = ctx instanceof EkmRequestContext ? ctx.replySubject : undefined;
  if (!reply) return false;
  const prefix = reply.split('.')[0];
  return prefix.startsWith('_INBOX') && progress.split('.')[0] === prefix;
}

/** The witness file: one published checkpoint body per line (e.g. exported by a SIEM from EKM_AUDIT). */
class WitnessUnreadableError extends Error {}

function readWitness(file: string, verifier: TrailRuntime['signer']): { checkpoints: SignedCheckpoint[]; rejected: number } {
  const checkpoints: SignedCheckpoint[] = [];
  let rejected = 0;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WitnessUnreadableError(`the witness file (EKM_AUDIT_WITNESS_FILE) cannot be read (${(err as { code?: string }).code ?? 'error'})`);
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let body: unknown;
    try {
      body = JSON.parse(line);
    } catch {
      body = null;
    }
    const cp = parsePublishedCheckpoint(body, verifier);
    if (cp) checkpoints.push(cp);
    else rejected++;
  }
  return { checkpoints, rejected };
}
