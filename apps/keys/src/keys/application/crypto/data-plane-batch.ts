/**
 * Batch forms (≤ 100 items, per-item context, per-item results). Decision: one usage record per item
 * (request id `<id>/<index>`), so every item names its own key, version, context and outcome exactly as
 * a single call would; the records of a batch join the same group commit, so this costs no extra
 * commits. If ANY item's record cannot be committed the whole batch is EKM_AUDIT_UNAVAILABLE and every
 * plaintext already produced is zeroed: a caller never gets plaintext whose use is not on record.
 */
import type { ReplyError } from '@ekm/contracts';
import { toFailReply, type CallFailure } from '../call-failures';
import type { DataPlane } from './data-plane';
import type { DecryptRequest, GenerateDataKeyRequest, ReEncryptRequest } from '@ekm/contracts';
import { disposeSecrets } from './secret-bytes';
import type { CallMeta, Outcome } from '../call-pipeline';

export type BatchItem<T> = ({ ok: true } & T) | { ok: false; error: ReplyError };
export type BatchOutcome<T> = { ok: true; value: { items: BatchItem<T>[] } } | { ok: false; failure: CallFailure };

export class DataPlaneBatch {
  constructor(private readonly plane: DataPlane) {}

  generateDataKeys(items: readonly GenerateDataKeyRequest[], meta: CallMeta, withPlaintext: boolean) {
    return this.run(items, meta, (item, m) => this.plane.generateDataKey(item, m, withPlaintext));
  }

  decrypt(items: readonly DecryptRequest[], meta: CallMeta) {
    return this.run(items, meta, (item, m) => this.plane.decrypt(item, m));
  }

  reEncrypt(items: readonly ReEncryptRequest[], meta: CallMeta) {
    return this.run(items, meta, (item, m) => this.plane.reEncrypt(item, m));
  }

  private async run<I, T extends object>(items: readonly I[], meta: CallMeta, one: (item: I, meta: CallMeta) => Promise<Outcome<T>>): Promise<BatchOutcome<T>> {
    const settled = await Promise.allSettled(items.map((item, i) => one(item, { ...meta, requestId: `${meta.requestId}/${i}` })));
    const outcomes = settled.map((s): Outcome<T> => (s.status === 'fulfilled' ? s.value : { ok: false, failure: { kind: 'UNAVAILABLE', what: 'the key service' } }));
    if (outcomes.some((o) => !o.ok && o.failure.kind === 'AUDIT_UNAVAILABLE')) {
      for (const o of outcomes) if (o.ok) disposeSecrets(o.value);
      return { ok: false, failure: { kind: 'AUDIT_UNAVAILABLE' } };
    }
    return {
      ok: true,
      value: { items: outcomes.map((o): BatchItem<T> => (o.ok ? { ok: true, ...o.value } : { ok: false, error: toFailReply(o.failure).error })) },
    };
  }
}
