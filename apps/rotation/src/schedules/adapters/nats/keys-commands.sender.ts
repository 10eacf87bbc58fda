/**
 * Sends the scheduler's commands to the keys service over the bus: rotate-key (reason SCHEDULED),
 * destroy-key and expire-import-token, each with the slot's deterministic `Ekm-Request-Id` (the keys
 * service makes it the command id, so a repeated send is answered without a second append) and, for
 * keys, the stream version the schedule was computed from (`expectedVersion`).
 */
import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { SessionSigner } from '@ekm/auth';
import { EkmClient, EkmError, KeysClient } from '@ekm/client';
import { BusErrorCode, isRequestId } from '@ekm/contracts';
import type { DueItem } from '../postgres/due-work.store';

/** The principal the rotation service acts as (recorded in usage records and the audit trail). */
export const ROTATION_PRINCIPAL = 'service:rotation';

export type SendResult = { ok: true } | { ok: false; code: string; message: string };

/** A header-safe request id (<= 128 chars of `[A-Za-z0-9._:-]`). */
export function headerSafeRequestId(key: string): string {
  return isRequestId(key) ? key : `rotation:${createHash('sha256').update(key).digest('hex')}`;
}

export class KeysCommandSender {
  // The SDK's client on the scheduler's connection (signing as `service:rotation` with a signer). One
  // attempt per send: the scheduler owns the retry policy (attempts, backoff, the failure ledger).
  private readonly keys: KeysClient;

  constructor(nc: NatsConnection, timeoutMs: number, private readonly signer?: SessionSigner) {
    this.keys = new KeysClient(EkmClient.fromConnection(nc, { timeoutMs, maxAttempts: 1, principalClaim: ROTATION_PRINCIPAL, ...(signer ? { credentials: signer } : {}) }));
  }

  async send(item: DueItem, requestId: string): Promise<SendResult> {
    const opts = { requestId };
    try {
      if (item.kind === 'ROTATE') await this.keys.rotateKey(item.keyId, { ...opts, reason: 'SCHEDULED', expectedVersion: item.streamVersion });
      else if (item.kind === 'DESTROY') await this.keys.destroyKey(item.keyId, { ...opts, expectedVersion: item.streamVersion });
      else await this.keys.expireImportToken(item.keyId, item.ref, opts);
      return { ok: true };
    } catch (err) {
      if (!(err instanceof EkmError)) return { ok: false, code: BusErrorCode.Internal, message: err instanceof Error ? err.message : String(err) };
      if (err.code === BusErrorCode.Unauthenticated) this.signer?.invalidate();
      return { ok: false, code: err.code, message: err.message };
    }
  }
}
