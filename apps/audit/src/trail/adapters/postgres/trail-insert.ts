/**
 * The trail's insert: numbers and hashes a batch in memory on top of `head`, then writes it with one
 * statement (entry, hash and the query columns as array parameters). A member Postgres refuses (a data or integrity error the pre-check in quarantine.ts did
 * not foresee) never fails the batch: it is retried row by row, the refused row replaced by its
 * quarantined stand-in, or reported as a duplicate on a unique violation.
 */
import type { PoolClient } from 'pg';
import { canonicalJson, type Json } from '../../domain/canonical-json';
import type { SourceEvent } from '../../domain/audit-entry';
import { chainHash } from '../../application/hash-chain';
import { buildEntry, quarantineEntry } from '../../application/quarantine';
import { TRAIL_COLUMN_TYPES, TRAIL_COLUMNS, trailColumns, type TrailColumnValue } from './trail-columns';

const INSERT_COLUMNS = ['leaf_index', 'entry', 'hash', ...TRAIL_COLUMNS].join(', ');
const UNNEST = ['bigint', 'text', 'bytea', ...TRAIL_COLUMN_TYPES].map((t, n) => `$${n + 1}::${t}[]`).join(', ');
const VALUES = [...Array(3 + TRAIL_COLUMNS.length).keys()].map((n) => `$${n + 1}`).join(', ');

/** Errors caused by one row's values (data exception, integrity violation, program limit), not by the database being away. */
const isRowError = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
};

/**
 * Numbers, hashes and inserts `items` after `head` in one statement. If Postgres refuses it with a
 * data or integrity error (a value the pre-check missed), inserts row by row instead: a refused row
 * becomes its quarantined stand-in, a unique violation a duplicate, so no member fails the others.
 */
export async function insertChained(c: PoolClient, schema: string, head: { index: number; hash: Buffer }, items: readonly { e: SourceEvent; i?: number }[], outcomes: ('appended' | 'duplicate' | Error)[], now: Date):
Promise<{ idx: number[]; hashes: Buffer[]; texts: string[]; categories: string[]; quarantined: number; rowByRow: boolean }> {
  let prev = head.hash;
  let quarantined = 0;
  const idx: number[] = [];
  const texts: string[] = [];
  const categories: string[] = [];
  const hashes: Buffer[] = [];
  // Column-major: one array parameter per column, one statement for the whole batch.
  const cols: TrailColumnValue[][] = TRAIL_COLUMNS.map(() => []);
  items.forEach(({ e }, n) => {
    const b = buildEntry(e, head.index + n + 1, now);
    if (b.quarantined) quarantined++;
    prev = chainHash(prev, b.text);
    idx.push(head.index + n + 1);
    texts.push(b.text);
    categories.push(b.entry.category);
    hashes.push(prev);
    trailColumns(b.entry).forEach((v, k) => cols[k].push(v));
  });
  await c.query('SAVEPOINT trail_batch');
  try {
    await c.query(`INSERT INTO ${schema}.trail (${INSERT_COLUMNS}) SELECT * FROM unnest(${UNNEST})`, [idx, texts, hashes, ...cols]);
    await c.query('RELEASE SAVEPOINT trail_batch');
    return { idx, hashes, texts, categories, quarantined, rowByRow: false };
  } catch (err) {
    await c.query('ROLLBACK TO SAVEPOINT trail_batch');
    if (!isRowError(err)) throw err;
  }
  const out = { idx: [] as number[], hashes: [] as Buffer[], texts: [] as string[], categories: [] as string[], quarantined: 0, rowByRow: true };
  prev = head.hash;
  for (const { e, i } of items) {
    const leaf = head.index + out.idx.length + 1;
    let b = buildEntry(e, leaf, now);
    let h = chainHash(prev, b.text);
    await c.query('SAVEPOINT trail_row');
    try {
      await c.query(`INSERT INTO ${schema}.trail (${INSERT_COLUMNS}) VALUES (${VALUES})`, [leaf, b.text, h, ...trailColumns(b.entry)]);
      await c.query('RELEASE SAVEPOINT trail_row');
    } catch (err) {
      await c.query('ROLLBACK TO SAVEPOINT trail_row');
      if (!isRowError(err)) throw err;
      if ((err as { code?: string }).code === '23505') {
        // The trail already holds this source event or stream position.
        if (i !== undefined) outcomes[i] = 'duplicate';
        continue;
      }
      const q = quarantineEntry(e, leaf, `postgres refused the entry (SQLSTATE ${(err as { code?: string }).code ?? 'unknown'})`, now);
      b = { entry: q, text: canonicalJson(q as unknown as Json), quarantined: true };
      h = chainHash(prev, b.text);
      await c.query(`INSERT INTO ${schema}.trail (${INSERT_COLUMNS}) VALUES (${VALUES})`, [leaf, b.text, h, ...trailColumns(b.entry)]);
    }
    if (b.quarantined) out.quarantined++;
    prev = h;
    out.idx.push(leaf);
    out.hashes.push(h);
    out.texts.push(b.text);
    out.categories.push(b.entry.category);
  }
  return out;
}
