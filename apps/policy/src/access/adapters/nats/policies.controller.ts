/** `ekm.v1.policy.{put,get,list,delete}-policy` and the decisions `decide` / `simulate`. */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, type NatsContext } from '@nestjs/microservices';
import {
  BusErrorCode, DecideRequest, fail, ListPoliciesRequest, ok, parseRequest, PolicyRefRequest, PutPolicyRequest, SimulateRequest, subject,
  type DecisionReply, type PolicyDeletedReply, type PolicyInfoReply, type PolicyListReply, type Reply, type SimulationReply,
} from '@ekm/contracts';
import { ACCESS_REFUSALS, tenantNamedBy, type AccessRefusals } from '@ekm/service-kit';
import { OPERATOR_SCOPE } from '@ekm/policy-engine';
import { canAdminister } from '../../domain';
import { ACCESS_DIRECTORY, type AccessDirectory } from '../../application/access.ports';
import { Decisions } from '../../application/decisions';
import { PolicyAdmin } from '../../application/policy-admin.use-cases';
import { adminFailure } from './refusals';
import { callOf } from './caller';

@Controller()
export class PoliciesController {
  constructor(
    private readonly admin: PolicyAdmin,
    private readonly decisions: Decisions,
    @Inject(ACCESS_DIRECTORY) private readonly directory: AccessDirectory,
    @Inject(ACCESS_REFUSALS) private readonly refusals: AccessRefusals,
  ) {}

  /** Validates the document (EKM_VALIDATION names the path, nothing appended) and appends a new version. */
  @MessagePattern(subject('policy', 'put-policy'))
  async put(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<PolicyInfoReply>> {
    const req = parseRequest(PutPolicyRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'PutPolicy', tenantNamedBy(body), req);
    const call = callOf(ctx, this.directory);
    const r = await this.admin.put(call.caller, req.data, call.meta('PutPolicy'));
    return r.ok ? ok(r.value) : adminFailure(this.refusals, ctx, 'PutPolicy', req.data.tenant, r.failure);
  }

  @MessagePattern(subject('policy', 'get-policy'))
  async get(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<PolicyInfoReply>> {
    const req = parseRequest(PolicyRefRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'GetPolicy', tenantNamedBy(body), req);
    const r = await this.admin.get(callOf(ctx, this.directory).caller, req.data.policyId);
    return r.ok ? ok(r.value) : adminFailure(this.refusals, ctx, 'GetPolicy', undefined, r.failure);
  }

  @MessagePattern(subject('policy', 'list-policies'))
  async list(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<PolicyListReply>> {
    const req = parseRequest(ListPoliciesRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'ListPolicies', tenantNamedBy(body), req);
    const r = await this.admin.list(callOf(ctx, this.directory).caller, req.data.tenant);
    return r.ok ? ok({ policies: r.value }) : adminFailure(this.refusals, ctx, 'ListPolicies', req.data.tenant, r.failure);
  }

  @MessagePattern(subject('policy', 'delete-policy'))
  async delete(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<PolicyDeletedReply>> {
    const req = parseRequest(PolicyRefRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'DeletePolicy', tenantNamedBy(body), req);
    const call = callOf(ctx, this.directory);
    const r = await this.admin.delete(call.caller, req.data.policyId, call.meta('DeletePolicy'));
    return r.ok ? ok(r.value) : adminFailure(this.refusals, ctx, 'DeletePolicy', undefined, r.failure);
  }

  /**
   * Asked by services (operator scope) before acting, or by a principal about itself. Answers from
   * this replica's in-memory snapshot; a denial is a normal reply (`allowed: false`), not an error.
   */
  @MessagePattern(subject('policy', 'decide'))
  decide(@Payload() body: unknown, @Ctx() ctx: NatsContext): Reply<DecisionReply> {
    const req = parseRequest(DecideRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'Decide', tenantNamedBy(body), req);
    const { caller } = callOf(ctx, this.directory);
    if (caller.tenant !== OPERATOR_SCOPE && caller.principalId !== req.data.principalId) {
      return this.refusals.deny(ctx, 'Decide', req.data.resource.tenant,
        fail(BusErrorCode.Forbidden, `${caller.principalId} may ask decisions only about itself; services with operator scope ask for others`));
    }
    return ok(this.decisions.decide(req.data));
  }

  /** Operators (and tenant admins, about their tenant's principals): the decision plus the trace. */
  @MessagePattern(subject('policy', 'simulate'))
  simulate(@Payload() body: unknown, @Ctx() ctx: NatsContext): Reply<SimulationReply> {
    const req = parseRequest(SimulateRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'Simulate', tenantNamedBy(body), req);
    const { caller } = callOf(ctx, this.directory);
    const target = this.directory.current().principals.get(req.data.principalId);
    if (!canAdminister(caller, target?.tenant ?? OPERATOR_SCOPE)) {
      return this.refusals.deny(ctx, 'Simulate', target?.tenant,
        fail(BusErrorCode.Forbidden, `${caller.principalId} may not simulate decisions of ${req.data.principalId}: needs role admin in its tenant (or operator scope)`));
    }
    return ok(this.decisions.simulate(req.data));
  }
}
