/**
 * Data of the `ekm.v1.<service>.status` reply: version, uptime, and the outbox relay's state.
 * Safe to expose: ids, counters and times only.
 */
import { Inject, Injectable, Optional } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import type { ServiceConfig } from '@ekm/config';
import type { OutboxRelay, RelayStatus } from '@ekm/event-store';
import { OUTBOX_RELAY, SERVICE_CONFIG } from './tokens';

/** The `status` reply data. */
export interface ServiceStatus {
  readonly service: string;
  /** Version of the `ekm` package. */
  readonly version: string;
  readonly instance: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  /** `null` for a service without an event log; `{ error }` when Postgres cannot be read. */
  readonly relay: RelayStatus | { readonly error: string } | null;
}

const startedAt = new Date();

/** The version field of the nearest package.json named "ekm" above this file (src or dist). */
export function ekmVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ekm' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return '0.0.0-unknown';
}

@Injectable()
export class StatusService {
  private readonly version = ekmVersion();
  private readonly instance = `${hostname()}:${process.pid}`;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Optional() @Inject(OUTBOX_RELAY) private readonly relay?: OutboxRelay,
  ) {}

  async read(): Promise<ServiceStatus> {
    let relay: ServiceStatus['relay'] = null;
    if (this.relay) {
      try {
        relay = await this.relay.status();
      } catch {
        relay = { error: 'relay status unavailable (Postgres unreachable)' };
      }
    }
    return {
      service: this.config.service,
      version: this.version,
      instance: this.instance,
      startedAt: startedAt.toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      relay,
    };
  }
}
