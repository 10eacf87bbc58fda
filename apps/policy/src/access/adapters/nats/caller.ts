/**
 * Who is calling, and the command meta of the call. The transport (@ekm/auth) authenticated the
 * request; for principals this directory knows, tenant, roles and status come from the directory (so a
 * revocation or role change applies at once, whatever the session claims); a known but revoked
 * principal gets no roles. Service principals (`service:<name>`, minted sessions) and, with
 * EKM_AUTH=disabled, `anonymous` or the development `Ekm-Principal` claim keep the transport's claims.
 */
import type { NatsContext } from '@nestjs/microservices';
import { TRACEPARENT_HEADER } from '@ekm/contracts';
import { principalOf, requestIdOf } from '@ekm/service-kit';
import type { AdminScope, CommandMeta } from '../../domain';
import type { AccessDirectory } from '../../application/access.ports';

export interface Call {
  readonly caller: AdminScope;
  readonly requestId: string;
  /** Command meta for `operation` (command id per operation, like the keys service). */
  meta(operation: string): CommandMeta;
}

export function callOf(nats: NatsContext, directory: AccessDirectory): Call {
  const h = nats.getHeaders() as { has(k: string): boolean; get(k: string): string } | undefined;
  const header = (name: string): string | undefined => (h?.has(name) ? h.get(name) || undefined : undefined);
  const requestId = requestIdOf(nats);
  const authenticated = principalOf(nats);
  const known = directory.current().principals.get(authenticated.principalId);
  const caller: AdminScope = known === undefined
    ? { principalId: authenticated.principalId, tenant: authenticated.tenant, roles: authenticated.roles }
    : { principalId: known.principalId, tenant: known.tenant, roles: known.status === 'Active' ? known.roles : [] };
  const traceparent = header(TRACEPARENT_HEADER);
  const now = new Date().toISOString();
  return {
    caller, requestId,
    meta: (operation) => ({ actor: caller.principalId, correlationId: requestId, commandId: `${operation}:${requestId}`, now, ...(traceparent !== undefined ? { traceparent } : {}) }),
  };
}
