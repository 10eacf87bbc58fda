/**
 * One active relay per schema: a session advisory lock on a dedicated connection (released by
 * Postgres when the process or connection dies) plus the lease row's holder and fencing counter.
 * The same connection LISTENs for the schema's append notifications.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { eventsNotifyChannel, quoteIdent, serviceSchema } from '../postgres/service-schema';

export const defaultHolderId = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

// Two-int advisory key: a fixed class for "outbox relay", the schema's hash as object id.
const LOCK_SQL = `SELECT pg_try_advisory_lock(hashtext('ekm_outbox_relay'), hashtext($1)) AS ok`;
const UNLOCK_SQL = `SELECT pg_advisory_unlock(hashtext('ekm_outbox_relay'), hashtext($1))`;

export class RelayLease {
  private lostReason: string | null = null;

  private constructor(
    private readonly client: PoolClient,
    private readonly schema: string,
    readonly fencing: string,
  ) {}

  /** Null when another holder has it. */
  static async tryAcquire(pool: Pool, service: string, holder: string, onNotify: () => void): Promise<RelayLease | null> {
    const schema = serviceSchema(service);
    const client = await pool.connect();
    let lease: RelayLease | null = null;
    // Without a listener a checked-out client's socket error would crash the process.
    client.on('error', (err) => lease?.markLost(`lease connection failed: ${err.message}`));
    try {
      const { rows } = await client.query<{ ok: boolean }>(LOCK_SQL, [schema]);
      if (!rows[0]?.ok) {
        client.release();
        return null;
      }
      const res = await client.query<{ fencing: string }>(
        `UPDATE ${quoteIdent(schema)}.outbox_relay
            SET holder = $1, fencing = fencing + 1, lease_acquired_at = now(), heartbeat_at = now()
          WHERE name = 'outbox' RETURNING fencing::text AS fencing`,
        [holder],
      );
      if (res.rowCount !== 1) throw new Error(`${schema}.outbox_relay has no 'outbox' row: run the relay migration`);
      lease = new RelayLease(client, schema, res.rows[0].fencing);
      client.on('notification', () => onNotify());
      client.on('end', () => lease?.markLost('lease connection ended'));
      await client.query(`LISTEN ${quoteIdent(eventsNotifyChannel(service))}`);
      return lease;
    } catch (err) {
      client.release(err as Error); // destroys the connection, and with it any lock taken
      throw err;
    }
  }

  get isLost(): boolean {
    return this.lostReason !== null;
  }

  get reason(): string | null {
    return this.lostReason;
  }

  markLost(reason: string): void {
    this.lostReason ??= reason;
  }

  /** Proves the lock's connection is alive and the row still names us. */
  async heartbeat(): Promise<void> {
    if (this.isLost) return;
    try {
      const res = await this.client.query(
        `UPDATE ${quoteIdent(this.schema)}.outbox_relay SET heartbeat_at = now() WHERE name = 'outbox' AND fencing = $1`,
        [this.fencing],
      );
      if (res.rowCount !== 1) this.markLost('fenced: another relay took the lease');
    } catch (err) {
      this.markLost(`heartbeat failed: ${(err as Error).message}`);
    }
  }

  async release(): Promise<void> {
    try {
      if (!this.isLost) {
        await this.client.query('UNLISTEN *');
        await this.client.query(UNLOCK_SQL, [this.schema]);
        this.client.release();
        return;
      }
    } catch {
      // fall through: destroying the connection releases the lock server-side
    }
    this.markLost('released');
    this.client.release(true);
  }
}
