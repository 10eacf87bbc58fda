/**
 * SealTenant / UnsealTenant: read the tenant's seal stream → check the unseal secret against the stored
 * verifier → decide → append (compare-and-set on the stream version, idempotent by command id) → drop
 * this replica's cached seal answer and the tenant's unwrapped material at once. Other replicas do the
 * same when the relayed event reaches them, and in any case within TENANT_SEAL_TTL_MS.
 */
import type { TenantSealStatusReply } from '@ekm/contracts';
import { ConcurrencyConflictError, ExpectedVersion, type EventMeta, type EventStore } from '@ekm/event-store';
import { decideTenantSeal, tenantStreamId, type TenantSealRejection } from '../../domain/tenant-seal';
import type { SealSecrets, TenantMaterialDrop } from './tenant-seal.ports';
import type { StreamTenantSealGate } from './tenant-seal-gate';

export type TenantSealStatus = TenantSealStatusReply;

export type TenantSealOutcome = { ok: true; status: TenantSealStatus } | { ok: false; rejection: TenantSealRejection };

export interface SealRequest { readonly tenant: string; readonly reason: string; readonly unsealSecret?: string }

export class TenantSealCommands {
  constructor(
    private readonly store: EventStore,
    private readonly gate: StreamTenantSealGate,
    private readonly secrets: SealSecrets,
    private readonly dropMaterial: TenantMaterialDrop,
  ) {}

  async status(tenant: string): Promise<TenantSealStatus> {
    const s = await this.gate.read(tenant);
    return s.status === 'Sealed'
      ? { tenant, sealed: true, sealedAt: s.sealedAt, secretRequired: s.verifier !== undefined }
      : { tenant, sealed: false, secretRequired: false };
  }

  async seal(req: SealRequest, meta: EventMeta): Promise<TenantSealOutcome> {
    const verifier = req.unsealSecret !== undefined ? await this.secrets.verifierOf(req.unsealSecret) : undefined;
    return this.run(req.tenant, meta, () => ({ type: 'SealTenant', data: { tenant: req.tenant, reason: req.reason, ...(verifier ? { verifier } : {}) }, meta }));
  }

  async unseal(req: SealRequest, meta: EventMeta): Promise<TenantSealOutcome> {
    return this.run(req.tenant, meta, async (state) => ({
      type: 'UnsealTenant',
      data: { tenant: req.tenant, reason: req.reason, secret: await this.secrets.check(state.status === 'Sealed' ? state.verifier : undefined, req.unsealSecret) },
      meta,
    }));
  }

  private async run(
    tenant: string, meta: EventMeta,
    command: (state: Awaited<ReturnType<StreamTenantSealGate['read']>>) => Parameters<typeof decideTenantSeal>[0] | Promise<Parameters<typeof decideTenantSeal>[0]>,
  ): Promise<TenantSealOutcome> {
    for (let attempt = 0; ; attempt++) {
      const state = await this.gate.read(tenant);
      const decision = decideTenantSeal(await command(state), state);
      if (!decision.ok) return decision;
      try {
        await this.store.appendToStream(tenantStreamId(tenant), decision.events.map((e) => ({ type: e.type, data: e.data, meta })), {
          expectedVersion: ExpectedVersion.fromVersion(state.version), commandId: meta.commandId,
        });
      } catch (e) {
        // Two admins at once: re-read and decide again (the second seal then finds the tenant sealed).
        if (e instanceof ConcurrencyConflictError && attempt < 3) continue;
        throw e;
      }
      this.gate.invalidate(tenant);
      this.dropMaterial(tenant);
      return { ok: true, status: await this.status(tenant) };
    }
  }
}
