/**
 * Keeps this replica's directory current: loads it before the service answers, reloads on every
 * relayed policy event (`ekm.events.policy.>`, core NATS, so other replicas' changes arrive within one
 * publish) and every `intervalMs` as a safety net for a message lost while disconnected.
 */
import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { LOGGER, NATS_CONNECTION } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { ACCESS_DIRECTORY, type AccessDirectory } from '../../application/access.ports';

export const POLICY_EVENTS_SUBJECT = 'ekm.events.policy.>';
const INTERVAL_MS = 5_000;

@Injectable()
export class DirectoryRefresher implements OnModuleInit, BeforeApplicationShutdown {
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(ACCESS_DIRECTORY) private readonly directory: AccessDirectory,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.directory.refresh();
    this.sub = this.nc.subscribe(POLICY_EVENTS_SUBJECT, { callback: (err) => (err ? this.logger.warn({ err: err.message }, 'policy event subscription error') : this.reload()) });
    this.timer = setInterval(() => this.reload(), INTERVAL_MS);
    this.timer.unref();
    await this.nc.flush();
  }

  private reload(): void {
    this.directory.refresh().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'directory reload failed; keeping the previous snapshot'));
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
    this.sub = null;
  }
}
