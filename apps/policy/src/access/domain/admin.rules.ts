/**
 * Who may administer: a principal with role `admin`, within its own tenant; operator scope (`*`)
 * administers every tenant. Built in, not policy-driven, so a policy edit cannot lock every
 * administrator out or let a tenant admin reach another tenant.
 */
import { OPERATOR_SCOPE } from '@ekm/policy-engine';

export const ADMIN_ROLE = 'admin';

export interface AdminScope {
  readonly principalId: string;
  readonly tenant: string;
  readonly roles: readonly string[];
}

/** May `caller` administer principals and policies of `tenant` (`*` = operator-level objects)? */
export function canAdminister(caller: AdminScope, tenant: string): boolean {
  if (!caller.roles.includes(ADMIN_ROLE)) return false;
  return caller.tenant === OPERATOR_SCOPE || caller.tenant === tenant;
}
