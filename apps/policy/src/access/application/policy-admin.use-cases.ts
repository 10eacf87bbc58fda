/** Policy administration: put (validated document, new version), get, list, delete; admin rule first. */
import type { PolicyInfoReply } from '@ekm/contracts';
import type { EventStore, InlineProjection } from '@ekm/event-store';
import type { PolicyDocument } from '@ekm/policy-engine';
import {
  canAdminister, decidePolicy, foldPolicy, type AdminScope, type CommandMeta, type PolicyCommand, type PolicyEvent, type PolicyRejection, type PolicyState,
} from '../domain';
import { policyStreamId, runStreamCommand } from './access-streams';

/** A stored policy as `put-policy` and `get-policy` answer it (the wire contract's type). */
export type PolicyInfo = PolicyInfoReply;

/** NOT_FOUND `foreignTenant`: the policy exists in a tenant the caller may not administer (replied as not found, audited as denied). */
export type PolicyAdminFailure = { kind: 'FORBIDDEN'; reason: string } | { kind: 'NOT_FOUND'; what: string; foreignTenant?: string } | { kind: 'REJECTED'; rejection: PolicyRejection };
export type PolicyAdminResult<T> = { ok: true; value: T } | { ok: false; failure: PolicyAdminFailure };

/** Stored policies, read from the projection (admin reads, not the decision path). */
export interface PolicyReader {
  get(policyId: string): Promise<PolicyInfo | null>;
  list(tenant?: string): Promise<PolicyInfo[]>;
}

export class PolicyAdmin {
  constructor(
    private readonly store: EventStore,
    private readonly inline: readonly InlineProjection[],
    private readonly reader: PolicyReader,
    private readonly afterChange: () => Promise<unknown>,
  ) {}

  async put(caller: AdminScope, input: { policyId: string; tenant: string; document: PolicyDocument; expectedVersion?: number }, meta: CommandMeta): Promise<PolicyAdminResult<PolicyInfo>> {
    if (!canAdminister(caller, input.tenant)) return { ok: false, failure: { kind: 'FORBIDDEN', reason: `${caller.principalId} may not put policies of tenant ${input.tenant}: administration needs role admin in that tenant (or operator scope)` } };
    const cmd: PolicyCommand = { type: 'PutPolicy', data: { ...input }, meta };
    const r = await this.run(cmd);
    if (!r.ok) return r;
    if (r.state.status !== 'Active' || r.state.document === null) throw new Error('programmer error: a put left no active policy');
    return { ok: true, value: { policyId: r.state.policyId, tenant: r.state.tenant, version: r.state.version, document: r.state.document } };
  }

  async get(caller: AdminScope, policyId: string): Promise<PolicyAdminResult<PolicyInfo>> {
    const p = await this.reader.get(policyId);
    if (p === null) return { ok: false, failure: { kind: 'NOT_FOUND', what: `policy ${policyId}` } };
    if (!canAdminister(caller, p.tenant)) return { ok: false, failure: { kind: 'NOT_FOUND', what: `policy ${policyId}`, foreignTenant: p.tenant } };
    return { ok: true, value: p };
  }

  async list(caller: AdminScope, tenant?: string): Promise<PolicyAdminResult<PolicyInfo[]>> {
    if (tenant !== undefined && !canAdminister(caller, tenant)) return { ok: false, failure: { kind: 'FORBIDDEN', reason: `${caller.principalId} may not list policies of tenant ${tenant}` } };
    return { ok: true, value: (await this.reader.list(tenant)).filter((p) => canAdminister(caller, p.tenant)) };
  }

  async delete(caller: AdminScope, policyId: string, meta: CommandMeta): Promise<PolicyAdminResult<{ policyId: string; version: number }>> {
    const p = await this.reader.get(policyId);
    if (p === null) return { ok: false, failure: { kind: 'NOT_FOUND', what: `policy ${policyId}` } };
    if (!canAdminister(caller, p.tenant)) return { ok: false, failure: { kind: 'NOT_FOUND', what: `policy ${policyId}`, foreignTenant: p.tenant } };
    const r = await this.run({ type: 'DeletePolicy', data: { policyId, tenant: p.tenant }, meta });
    if (!r.ok) return r;
    return { ok: true, value: { policyId, version: r.state.status === 'Absent' ? 0 : r.state.version } };
  }

  private async run(cmd: PolicyCommand): Promise<{ ok: true; state: PolicyState } | { ok: false; failure: PolicyAdminFailure }> {
    const r = await runStreamCommand<PolicyEvent, PolicyState, PolicyRejection>(this.store, this.inline, {
      streamId: policyStreamId(cmd.data.policyId),
      ...(cmd.meta.commandId !== undefined ? { commandId: cmd.meta.commandId } : {}),
      fold: foldPolicy,
      decide: (s) => decidePolicy(cmd, s),
    });
    if (!r.ok) return { ok: false, failure: { kind: 'REJECTED', rejection: r.rejection } };
    await this.afterChange();
    return { ok: true, state: r.state };
  }
}
