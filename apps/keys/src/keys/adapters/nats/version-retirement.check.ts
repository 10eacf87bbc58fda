/**
 * Asks the rotation service (`ekm.v1.rotation.check-version-retirement`) whether a key version still
 * protects live data assets before it is disabled or destroyed. Fail closed: no answer, an error or
 * live assets all refuse, with a typed error; the caller may pass `force: true` instead (recorded).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { serviceSigner } from '@ekm/auth';
import { EkmClient, EkmError, RotationClient, type VersionRetirementCheck as RetirementCheck } from '@ekm/client';
import type { KeysConfig } from '@ekm/config';
import { BusErrorCode, fail, type FailReply } from '@ekm/contracts';
import { NATS_CONNECTION, requestDeadline, SERVICE_CONFIG } from '@ekm/service-kit';

/** The principal the keys service acts as towards the rotation service. */
const KEYS_PRINCIPAL = 'service:keys';

@Injectable()
export class VersionRetirementCheck {
  // The SDK's client on the service's connection, signing as `service:keys` when EKM_AUTH=required
  // (the rotation service then only answers signed requests). One attempt: no answer refuses at once.
  private readonly rotation: RotationClient;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection, @Inject(SERVICE_CONFIG) config: KeysConfig) {
    const signer = serviceSigner(config, 'keys');
    this.rotation = new RotationClient(EkmClient.fromConnection(nc, { timeoutMs: 5_000, maxAttempts: 1, deadline: requestDeadline, principalClaim: KEYS_PRINCIPAL, ...(signer ? { credentials: signer } : {}) }));
  }

  /** null when retiring `version` of `keyId` is allowed; otherwise the refusal. */
  async refusal(keyId: string, version: number, requestId: string): Promise<FailReply | null> {
    let r: RetirementCheck;
    try {
      r = await this.rotation.checkVersionRetirement({ keyId, version }, { requestId });
    } catch (err) {
      const transport = !(err instanceof EkmError) || err.code === BusErrorCode.Timeout || err.code === BusErrorCode.Unavailable;
      if (transport) return fail(BusErrorCode.Unavailable, `cannot verify that version ${version} of key ${keyId} protects no live data (rotation service unavailable); nothing was changed. Retry, or pass force: true`);
      return fail(BusErrorCode.Unavailable, `cannot verify that version ${version} of key ${keyId} protects no live data (${err.code}); nothing was changed`);
    }
    if (r.allowed) return null;
    const names = r.sample.map((a) => `${a.tenant}/${a.collection}/${a.asset}`).join(', ');
    return fail(BusErrorCode.VersionInUse,
      `version ${version} of key ${keyId} still protects ${r.liveAssets} data asset(s) (e.g. ${names}); re-wrap them with ReEncrypt first, or pass force: true`);
  }
}
