/**
 * `ekm.v1.audit.status`: version, uptime and outbox relay state of this instance, plus the trail's
 * health (quarantined entries, lag and age of the oldest unappended record, signer trust) that
 * `ekm health` shows.
 */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ok, subject, type Reply } from '@ekm/contracts';
import { StatusService, type ServiceStatus } from '@ekm/service-kit';
import { TRAIL_RUNTIME, type TrailRuntime } from '../trail/adapters/trail-runtime';
import type { TrailHealth } from '../trail/adapters/trail-health';

@Controller()
export class StatusController {
  constructor(
    private readonly status: StatusService,
    @Inject(TRAIL_RUNTIME) private readonly rt: TrailRuntime,
  ) {}

  @MessagePattern(subject('audit', 'status'))
  async getStatus(): Promise<Reply<ServiceStatus & { trail: TrailHealth | { error: string } }>> {
    const base = await this.status.read();
    let trail: TrailHealth | { error: string };
    try {
      trail = await this.rt.health();
    } catch {
      trail = { error: 'trail health unavailable (Postgres unreachable)' };
    }
    return ok({ ...base, trail });
  }
}
