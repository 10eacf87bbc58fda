/**
 * The tenant kill switch (`ekm.v1.keys.seal-tenant`, `unseal-tenant`, `get-tenant-seal-status`).
 * Authorized like every lifecycle call, on the resource `{ tenant }` (actions `keys:SealTenant`,
 * `keys:UnsealTenant`, `keys:GetTenantSealStatus`): operators, or a tenant admin of that tenant whom a
 * policy allows; the policy service's tenant isolation refuses a principal of another tenant whatever
 * the policy says. Recorded as usage (allowed or denied) and, when accepted, as TenantSealed /
 * TenantUnsealed in the keys event log, so both reach the audit trail.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  BusErrorCode, fail, ok, SealTenantRequest, subject, TenantSealStatusRequest, UnsealTenantRequest, type Reply,
} from '@ekm/contracts';
import { describeTenantSealRejection, type TenantSealRejection } from '../../domain/tenant-seal';
import { commandMeta } from '../../application/call-context';
import { TenantSealCommands, type TenantSealOutcome, type TenantSealStatus } from '../../application/tenants/tenant-seal.commands';
import { AdminCallRunner } from './admin-call.runner';

const REJECTION_CODE: Readonly<Record<TenantSealRejection['code'], BusErrorCode>> = {
  TENANT_ALREADY_SEALED: BusErrorCode.Conflict,
  TENANT_NOT_SEALED: BusErrorCode.Conflict,
  UNSEAL_SECRET_REQUIRED: BusErrorCode.UnsealSecretInvalid,
  UNSEAL_SECRET_INVALID: BusErrorCode.UnsealSecretInvalid,
};

const toReply = (o: TenantSealOutcome): Reply<TenantSealStatus> =>
  (o.ok ? ok(o.status) : fail(REJECTION_CODE[o.rejection.code], describeTenantSealRejection(o.rejection)));

@Controller()
export class TenantSealController {
  constructor(
    private readonly calls: AdminCallRunner,
    @Inject(TenantSealCommands) private readonly seals: TenantSealCommands,
  ) {}

  @MessagePattern(subject('keys', 'seal-tenant'))
  sealTenant(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<TenantSealStatus>> {
    return this.calls.run(body, ctx, {
      operation: 'SealTenant', schema: SealTenantRequest, resource: (r) => ({ tenant: r.tenant }), sealExempt: true,
      run: async (r, call) => toReply(await this.seals.seal(
        { tenant: r.tenant, reason: r.reason, ...(r.unsealSecret !== undefined ? { unsealSecret: r.unsealSecret } : {}) }, commandMeta(call, 'SealTenant'))),
    });
  }

  @MessagePattern(subject('keys', 'unseal-tenant'))
  unsealTenant(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<TenantSealStatus>> {
    return this.calls.run(body, ctx, {
      operation: 'UnsealTenant', schema: UnsealTenantRequest, resource: (r) => ({ tenant: r.tenant }), sealExempt: true,
      run: async (r, call) => toReply(await this.seals.unseal(
        { tenant: r.tenant, reason: r.reason, ...(r.unsealSecret !== undefined ? { unsealSecret: r.unsealSecret } : {}) }, commandMeta(call, 'UnsealTenant'))),
    });
  }

  @MessagePattern(subject('keys', 'get-tenant-seal-status'))
  getTenantSealStatus(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<TenantSealStatus>> {
    return this.calls.run(body, ctx, {
      operation: 'GetTenantSealStatus', schema: TenantSealStatusRequest, resource: (r) => ({ tenant: r.tenant }), sealExempt: true,
      run: async (r) => ok(await this.seals.status(r.tenant)),
    });
  }
}
