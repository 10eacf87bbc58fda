/**
 * `ekm.v1.rotation.*`: status (the service's own status plus the schedule report), rewrap-status and
 * check-version-retirement (the keys service asks it before disabling or destroying a version).
 */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { Pool } from 'pg';
import { z } from 'zod';
import { BusErrorCode, fail, ok, parseRequest, subject, type Reply } from '@ekm/contracts';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { PG_POOL, StatusService, type ServiceStatus } from '@ekm/service-kit';
import type { RewrapProgress } from '../../domain/schedule.rules';
import { RotationQueries, type AssetRow, type ScheduleStatus } from '../postgres/rotation.queries';

const keyId = z.string().min(1).max(300);
export const StatusRequest = z.strictObject({ limit: z.number().int().min(1).max(1000).default(50) });
export const RewrapStatusRequest = z.strictObject({ keyId, version: z.number().int().min(1).optional(), limit: z.number().int().min(1).max(1000).default(100) });
export const RetirementRequest = z.strictObject({ keyId, version: z.number().int().min(1).optional() });

export interface RotationStatus extends ServiceStatus {
  readonly schedule: ScheduleStatus;
}

export interface RewrapStatus extends RewrapProgress {
  /** With `version`: the assets still under it (first `limit`) and their total. */
  readonly version?: { readonly version: number; readonly total: number; readonly assets: readonly AssetRow[] };
}

/** `allowed` is false while any tracked asset's data key is still wrapped under the version(s). */
export interface RetirementCheck {
  readonly keyId: string;
  readonly version: number | null;
  readonly liveAssets: number;
  readonly allowed: boolean;
  readonly sample: readonly AssetRow[];
}

@Controller()
export class RotationController {
  private readonly queries: RotationQueries;

  constructor(private readonly status: StatusService, @Inject(PG_POOL) pool: Pool) {
    this.queries = new RotationQueries(pool, quoteIdent(serviceSchema('rotation')));
  }

  @MessagePattern(subject('rotation', 'status'))
  async getStatus(@Payload() body: unknown): Promise<Reply<RotationStatus>> {
    const req = parseRequest(StatusRequest, body);
    if (!req.ok) return req;
    return ok({ ...(await this.status.read()), schedule: await this.queries.status(req.data.limit) });
  }

  @MessagePattern(subject('rotation', 'rewrap-status'))
  async rewrapStatus(@Payload() body: unknown): Promise<Reply<RewrapStatus>> {
    const req = parseRequest(RewrapStatusRequest, body);
    if (!req.ok) return req;
    const { keyId: id, version, limit } = req.data;
    if (!(await this.queries.knows(id))) return fail(BusErrorCode.KeyNotFound, `key ${id} is not known to the rotation service (no event of it applied yet)`);
    const progress = await this.queries.progress(id);
    if (version === undefined) return ok(progress);
    return ok({ ...progress, version: { version, ...(await this.queries.assetsUnder(id, version, limit)) } });
  }

  /** Without `version`: every version of the key (DestroyKey). Unknown keys have no tracked assets. */
  @MessagePattern(subject('rotation', 'check-version-retirement'))
  async checkRetirement(@Payload() body: unknown): Promise<Reply<RetirementCheck>> {
    const req = parseRequest(RetirementRequest, body);
    if (!req.ok) return req;
    const { keyId: id, version } = req.data;
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
}
