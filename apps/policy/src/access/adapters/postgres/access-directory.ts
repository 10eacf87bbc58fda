/**
 * ACCESS_DIRECTORY over the projection: the whole directory (principals and active policies) is loaded
 * into memory and swapped atomically; decisions never touch Postgres. Concurrent refreshes share one
 * load, and a refresh requested while one runs triggers exactly one more (so no change is missed).
 */
import type { Pool } from 'pg';
import { quoteIdent, serviceSchema } from '@ekm/event-store';
import { PolicySet, type Policy, type PolicyDocument } from '@ekm/policy-engine';
import type { AccessDirectory, AccessSnapshot, DirectoryPrincipal } from '../../application/access.ports';
import type { PolicyInfo, PolicyReader } from '../../application/policy-admin.use-cases';
import type { CredentialState, PrincipalKind } from '../../domain';

interface PrincipalRow { id: string; tenant: string; roles: string[]; kind: PrincipalKind; name: string; status: 'Active' | 'Revoked'; credentials: CredentialState[]; created_at: Date }
interface PolicyRow { id: string; tenant: string; version: number; document: PolicyDocument }

export class PgAccessDirectory implements AccessDirectory, PolicyReader {
  private snapshot: AccessSnapshot = { principals: new Map(), policies: PolicySet.empty, loadedAt: 0 };
  private inFlight: Promise<AccessSnapshot> | null = null;
  private again = false;
  private readonly s: string;

  constructor(private readonly pool: Pool, service = 'policy') {
    this.s = quoteIdent(serviceSchema(service));
  }

  current(): AccessSnapshot {
    return this.snapshot;
  }

  refresh(): Promise<AccessSnapshot> {
    if (this.inFlight !== null) {
      this.again = true;
      return this.inFlight.then(() => this.refresh());
    }
    this.inFlight = this.load().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async load(): Promise<AccessSnapshot> {
    this.again = false;
    const [principals, policies] = await Promise.all([
      this.pool.query<PrincipalRow>(`SELECT id, tenant, roles, kind, name, status, credentials, created_at FROM ${this.s}.principals`),
      this.pool.query<PolicyRow>(`SELECT id, tenant, version, document FROM ${this.s}.policies WHERE status = 'Active'`),
    ]);
    const map = new Map<string, DirectoryPrincipal>();
    for (const r of principals.rows) {
      map.set(r.id, { principalId: r.id, tenant: r.tenant, roles: r.roles, status: r.status, kind: r.kind, name: r.name, createdAt: r.created_at.toISOString(), credentials: r.credentials });
    }
    const set = PolicySet.of(policies.rows.map((r): Policy => ({ policyId: r.id, tenant: r.tenant, version: r.version, document: r.document })));
    this.snapshot = { principals: map, policies: set, loadedAt: Date.now() };
    return this.snapshot;
  }

  async get(policyId: string): Promise<PolicyInfo | null> {
    const { rows } = await this.pool.query<PolicyRow>(`SELECT id, tenant, version, document FROM ${this.s}.policies WHERE id = $1 AND status = 'Active'`, [policyId]);
    return rows.length === 0 ? null : toInfo(rows[0]);
  }

  async list(tenant?: string): Promise<PolicyInfo[]> {
    const { rows } = tenant === undefined
      ? await this.pool.query<PolicyRow>(`SELECT id, tenant, version, document FROM ${this.s}.policies WHERE status = 'Active' ORDER BY id`)
      : await this.pool.query<PolicyRow>(`SELECT id, tenant, version, document FROM ${this.s}.policies WHERE status = 'Active' AND tenant = $1 ORDER BY id`, [tenant]);
    return rows.map(toInfo);
  }
}

const toInfo = (r: PolicyRow): PolicyInfo => ({ policyId: r.id, tenant: r.tenant, version: r.version, document: r.document });
