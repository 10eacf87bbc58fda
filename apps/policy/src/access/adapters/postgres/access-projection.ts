/**
 * Inline projection of principal and policy streams: each stream touched by the batch is folded with
 * the domain's own evolve (from its full history, read in the append transaction) and its row is
 * rewritten, so live and rebuilt rows are equal by construction.
 */
import { quoteIdent, serviceSchema, type Projection, type RecordedEvent, type TransactionContext } from '@ekm/event-store';
import { foldPolicy, foldPrincipal, type PolicyEvent, type PrincipalEvent } from '../../domain';

export const ACCESS_PROJECTION_NAME = 'access-projection';

interface EventRow { event_type: string; data: unknown; metadata: unknown }

export class AccessProjection implements Projection {
  readonly name = ACCESS_PROJECTION_NAME;
  private readonly s: string;

  constructor(service = 'policy') {
    this.s = quoteIdent(serviceSchema(service));
  }

  async reset(tx: TransactionContext): Promise<void> {
    await tx.query(`DELETE FROM ${this.s}.principals`);
    await tx.query(`DELETE FROM ${this.s}.policies`);
  }

  async apply(tx: TransactionContext, events: readonly RecordedEvent[]): Promise<void> {
    const last = new Map<string, number>();
    for (const e of events) last.set(e.streamId, Math.max(last.get(e.streamId) ?? 0, e.streamPosition));
    for (const [streamId, upTo] of last) {
      if (streamId.startsWith('principal-')) await this.writePrincipal(tx, streamId, upTo);
      else if (streamId.startsWith('policy-')) await this.writePolicy(tx, streamId, upTo);
    }
  }

  private async history<E>(tx: TransactionContext, streamId: string, upTo: number): Promise<E[]> {
    const rows = await tx.query<EventRow>(`SELECT event_type, data, metadata FROM ${this.s}.events WHERE stream_id = $1 AND stream_position <= $2 ORDER BY stream_position`, [streamId, upTo]);
    return rows.map((r) => ({ type: r.event_type, data: r.data, meta: r.metadata }) as E);
  }

  private async writePrincipal(tx: TransactionContext, streamId: string, upTo: number): Promise<void> {
    const p = foldPrincipal(await this.history<PrincipalEvent>(tx, streamId, upTo));
    if (p.status === 'Absent') return;
    const credentials = [...p.credentials.values()];
    await tx.query(
      `INSERT INTO ${this.s}.principals (id, tenant, roles, kind, name, status, credentials, created_at, stream_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET roles = EXCLUDED.roles, status = EXCLUDED.status, credentials = EXCLUDED.credentials, stream_version = EXCLUDED.stream_version`,
      [p.principalId, p.tenant, JSON.stringify(p.roles), p.kind, p.name, p.status, JSON.stringify(credentials), p.createdAt, upTo],
    );
  }

  private async writePolicy(tx: TransactionContext, streamId: string, upTo: number): Promise<void> {
    const p = foldPolicy(await this.history<PolicyEvent>(tx, streamId, upTo));
    if (p.status === 'Absent') return;
    await tx.query(
      `INSERT INTO ${this.s}.policies (id, tenant, version, status, document, stream_version) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status, document = EXCLUDED.document, stream_version = EXCLUDED.stream_version`,
      [p.policyId, p.tenant, p.version, p.status, p.document === null ? null : JSON.stringify(p.document), upTo],
    );
  }
}
