/** `ekm.v1.audit.query|verify|report`: translate, call the trail reader / verifier, map the result. */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { JetStreamApiError } from '@nats-io/jetstream';
import { fail, ok, parseRequest, subject, BusErrorCode, type Reply } from '@ekm/contracts';
import type { CheckpointRow, TrailSource, VerifyResult } from '../../application/verify-trail';
import { verifyTrail } from '../../application/verify-trail';
import { signReport, type SignedUsageReport } from '../../application/usage-report';
import type { TrailPage } from '../postgres/trail-reader';
import { TRAIL_RUNTIME, type TrailRuntime } from '../trail-runtime';
import { AUDIT_STREAM, CHECKPOINT_SUBJECT } from './siem-relay';
import { QueryRequest, ReceiptRequest, ReportRequest, VerifyRequest } from './audit.schemas';
import { buildReceipt, signReceipt, type SignedDestructionReceipt } from '../../application/destruction-receipt';

@Controller()
export class AuditController {
  constructor(@Inject(TRAIL_RUNTIME) private readonly rt: TrailRuntime) {}

  @MessagePattern(subject('audit', 'query'))
  async query(@Payload() body: unknown): Promise<Reply<TrailPage>> {
    const r = parseRequest(QueryRequest, body);
    if (!r.ok) return r;
    const q = r.data;
    return ok(await this.rt.reader.query({
      ...(q.keyId !== undefined ? { keyId: q.keyId } : {}),
      ...(q.principal !== undefined ? { principal: q.principal } : {}),
      ...(q.tenant !== undefined ? { tenant: q.tenant } : {}),
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
  async verify(@Payload() body: unknown): Promise<Reply<VerifyResult>> {
    const r = parseRequest(VerifyRequest, body);
    if (!r.ok) return r;
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
  async report(@Payload() body: unknown): Promise<Reply<SignedUsageReport>> {
    const r = parseRequest(ReportRequest, body);
    if (!r.ok) return r;
    const { from, to, tenant, keyId } = r.data;
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
  async destructionReceipt(@Payload() body: unknown): Promise<Reply<SignedDestructionReceipt>> {
    const r = parseRequest(ReceiptRequest, body);
    if (!r.ok) return r;
    const { keyRows, epochRows } = await this.rt.reader.receiptRows(r.data.keyId);
    const receipt = buildReceipt(r.data.keyId, keyRows, epochRows);
    if (receipt === 'NOT_DESTROYED') return fail(BusErrorCode.NotFound, `the audit trail holds no KeyDestroyed for key ${r.data.keyId}`);
    if (receipt === 'EPOCH_PENDING') return fail(BusErrorCode.Unavailable, `key ${r.data.keyId} is destroyed but the epoch roll that destroys its root-of-trust epoch key is not in the audit trail yet; retry shortly`);
    return ok(signReceipt(receipt, this.rt.signer));
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
