/**
 * Asks the rotation service (`ekm.v1.rotation.check-version-retirement`) whether a key version still
 * protects live data assets before it is disabled or destroyed. Fail closed: no answer, an error or
 * live assets all refuse, with a typed error; the caller may pass `force: true` instead (recorded).
 */
import { Inject, Injectable } from '@nestjs/common';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { resolveAuthSecret, serviceSessionSource, SessionSealer, SessionSigner } from '@ekm/auth';
import type { KeysConfig } from '@ekm/config';
import { BusErrorCode, fail, REQUEST_ID_HEADER, subject, type FailReply, type Reply } from '@ekm/contracts';
import { NATS_CONNECTION, SERVICE_CONFIG } from '@ekm/service-kit';

interface RetirementCheck { liveAssets: number; allowed: boolean; sample: { tenant: string; collection: string; asset: string }[] }

@Injectable()
export class VersionRetirementCheck {
  // With EKM_AUTH=required the rotation service only answers signed requests: sign as `service:keys`.
  private readonly signer: SessionSigner | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection, @Inject(SERVICE_CONFIG) config: KeysConfig) {
    this.signer = config.auth === 'required'
      ? new SessionSigner(serviceSessionSource(new SessionSealer(resolveAuthSecret({ ...(config.authSecret !== undefined ? { secret: config.authSecret } : {}), env: config.env, dataDir: config.dataDir })), 'keys'))
      : undefined;
  }

  /** null when retiring `version` of `keyId` is allowed; otherwise the refusal. */
  async refusal(keyId: string, version: number, requestId: string): Promise<FailReply | null> {
    const h = headers();
    h.set(REQUEST_ID_HEADER, requestId);
    h.set('Ekm-Principal', 'service:keys');
    let r: Reply<RetirementCheck>;
    try {
      const op = subject('rotation', 'check-version-retirement');
      const body = new TextEncoder().encode(JSON.stringify({ keyId, version }));
      if (this.signer) for (const [k, v] of Object.entries(await this.signer.sign(op, body, requestId))) h.set(k, v as string);
      const m = await this.nc.request(op, body, { timeout: 5_000, headers: h });
      r = m.json<Reply<RetirementCheck>>();
    } catch {
      return fail(BusErrorCode.Unavailable, `cannot verify that version ${version} of key ${keyId} protects no live data (rotation service unavailable); nothing was changed. Retry, or pass force: true`);
    }
    if (!r.ok) return fail(BusErrorCode.Unavailable, `cannot verify that version ${version} of key ${keyId} protects no live data (${r.error.code}); nothing was changed`);
    if (r.data.allowed) return null;
    const names = r.data.sample.map((a) => `${a.tenant}/${a.collection}/${a.asset}`).join(', ');
    return fail(BusErrorCode.VersionInUse,
      `version ${version} of key ${keyId} still protects ${r.data.liveAssets} data asset(s) (e.g. ${names}); re-wrap them with ReEncrypt first, or pass force: true`);
  }
}
