/**
 * `ekm.v1.audit.status`: version, uptime and outbox relay state of this instance, plus the trail's
 * health (quarantined entries, lag and age of the oldest unappended record, signer trust) that
 * `ekm health` shows.
 */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ok, subject, type AuditStatusReply, type Reply } from '@ekm/contracts';
import { StatusService, type ServiceStatus } from '@ekm/service-kit';
import { TRAIL_RUNTIME, type TrailRuntime } from '../trail/adapters/trail-runtime';

@Controller()
export class StatusController {
  constructor(
    private readonly status: StatusService,
    @Inject(TRAIL_RUNTIME) private readonly rt: TrailRuntime,
  ) {}

  @MessagePattern(subject('audit', 'status'))
  async getStatus(): Promise<Reply<ServiceStatus & { trail: AuditStatusReply['trail'] }>> {
    const base = await this.status.read();
    // The contract's trail shape: a field TrailHealth lacks or types differently fails the typecheck; an extra one fails test/e2e/bus-contract.e2e.spec.ts.
    let trail: AuditStatusReply['trail'];
    try {
      trail = await this.rt.health();
    } catch {
      trail = { error: 'trail health unavailable (Postgres unreachable)' };
    }
    return ok({ ...base, trail });
  }
}
