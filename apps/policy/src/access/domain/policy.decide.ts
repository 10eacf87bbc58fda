/**
 * The policy decider: a policy is a versioned document owned by one tenant (or `*`). Put creates or
 * replaces it (version + 1); Delete ends it (a later Put starts it again with the next version, so
 * version numbers are never reused). Documents arrive already validated (the schema lives in
 * @ekm/policy-engine); the decider guards ownership and optimistic versions.
 */
import type { Event } from '@ekm/event-store';
import type { PolicyDocument } from '@ekm/policy-engine';
import { assertNever, type CommandMeta } from './principal.types';

export type PolicyEvent =
  | Event<'PolicyPut', { policyId: string; tenant: string; version: number; document: PolicyDocument }>
  | Event<'PolicyDeleted', { policyId: string; tenant: string; version: number }>;

export type PolicyCommand =
  | { type: 'PutPolicy'; data: { policyId: string; tenant: string; document: PolicyDocument; expectedVersion?: number }; meta: CommandMeta }
  | { type: 'DeletePolicy'; data: { policyId: string; tenant: string }; meta: CommandMeta };

export type PolicyState =
  | { readonly status: 'Absent' }
  | { readonly status: 'Active' | 'Deleted'; readonly policyId: string; readonly tenant: string; readonly version: number; readonly document: PolicyDocument | null };

export type PolicyRejection =
  | { code: 'POLICY_NOT_FOUND'; policyId: string }
  | { code: 'POLICY_OWNED_ELSEWHERE'; policyId: string }
  | { code: 'POLICY_VERSION_MISMATCH'; policyId: string; expected: number; actual: number };

export type PolicyDecision = { ok: true; events: PolicyEvent[] } | { ok: false; rejection: PolicyRejection };

const reject = (rejection: PolicyRejection): PolicyDecision => ({ ok: false, rejection });

export function decidePolicy(cmd: PolicyCommand, s: PolicyState): PolicyDecision {
  const { policyId, tenant } = cmd.data;
  // Another tenant's policy is "not found" for delete and a conflict for put; its tenant is never named.
  if (s.status !== 'Absent' && s.tenant !== tenant) return reject(cmd.type === 'PutPolicy' ? { code: 'POLICY_OWNED_ELSEWHERE', policyId } : { code: 'POLICY_NOT_FOUND', policyId });
  const current = s.status === 'Active' ? s.version : 0;
  switch (cmd.type) {
    case 'PutPolicy': {
      const expected = cmd.data.expectedVersion;
      if (expected !== undefined && expected !== current) return reject({ code: 'POLICY_VERSION_MISMATCH', policyId, expected, actual: current });
      const version = s.status === 'Absent' ? 1 : s.version + 1;
      return { ok: true, events: [{ type: 'PolicyPut', data: { policyId, tenant, version, document: cmd.data.document }, meta: cmd.meta }] };
    }
    case 'DeletePolicy':
      if (s.status !== 'Active') return reject({ code: 'POLICY_NOT_FOUND', policyId });
      return { ok: true, events: [{ type: 'PolicyDeleted', data: { policyId, tenant, version: s.version }, meta: cmd.meta }] };
    default:
      return assertNever(cmd);
  }
}

export function evolvePolicy(s: PolicyState, e: PolicyEvent): PolicyState {
  switch (e.type) {
    case 'PolicyPut':
      return { status: 'Active', policyId: e.data.policyId, tenant: e.data.tenant, version: e.data.version, document: e.data.document };
    case 'PolicyDeleted':
      return s.status === 'Absent' ? s : { ...s, status: 'Deleted', document: null };
    default:
      return assertNever(e);
  }
}

export const initialPolicy: PolicyState = { status: 'Absent' };
export const foldPolicy = (events: readonly PolicyEvent[]): PolicyState => events.reduce(evolvePolicy, initialPolicy);
