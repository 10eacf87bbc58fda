/**
 * Runs the EpochRoller on a timer (EKM_EPOCH_TICK_MS) on every replica; the advisory lock lets one
 * of them roll at a time. The first pass starts at bootstrap without delaying it, so a database from
 * before epochs gets its first epoch (and its rows re-wrapped) in the background.
 */
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { KeysConfig } from '@ekm/config';
import { LOGGER, SERVICE_CONFIG } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { EpochRoller, type RollReport } from '../../application/epochs/epoch-roller';

@Injectable()
export class EpochRollerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RollReport | null> | null = null;
  private stopped = false;
  /** The last completed pass (tests and `status` read it). */
  last: RollReport | null = null;

  constructor(
    @Inject(EpochRoller) private readonly roller: EpochRoller,
    @Inject(SERVICE_CONFIG) private readonly config: KeysConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Runs a pass now (after the one in flight, if any) and returns its report; null when another replica held the lock. */
  async passNow(): Promise<RollReport | null> {
    await this.running?.catch(() => undefined);
    return this.run();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.run().catch(() => undefined).finally(() => this.schedule(this.config.epochs.tickMs));
    }, delayMs);
    this.timer.unref();
  }

  private run(): Promise<RollReport | null> {
    const p = this.roller.tick().then(
      (report) => {
        if (report) this.last = report;
        return report;
      },
      (err: unknown) => {
        this.logger.warn({ err: err instanceof Error ? { name: err.name, message: err.message } : 'error' }, 'epoch roller pass failed; retrying on the next tick');
        throw err;
      },
    );
    this.running = p;
    return p;
  }
}
