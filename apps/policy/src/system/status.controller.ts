/** `ekm.v1.policy.status`: version, uptime and outbox relay state of this instance. */
import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ok, subject, type Reply } from '@ekm/contracts';
import { StatusService, type ServiceStatus } from '@ekm/service-kit';

@Controller()
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @MessagePattern(subject('policy', 'status'))
  async getStatus(): Promise<Reply<ServiceStatus>> {
    return ok(await this.status.read());
  }
}
