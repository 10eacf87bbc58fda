/**
 * The tenant kill switch as a decider (Emmett): a tenant is Open or Sealed; SealTenant and UnsealTenant
 * move it. The events live in the keys event log (stream `tenant-<tenant>`), so they are relayed and
 * reach the audit trail like every lifecycle event. No I/O here: whether an unseal secret matches the
 * stored verifier is computed by the application (scrypt + HMAC) and handed in as a fact.
 */
import type { Event, EventMeta } from '@ekm/event-store';

/**
 * What is stored of a tenant-held unseal secret: never the secret, only
 * HMAC(pepper, scrypt(secret, salt)), so neither the log nor the audit trail can be brute-forced without
 * the service's pepper.
 */
export interface SealVerifier {
  readonly scheme: 'scrypt-hmac-v1';
  readonly salt: string;
  readonly hash: string;
}

export type TenantSealEvent =
  | Event<'TenantSealed', { tenant: string; reason: string; secretRequired: boolean; verifier?: SealVerifier }>
  | Event<'TenantUnsealed', { tenant: string; reason: string }>;

export type TenantSealState =
  | { readonly status: 'Open'; readonly tenant: string }
  | { readonly status: 'Sealed'; readonly tenant: string; readonly sealedAt: string; readonly verifier?: SealVerifier };

/** How the unseal secret given compares with the stored verifier (decided by the application). */
export type UnsealSecretCheck = 'absent' | 'matches' | 'differs';

export type TenantSealCommand =
  | Readonly<{ type: 'SealTenant'; data: { tenant: string; reason: string; verifier?: SealVerifier }; meta: EventMeta }>
  | Readonly<{ type: 'UnsealTenant'; data: { tenant: string; reason: string; secret: UnsealSecretCheck }; meta: EventMeta }>;

export type TenantSealRejection =
  | { readonly code: 'TENANT_ALREADY_SEALED'; readonly tenant: string }
  | { readonly code: 'TENANT_NOT_SEALED'; readonly tenant: string }
  | { readonly code: 'UNSEAL_SECRET_REQUIRED'; readonly tenant: string }
  | { readonly code: 'UNSEAL_SECRET_INVALID'; readonly tenant: string };

export type TenantSealDecision = { ok: true; events: TenantSealEvent[] } | { ok: false; rejection: TenantSealRejection };

export const openTenant = (tenant: string): TenantSealState => ({ status: 'Open', tenant });

/** Total: an event is a fact. */
export function evolveTenantSeal(state: TenantSealState, event: TenantSealEvent, recordedAt = ''): TenantSealState {
  switch (event.type) {
    case 'TenantSealed':
      return { status: 'Sealed', tenant: state.tenant, sealedAt: recordedAt, ...(event.data.verifier ? { verifier: event.data.verifier } : {}) };
    case 'TenantUnsealed':
      return openTenant(state.tenant);
    default: {
      const never: never = event;
      throw new Error(`unknown tenant seal event ${JSON.stringify(never)}`);
    }
  }
}

export function foldTenantSeal(tenant: string, events: ReadonlyArray<{ event: TenantSealEvent; recordedAt?: string }>): TenantSealState {
  return events.reduce((s, e) => evolveTenantSeal(s, e.event, e.recordedAt), openTenant(tenant));
}

export function decideTenantSeal(cmd: TenantSealCommand, state: TenantSealState): TenantSealDecision {
  const { tenant } = cmd.data;
  switch (cmd.type) {
    case 'SealTenant': {
      if (state.status === 'Sealed') return { ok: false, rejection: { code: 'TENANT_ALREADY_SEALED', tenant } };
      const { verifier, reason } = cmd.data;
      return { ok: true, events: [{ type: 'TenantSealed', data: { tenant, reason, secretRequired: verifier !== undefined, ...(verifier ? { verifier } : {}) }, meta: cmd.meta }] };
    }
    case 'UnsealTenant': {
      if (state.status === 'Open') return { ok: false, rejection: { code: 'TENANT_NOT_SEALED', tenant } };
      if (state.verifier !== undefined) {
        if (cmd.data.secret === 'absent') return { ok: false, rejection: { code: 'UNSEAL_SECRET_REQUIRED', tenant } };
        if (cmd.data.secret !== 'matches') return { ok: false, rejection: { code: 'UNSEAL_SECRET_INVALID', tenant } };
      }
      return { ok: true, events: [{ type: 'TenantUnsealed', data: { tenant, reason: cmd.data.reason }, meta: cmd.meta }] };
    }
    default: {
      const never: never = cmd;
      throw new Error(`unknown tenant seal command ${JSON.stringify(never)}`);
    }
  }
}

export function describeTenantSealRejection(r: TenantSealRejection): string {
  switch (r.code) {
    case 'TENANT_ALREADY_SEALED': return `tenant ${r.tenant} is already sealed`;
    case 'TENANT_NOT_SEALED': return `tenant ${r.tenant} is not sealed`;
    case 'UNSEAL_SECRET_REQUIRED': return `tenant ${r.tenant} was sealed with an unseal secret; give it to unseal`;
    case 'UNSEAL_SECRET_INVALID': return `the unseal secret given for tenant ${r.tenant} does not match`;
    default: {
      const never: never = r;
      throw new Error(`unknown rejection ${JSON.stringify(never)}`);
    }
  }
}

/** The stream of a tenant's seal events in the keys event log. */
export const TENANT_STREAM_PREFIX = 'tenant-';
export const tenantStreamId = (tenant: string): string => `${TENANT_STREAM_PREFIX}${tenant}`;
