/**
 * The clock of the deletion window: the database's `now()`, the same clock the rotation scheduler
 * uses for due-ness. Outside production, `clock_offset` (writable only by the admin role, never by a
 * caller on the bus) shifts it so tests can let a window pass. A caller cannot pass a time of its own.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { KeysConfig } from '@ekm/config';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { PG_POOL, SERVICE_CONFIG } from '@ekm/service-kit';

@Injectable()
export class DbClock {
  private readonly sql: string;

  constructor(@Inject(PG_POOL) private readonly pool: Pool, @Inject(SERVICE_CONFIG) config: KeysConfig) {
    const s = quoteIdent(serviceSchema('keys'));
    this.sql = config.env === 'production'
      ? 'SELECT now() AS now'
      : `SELECT now() + make_interval(secs => coalesce((SELECT offset_ms FROM ${s}.clock_offset), 0) / 1000.0) AS now`;
  }

  async now(): Promise<string> {
    const { rows } = await this.pool.query<{ now: Date }>(this.sql);
    return rows[0]!.now.toISOString();
  }
}
