/**
 * Sends the scheduler's commands to the keys service over the bus: rotate-key (reason SCHEDULED),
 * destroy-key and expire-import-token, each with the slot's deterministic `Ekm-Request-Id` (the keys
 * service makes it the command id, so a repeated send is answered without a second append) and, for
 * keys, the stream version the schedule was computed from (`expectedVersion`).
 */
import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { SessionSigner } from '@ekm/auth';
import { BusErrorCode, REQUEST_ID_HEADER, subject, type Reply } from '@ekm/contracts';
import { withClientSpan } from '@ekm/telemetry';
import type { DueItem } from '../postgres/due-work.store';
import { signedHeaders } from './service-signer';

/** The principal the rotation service acts as (recorded in usage records and the audit trail). */
export const ROTATION_PRINCIPAL = 'service:rotation';

export type SendResult = { ok: true } | { ok: false; code: string; message: string };

/** A header-safe request id (<= 128 chars of `[A-Za-z0-9._:-]`). */
export function headerSafeRequestId(key: string): string {
  return key.length <= 128 && /^[A-Za-z0-9._:-]+$/.test(key) ? key : `rotation:${createHash('sha256').update(key).digest('hex')}`;
}

export class KeysCommandSender {
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs: number, private readonly signer?: SessionSigner) {}

  async send(item: DueItem, requestId: string): Promise<SendResult> {
    const [op, body] =
      item.kind === 'ROTATE' ? [subject('keys', 'rotate-key'), { keyId: item.keyId, reason: 'SCHEDULED', expectedVersion: item.streamVersion }]
        : item.kind === 'DESTROY' ? [subject('keys', 'destroy-key'), { keyId: item.keyId, expectedVersion: item.streamVersion }]
          : [subject('keys', 'expire-import-token'), { keyId: item.keyId, tokenId: item.ref }];
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(body));
      // One trace per due item: this CLIENT span is the parent of the keys service's SERVER span.
      const r = await withClientSpan(op, async (trace) => {
        const h = await signedHeaders(this.signer, op, bytes, { [REQUEST_ID_HEADER]: requestId, 'Ekm-Principal': ROTATION_PRINCIPAL });
        for (const [k, v] of trace) h.set(k, v.join(','));
        return (await this.nc.request(op, bytes, { timeout: this.timeoutMs, headers: h })).json<Reply<unknown>>();
      }, { 'ekm.rotation.kind': item.kind });
      if (!r.ok && r.error.code === BusErrorCode.Unauthenticated) this.signer?.invalidate();
      return r.ok ? { ok: true } : { ok: false, code: r.error.code, message: r.error.message };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const code = /no responders/i.test(message) ? BusErrorCode.Unavailable : BusErrorCode.Timeout;
      return { ok: false, code, message: `${op}: ${message}` };
    }
  }
}
