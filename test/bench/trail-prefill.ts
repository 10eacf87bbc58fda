/**
 * A trail of N entries already present, for the stack bench's "trail prefilled" rows: written by the
 * audit service's own TrailAppender (the same numbering, canonical entry, hash chain, query columns and
 * signed checkpoints every `checkpointEvery` entries as the service), with the service's own signing key
 * (AuditSigner.load under the audit service's root of trust). Nothing is faked: the prefilled chain is one
 * the service continues at its next start and `audit verify` accepts.
 *
 * The source events are usage batches (`KeyUsageBatchRecorded`, `recordsPerEvent` records each, as the
 * keys service's group commit writes them) on one source stream of their own, so the service's consumer
 * never sees them again. Big batches (`batchEntries` per transaction) keep it to one INSERT per batch.
 * Run with the audit service stopped (it keeps the trail head in memory; a second writer makes it reload,
 * which is allowed but is not what is measured).
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { SoftwareRootOfTrust } from '@ekm/crypto';
import { TrailAppender } from '../../apps/audit/src/trail/adapters/postgres/trail-appender';
import { AuditSigner } from '../../apps/audit/src/trail/adapters/signing/audit-signer';
import { USAGE_BATCH_EVENT, type SourceEvent } from '../../apps/audit/src/trail/domain/audit-entry';

export interface PrefillTrailOptions {
  /** URL of the database holding `ekm_audit` (its schema migrated, its signing key created). */
  readonly databaseUrl: string;
  /** The audit service's software root of trust (its EKM_DATA_DIR and EKM_ROOT_SECRET). */
  readonly dataDir: string;
  readonly rootSecret: string;
  readonly entries: number;
  /** As the service's EKM_AUDIT_CHECKPOINT_EVERY (default 1000). */
  readonly checkpointEvery?: number;
  /** Trail entries per transaction (default 20,000). */
  readonly batchEntries?: number;
  /** Records per source usage batch (default 500; the keys service writes at most 512). */
  readonly recordsPerEvent?: number;
  readonly onProgress?: (done: number) => void;
  /**
   * Mark the prefilled entries and checkpoints as published by the SIEM relay (default true), as on a
   * deployment whose trail was relayed long ago; else the service's relay starts by publishing them all.
   * Applied only when the relay had published everything before the prefill began.
   */
  readonly markRelayed?: boolean;
}

export interface PrefillTrailResult {
  readonly entries: number;
  readonly ms: number;
  /** Leaf index of the trail head afterwards. */
  readonly head: number;
  readonly sourceStream: string;
  /** Whether siem_relay was moved to the new head (see markRelayed). */
  readonly markedRelayed: boolean;
}

/** The usage records of one source batch event (what the keys service records per request). */
function usageBatch(stream: string, position: number, first: number, n: number, at: string): SourceEvent {
  const records = Array.from({ length: n }, (_, i) => {
    const p = first + i;
    return {
      requestId: randomUUID(), principal: 'service:bench-prefill', tenant: `t${p % 20}`, operation: p % 2 ? 'GenerateDataKey' : 'Decrypt',
      keyId: `k-${p % 5000}`, keyVersion: 1, encryptionContext: { tenant: `t${p % 20}`, collection: `c${p % 500}` }, outcome: 'ALLOWED', at,
    };
  });
  return {
    service: 'keys', eventId: randomUUID(), type: USAGE_BATCH_EVENT, streamId: stream, streamPosition: position, globalPosition: String(position),
    recordedAt: at, data: { records }, meta: { actor: 'service:bench-prefill' },
  };
}

export async function prefillTrail(o: PrefillTrailOptions): Promise<PrefillTrailResult> {
  const t0 = Date.now();
  const perEvent = o.recordsPerEvent ?? 500;
  const perTx = Math.max(perEvent, o.batchEntries ?? 20_000);
  const pool = new Pool({ connectionString: o.databaseUrl, max: 2, application_name: 'ekm-bench-trail-prefill' });
  const root = SoftwareRootOfTrust.open({ dataDir: o.dataDir, env: 'development', secret: o.rootSecret });
  const stream = `usage-prefill-${randomUUID()}`;
  let head = 0;
  let markedRelayed = false;
  try {
    const base = Number((await pool.query<{ n: string | null }>('SELECT max(leaf_index)::text AS n FROM ekm_audit.trail')).rows[0].n ?? 0);
    const signer = await AuditSigner.load(pool, root);
    // maxBatch: entries per transaction (the appender counts expanded records).
    const appender = new TrailAppender({ pool, signer, checkpointEvery: o.checkpointEvery ?? 1000, maxBatch: perTx });
    let position = 0;
    for (let done = 0; done < o.entries;) {
      const at = new Date().toISOString();
      const events: SourceEvent[] = [];
      for (let inTx = 0; inTx < perTx && done < o.entries;) {
        const n = Math.min(perEvent, o.entries - done, perTx - inTx);
        events.push(usageBatch(stream, ++position, done, n, at));
        done += n;
        inTx += n;
      }
      const outcomes = await appender.appendMany(events);
      if (outcomes.some((x) => x !== 'appended')) throw new Error(`trail prefill: ${outcomes.filter((x) => x !== 'appended').length} source events not appended`);
      o.onProgress?.(done);
    }
    head = (await appender.checkHead()).head;
    // The last entries past the last checkpoint: sign one at the head, as the service's timer would.
    await appender.checkpointIfBehind();
    if (o.markRelayed !== false) {
      const r = await pool.query(
        `UPDATE ekm_audit.siem_relay SET published_through = $1,
                checkpoints_through = (SELECT coalesce(max(tree_size), 0) FROM ekm_audit.checkpoints WHERE tree_size <= $1)
          WHERE id = 1 AND published_through >= $2`,
        [head, base],
      );
      markedRelayed = (r.rowCount ?? 0) > 0;
    }
  } finally {
    await root.close();
    await pool.end();
  }
  return { entries: o.entries, ms: Date.now() - t0, head, sourceStream: stream, markedRelayed };
}
