/** `ekm.v1.policy.{create,list,get,revoke}-principal`, `rotate-credential`, `revoke-credential`. */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, type NatsContext } from '@nestjs/microservices';
import {
  CreatePrincipalRequest, ListPrincipalsRequest, ok, parseRequest, PrincipalRefRequest, RevokeCredentialRequest, RevokePrincipalRequest, RotateCredentialRequest, subject,
  type PrincipalInfoReply, type PrincipalListReply, type PrincipalWithCredentialReply, type Reply,
} from '@ekm/contracts';
import type { ServiceConfig } from '@ekm/config';
import { ACCESS_REFUSALS, SERVICE_CONFIG, tenantNamedBy, type AccessRefusals } from '@ekm/service-kit';
import { withServiceKey } from '../runtime/service-identity';
import { ACCESS_DIRECTORY, type AccessDirectory } from '../../application/access.ports';
import { PrincipalAdmin } from '../../application/principal-admin.use-cases';
import { adminFailure } from './refusals';
import { callOf } from './caller';

@Controller()
export class PrincipalsController {
  constructor(
    private readonly admin: PrincipalAdmin,
    @Inject(ACCESS_DIRECTORY) private readonly directory: AccessDirectory,
    @Inject(ACCESS_REFUSALS) private readonly refusals: AccessRefusals,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  /** The reply carries the private key ONCE (the caller's inbox only; never logged, never stored). */
  @MessagePattern(subject('policy', 'create-principal'))
  async create(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<PrincipalWithCredentialReply>> {
    const req = parseRequest(CreatePrincipalRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'CreatePrincipal', tenantNamedBy(body), req);
    const call = callOf(ctx, this.directory);
    const r = await this.admin.create(call.caller, req.data, call.meta('CreatePrincipal'));
    return r.ok ? ok(withServiceKey(this.config, r.value)) : adminFailure(this.refusals, ctx, 'CreatePrincipal', req.data.tenant, r.failure);
  }

  @MessagePattern(subject('policy', 'list-principals'))
  list(@Payload() body: unknown, @Ctx() ctx: NatsContext): Reply<PrincipalListReply> {
    const req = parseRequest(ListPrincipalsRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'ListPrincipals', tenantNamedBy(body), req);
    const r = this.admin.list(callOf(ctx, this.directory).caller, req.data.tenant);
    return r.ok ? ok({ principals: r.value }) : adminFailure(this.refusals, ctx, 'ListPrincipals', req.data.tenant, r.failure);
  }

  @MessagePattern(subject('policy', 'get-principal'))
  get(@Payload() body: unknown, @Ctx() ctx: NatsContext): Reply<PrincipalInfoReply> {
    const req = parseRequest(PrincipalRefRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'GetPrincipal', tenantNamedBy(body), req);
    const r = this.admin.get(callOf(ctx, this.directory).caller, req.data.principalId);
    return r.ok ? ok(r.value) : adminFailure(this.refusals, ctx, 'GetPrincipal', undefined, r.failure);
  }

  @MessagePattern(subject('policy', 'revoke-principal'))
  async revoke(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<PrincipalInfoReply>> {
    const req = parseRequest(RevokePrincipalRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'RevokePrincipal', tenantNamedBy(body), req);
    const call = callOf(ctx, this.directory);
    const r = await this.admin.revoke(call.caller, req.data.principalId, req.data.reason, call.meta('RevokePrincipal'));
    return r.ok ? ok(r.value) : adminFailure(this.refusals, ctx, 'RevokePrincipal', undefined, r.failure);
  }

  /** Old and new credentials are both valid for `graceSeconds`; the new private key is in the reply, once. */
  @MessagePattern(subject('policy', 'rotate-credential'))
  async rotate(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<PrincipalWithCredentialReply>> {
    const req = parseRequest(RotateCredentialRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'RotateCredential', tenantNamedBy(body), req);
    const call = callOf(ctx, this.directory);
    const r = await this.admin.rotateCredential(call.caller, req.data.principalId, req.data.graceSeconds, call.meta('RotateCredential'));
    return r.ok ? ok(withServiceKey(this.config, r.value)) : adminFailure(this.refusals, ctx, 'RotateCredential', undefined, r.failure);
  }

  @MessagePattern(subject('policy', 'revoke-credential'))
  async revokeCredential(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<PrincipalInfoReply>> {
    const req = parseRequest(RevokeCredentialRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'RevokeCredential', tenantNamedBy(body), req);
    const call = callOf(ctx, this.directory);
    const r = await this.admin.revokeCredential(call.caller, req.data.principalId, req.data.credentialId, req.data.reason, call.meta('RevokeCredential'));
    return r.ok ? ok(r.value) : adminFailure(this.refusals, ctx, 'RevokeCredential', undefined, r.failure);
  }
}
