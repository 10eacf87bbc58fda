/**
 * Replies of refused admin calls, recorded: FORBIDDEN, and another tenant's principal or policy answered
 * as "not found" (its existence is not revealed to the caller, but the trail says it was an attempt on
 * that tenant) become AccessDenied entries; genuine not-found, conflicts and rejections stay plain replies.
 */
import type { NatsContext } from '@nestjs/microservices';
import type { FailReply } from '@ekm/contracts';
import type { AccessRefusals } from '@ekm/service-kit';
import type { AdminFailure } from '../../application/principal-admin.use-cases';
import type { PolicyAdminFailure } from '../../application/policy-admin.use-cases';
import { failureReply } from './access.errors';

export function adminFailure(refusals: AccessRefusals, ctx: NatsContext, operation: string, tenant: string | undefined, f: AdminFailure | PolicyAdminFailure): FailReply {
  const reply = failureReply(f);
  if (f.kind === 'FORBIDDEN') return refusals.deny(ctx, operation, tenant, reply);
  if (f.kind === 'NOT_FOUND' && f.foreignTenant !== undefined) return refusals.deny(ctx, operation, f.foreignTenant, reply);
  return reply;
}
