/**
 * SealTenant / UnsealTenant: read the tenant's seal stream → check the unseal secret against the stored
 * verifier → decide → append (compare-and-set on the stream version, idempotent by command id; a seal's
 * verifier row in the same transaction) → drop this replica's cached seal answer and the tenant's
 * unwrapped material at once. Other replicas do the same when the relayed event reaches them, and in
 * any case within TENANT_SEAL_TTL_MS.
 */
import type { TenantSealStatusReply } from '@ekm/contracts';
import { ConcurrencyConflictError, ExpectedVersion, type EventMeta, type EventStore } from '@ekm/event-store';
import { decideTenantSeal, tenantStreamId, type TenantSealCommand, type TenantSealRejection, type UnsealSecretCheck } from '../../domain/tenant-seal';
import type { SealSecrets, SealVerifier, TenantMaterialDrop, UnsealVerifierStore } from './tenant-seal.ports';
import type { StreamTenantSealGate } from './tenant-seal-gate';

export type TenantSealStatus = TenantSealStatusReply;

export type TenantSealOutcome = { ok: true; status: TenantSealStatus } | { ok: false; rejection: TenantSealRejection };

export interface SealRequest { readonly tenant: string; readonly reason: string; readonly unsealSecret?: string }

export class TenantSealCommands {
  constructor(
    private readonly store: EventStore,
    private readonly gate: StreamTenantSealGate,
    private readonly secrets: SealSecrets,
    private readonly verifiers: UnsealVerifierStore,
    private readonly dropMaterial: TenantMaterialDrop,
  ) {}

  async status(tenant: string): Promise<TenantSealStatus> {
    const s = await this.gate.read(tenant);
    return s.status === 'Sealed'
      ? { tenant, sealed: true, sealedAt: s.sealedAt, secretRequired: s.secretRequired }
      : { tenant, sealed: false, secretRequired: false };
  }

  async seal(req: SealRequest, meta: EventMeta): Promise<TenantSealOutcome> {
    const secretRequired = req.unsealSecret !== undefined;
    return this.run(req.tenant, meta, () => ({ type: 'SealTenant', data: { tenant: req.tenant, reason: req.reason, secretRequired }, meta }), req.unsealSecret);
  }

  async unseal(req: SealRequest, meta: EventMeta): Promise<TenantSealOutcome> {
    return this.run(req.tenant, meta, async (state) => ({
      type: 'UnsealTenant',
      data: { tenant: req.tenant, reason: req.reason, secret: await this.secretCheck(state, req.unsealSecret) },
      meta,
    }));
  }

  private async secretCheck(state: SealState, secret: string | undefined): Promise<UnsealSecretCheck> {
    if (state.status !== 'Sealed' || !state.secretRequired) return secret === undefined ? 'absent' : 'matches';
    if (secret === undefined) return 'absent';
    return this.secrets.check(state.tenant, state.sealPosition, await this.verifiers.load(state.tenant, state.sealPosition), secret);
  }

  private async run(
    tenant: string, meta: EventMeta, command: (state: SealState) => TenantSealCommand | Promise<TenantSealCommand>, unsealSecret?: string,
  ): Promise<TenantSealOutcome> {
    for (let attempt = 0; ; attempt++) {
      const state = await this.gate.read(tenant);
      const decision = decideTenantSeal(await command(state), state);
      if (!decision.ok) return decision;
      // The seal's stream position is known before the append (compare-and-set): the verifier is bound to it.
      const position = state.version + 1;
      const verifier: SealVerifier | undefined = unsealSecret !== undefined ? await this.secrets.verifierOf(tenant, position, unsealSecret) : undefined;
      try {
        await this.store.appendToStream(tenantStreamId(tenant), decision.events.map((e) => ({ type: e.type, data: e.data, meta })), {
          expectedVersion: ExpectedVersion.fromVersion(state.version),
          ...(meta.commandId !== undefined ? { commandId: meta.commandId } : {}),
          ...(verifier !== undefined ? { alsoInTransaction: (tx) => this.verifiers.save(tx, tenant, position, verifier) } : {}),
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

type SealState = Awaited<ReturnType<StreamTenantSealGate['read']>>;
