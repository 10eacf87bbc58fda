/**
 * The one rule for reads and admin calls across services: a principal of tenant T sees and touches only
 * T; operator scope (`*`: operators, services) sees every tenant. Handlers confine a request with
 * {@link confineToTenant} and refuse what it rejects (EKM_FORBIDDEN, recorded as AccessDenied).
 */
import type { AuthenticatedPrincipal } from './auth.types';

/** The tenant of operator scope. */
export const OPERATOR_TENANT = '*';

/** True for operator scope (tenant `*`). */
export function isOperatorScope(caller: Pick<AuthenticatedPrincipal, 'tenant'>): boolean {
  return caller.tenant === OPERATOR_TENANT;
}

/**
 * `tenant`: the tenant the call is confined to (`undefined` = every tenant, operator scope only).
 * A tenant principal that names no tenant is confined to its own; naming another is refused.
 */
export type TenantScope = { readonly ok: true; readonly tenant: string | undefined } | { readonly ok: false; readonly message: string };

export function confineToTenant(caller: Pick<AuthenticatedPrincipal, 'tenant' | 'principalId'>, requested: string | undefined): TenantScope {
  if (isOperatorScope(caller)) return { ok: true, tenant: requested };
  if (requested === undefined || requested === caller.tenant) return { ok: true, tenant: caller.tenant };
  // Never echo the requested tenant: whether it exists is none of the caller's business.
  return { ok: false, message: `${caller.principalId} is confined to tenant ${caller.tenant}; it may not read or change another tenant` };
}
