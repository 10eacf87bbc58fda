/**
 * ListKeys over the key projection: filters on tenant, status, one tag entry and alias, ordered by key
 * id, keyset-paginated. The cursor is opaque to callers (base64url of the last id of the page).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { PG_POOL } from '@ekm/service-kit';
import { InvalidCursorError } from '../../application/key-store.errors';

export { InvalidCursorError };

export interface KeyListFilter {
  readonly tenant?: string;
  readonly status?: string;
  readonly tag?: { readonly key: string; readonly value: string };
  readonly alias?: string;
  readonly limit: number;
  readonly cursor?: string;
}

const encodeCursor = (id: string): string => Buffer.from(`k1:${id}`, 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('k1:') || text.length < 4) throw new InvalidCursorError();
  return text.slice(3);
}

@Injectable()
export class KeyListQuery {
  private readonly s = quoteIdent(serviceSchema('keys'));

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** One page of key ids and the cursor of the next page (null on the last page). */
  async list(f: KeyListFilter): Promise<{ ids: string[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (f.tenant !== undefined) add((p) => `k.tenant = ${p}`, f.tenant);
    if (f.status !== undefined) add((p) => `k.status = ${p}`, f.status);
    if (f.tag !== undefined) add((p) => `k.tags @> ${p}::jsonb`, JSON.stringify({ [f.tag.key]: f.tag.value }));
    if (f.alias !== undefined) add((p) => `EXISTS (SELECT 1 FROM ${this.s}.aliases a WHERE a.key_id = k.id AND a.alias = ${p})`, f.alias);
    if (f.cursor !== undefined) add((p) => `k.id > ${p}`, decodeCursor(f.cursor));
    params.push(f.limit + 1);
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT k.id FROM ${this.s}.keys k ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY k.id LIMIT $${params.length}`,
      params,
    );
    const ids = rows.slice(0, f.limit).map((r) => r.id);
    return { ids, nextCursor: rows.length > f.limit ? encodeCursor(ids[ids.length - 1]) : null };
  }
}
