/** Dead letters go to the consuming service's own schema, beside the data its handler writes. */
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema } from '../postgres/service-schema';

export interface DeadLetter {
  readonly consumer: string;
  readonly subject: string;
  readonly streamSeq: number;
  /** `Nats-Msg-Id` when it is a UUID (relayed events), else null. */
  readonly eventId: string | null;
  readonly error: string;
  /** Parsed body, or the raw text (truncated) when it was not JSON. */
  readonly payload: unknown;
}

const MAX_ERROR = 2_000;
const MAX_RAW = 64 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const asEventId = (msgId: string | undefined): string | null => (msgId && UUID.test(msgId) ? msgId : null);
export const truncateRaw = (text: string): string => (text.length > MAX_RAW ? `${text.slice(0, MAX_RAW)}…[truncated]` : text);

/**
 * Inserts once per (consumer, stream_seq): a redelivery after a lost term() does not add a second row.
 * Returns false when the row already existed.
 */
export async function recordDeadLetter(pool: Pool, service: string, d: DeadLetter): Promise<boolean> {
  const s = quoteIdent(serviceSchema(service));
  const res = await pool.query(
    `INSERT INTO ${s}.dead_letters (consumer, subject, stream_seq, event_id, error, payload)
     SELECT $1, $2, $3, $4::uuid, $5, $6::jsonb
      WHERE NOT EXISTS (SELECT 1 FROM ${s}.dead_letters WHERE consumer = $1 AND stream_seq = $3)`,
    [d.consumer, d.subject, d.streamSeq, d.eventId, d.error.slice(0, MAX_ERROR), JSON.stringify(d.payload ?? null)],
  );
  return res.rowCount === 1;
}
