/**
 * The tenant kill switch as a decider (Emmett): a tenant is Open or Sealed; SealTenant and UnsealTenant
 * move it. The events live in the keys event log (stream `tenant-<tenant>`), so they are relayed and
 * reach the audit trail like every lifecycle event. They say only WHETHER an unseal secret is required:
 * its verifier lives outside the log (events are published on the bus and copied into the trail). No
 * I/O here: whether a secret matches is computed by the application and handed in as a fact.
 */
import type { Event, EventMeta } from '@ekm/event-store';

export type TenantSealEvent =
  | Event<'TenantSealed', { tenant: string; reason: string; secretRequired: boolean }>
  | Event<'TenantUnsealed', { tenant: string; reason: string }>;

/** Every seal event type; subscribers name them one by one (the server filters). */
export const TENANT_SEAL_EVENT_TYPES = ['TenantSealed', 'TenantUnsealed'] as const satisfies readonly TenantSealEvent['type'][];

export type TenantSealState =
  | { readonly status: 'Open'; readonly tenant: string }
  /** `sealPosition`: the stream position of the TenantSealed event (the verifier is stored under it). */
  | { readonly status: 'Sealed'; readonly tenant: string; readonly sealedAt: string; readonly secretRequired: boolean; readonly sealPosition: number };

/** How the unseal secret given compares with the stored verifier (decided by the application). */
export type UnsealSecretCheck = 'absent' | 'matches' | 'differs';

export type TenantSealCommand =
  | Readonly<{ type: 'SealTenant'; data: { tenant: string; reason: string; secretRequired: boolean }; meta: EventMeta }>
  | Readonly<{ type: 'UnsealTenant'; data: { tenant: string; reason: string; secret: UnsealSecretCheck }; meta: EventMeta }>;

export type TenantSealRejection =
  | { readonly code: 'TENANT_ALREADY_SEALED'; readonly tenant: string }
  | { readonly code: 'TENANT_NOT_SEALED'; readonly tenant: string }
  | { readonly code: 'UNSEAL_SECRET_REQUIRED'; readonly tenant: string }
  | { readonly code: 'UNSEAL_SECRET_INVALID'; readonly tenant: string };

export type TenantSealDecision = { ok: true; events: TenantSealEvent[] } | { ok: false; rejection: TenantSealRejection };

export const openTenant = (tenant: string): TenantSealState => ({ status: 'Open', tenant });

/** Total: an event is a fact. */
export function evolveTenantSeal(state: TenantSealState, event: TenantSealEvent, recordedAt = '', position = 0): TenantSealState {
  switch (event.type) {
    case 'TenantSealed':
      // `secretRequired` is read strictly: only `false` opens without a secret (a damaged event stays locked).
      return { status: 'Sealed', tenant: state.tenant, sealedAt: recordedAt, secretRequired: event.data.secretRequired !== false, sealPosition: position };
    case 'TenantUnsealed':
      return openTenant(state.tenant);
    default: {
      const never: never = event;
      throw new Error(`unknown tenant seal event ${JSON.stringify(never)}`);
    }
  }
}

export function foldTenantSeal(tenant: string, events: ReadonlyArray<{ event: TenantSealEvent; recordedAt?: string; position?: number }>): TenantSealState {
  return events.reduce((s, e, i) => evolveTenantSeal(s, e.event, e.recordedAt, e.position ?? i + 1), openTenant(tenant));
}

export function decideTenantSeal(cmd: TenantSealCommand, state: TenantSealState): TenantSealDecision {
  const { tenant } = cmd.data;
  switch (cmd.type) {
    case 'SealTenant': {
      if (state.status === 'Sealed') return { ok: false, rejection: { code: 'TENANT_ALREADY_SEALED', tenant } };
      const { secretRequired, reason } = cmd.data;
      return { ok: true, events: [{ type: 'TenantSealed', data: { tenant, reason, secretRequired }, meta: cmd.meta }] };
    }
    case 'UnsealTenant': {
      if (state.status === 'Open') return { ok: false, rejection: { code: 'TENANT_NOT_SEALED', tenant } };
      if (state.secretRequired) {
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
