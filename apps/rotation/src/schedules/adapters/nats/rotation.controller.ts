/**
 * `ekm.v1.rotation.*`: status (the service's own status plus the schedule report), rewrap-status and
 * check-version-retirement (the keys service asks it before disabling or destroying a version).
 * Tenant isolation: a tenant principal's status lists only its tenant's keys; rewrap-status and
 * check-version-retirement of another tenant's key are EKM_FORBIDDEN (before anything about the key is
 * read) and recorded as AccessDenied; operator scope (operators, the keys service) sees every tenant.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import type { Pool } from 'pg';
import { confineToTenant, isOperatorScope } from '@ekm/auth';
import {
  BusErrorCode, fail, ok, parseRequest, RetirementCheckRequest, RewrapStatusRequest, RotationStatusRequest, subject,
  type FailReply, type Reply, type RetirementCheckReply, type RewrapStatusReply,
} from '@ekm/contracts';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { ACCESS_REFUSALS, PG_POOL, principalOf, StatusService, type AccessRefusals, type ServiceStatus } from '@ekm/service-kit';
import { RotationQueries, type AssetRow, type ScheduleStatus } from '../postgres/rotation.queries';

@Controller()
export class RotationController {
  private readonly queries: RotationQueries;

  constructor(private readonly status: StatusService, @Inject(PG_POOL) pool: Pool, @Inject(ACCESS_REFUSALS) private readonly refusals: AccessRefusals) {
    this.queries = new RotationQueries(pool, quoteIdent(serviceSchema('rotation')));
  }

  /** Not typed with its reply contract: the relay status is an interface, which zod's open record cannot be assigned from. */
  @MessagePattern(subject('rotation', 'status'))
  async getStatus(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<ServiceStatus & { readonly schedule: ScheduleStatus }>> {
    const req = parseRequest(RotationStatusRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'RotationStatus', undefined, req);
    const scope = confineToTenant(principalOf(ctx), undefined);
    const tenant = scope.ok ? scope.tenant : undefined;
    return ok({ ...(await this.status.read()), schedule: await this.queries.status(req.data.limit, tenant) });
  }

  @MessagePattern(subject('rotation', 'rewrap-status'))
  async rewrapStatus(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<RewrapStatusReply>> {
    const req = parseRequest(RewrapStatusRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'RewrapStatus', undefined, req);
    const { keyId: id, version, limit } = req.data;
    const refused = await this.foreignKey(ctx, 'RewrapStatus', id);
    if (refused) return refused;
    if (!(await this.queries.knows(id))) return fail(BusErrorCode.KeyNotFound, `key ${id} is not known to the rotation service (no event of it applied yet)`);
    const progress = await this.queries.progress(id);
    if (version === undefined) return ok(progress);
    return ok({ ...progress, version: { version, ...(await this.queries.assetsUnder(id, version, limit)) } });
  }

  /** Without `version`: every version of the key (DestroyKey). Unknown keys have no tracked assets. */
  @MessagePattern(subject('rotation', 'check-version-retirement'))
  async checkRetirement(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<RetirementCheckReply>> {
    const req = parseRequest(RetirementCheckRequest, body);
    if (!req.ok) return this.refusals.deny(ctx, 'CheckVersionRetirement', undefined, req);
    const { keyId: id, version } = req.data;
    const refused = await this.foreignKey(ctx, 'CheckVersionRetirement', id);
    if (refused) return refused;
    const versions = version !== undefined ? [version] : (await this.queries.progress(id)).byVersion.map((v) => v.version);
    let live = 0;
    const sample: AssetRow[] = [];
    for (const v of versions) {
      const r = await this.queries.assetsUnder(id, v, 5);
      live += r.total;
      sample.push(...r.assets.slice(0, 5 - sample.length));
    }
    return ok({ keyId: id, version: version ?? null, liveAssets: live, allowed: live === 0, sample });
  }

  /** The recorded refusal when a tenant principal names a key of another tenant; null otherwise. */
  private async foreignKey(ctx: NatsContext, operation: string, keyId: string): Promise<FailReply | null> {
    const caller = principalOf(ctx);
    if (isOperatorScope(caller)) return null;
    const owner = await this.queries.tenantOf(keyId);
    if (owner === undefined || owner === caller.tenant) return null;
    return this.refusals.deny(ctx, operation, owner ?? undefined, fail(BusErrorCode.Forbidden, `${caller.principalId} is confined to tenant ${caller.tenant}; key ${keyId} is not in it`));
  }
}
