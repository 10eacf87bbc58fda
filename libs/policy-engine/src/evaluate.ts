/**
 * The policy evaluator: pure, deterministic, no clock (the request carries `now`).
 * Order of rules: the principal must be Active; tenant isolation (a principal of tenant A never acts
 * on a resource of tenant B, and must name its tenant, whatever the policies say; only operator scope
 * `*` crosses tenants); then an explicit deny wins over any allow; then the first allow; else default deny.
 */
import { globMatch } from '@ekm/contracts';
import {
  OPERATOR_SCOPE, type Condition, type Decision, type DecisionRequest, type Policy, type ResourceFacts, type Statement,
  type StatementOutcome, type TraceEntry, type TracedDecision,
} from './policy.types';

interface CompiledStatement {
  readonly policyId: string;
  readonly statement: Statement;
  readonly principals: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
}

/**
 * Policies compiled for evaluation: grouped by owning tenant, in a fixed order (policy id, then
 * statement order) so that the same set and request always give the same decision.
 */
export class PolicySet {
  private constructor(private readonly byTenant: ReadonlyMap<string, readonly CompiledStatement[]>, readonly size: number) {}

  static of(policies: readonly Policy[]): PolicySet {
    const sorted = [...policies].sort((a, b) => (a.policyId < b.policyId ? -1 : a.policyId > b.policyId ? 1 : 0));
    const byTenant = new Map<string, CompiledStatement[]>();
    for (const p of sorted) {
      const list = byTenant.get(p.tenant) ?? [];
      for (const s of p.document.statements) {
        list.push({ policyId: p.policyId, statement: s, principals: new Set(s.principals ?? []), roles: new Set(s.roles ?? []) });
      }
      byTenant.set(p.tenant, list);
    }
    return new PolicySet(byTenant, sorted.length);
  }

  static readonly empty = PolicySet.of([]);

  private readonly byAction = new Map<string, readonly CompiledStatement[]>();

  /**
   * Statements of `tenant`'s scope whose actions match `action`, memoized: actions are few (the keys
   * operations), so after warm-up a decision scans only statements that can apply, with no action globs.
   */
  statementsForAction(tenant: string, action: string): readonly CompiledStatement[] {
    const key = `${tenant}\u0000${action}`;
    let list = this.byAction.get(key);
    if (list === undefined) {
      list = this.statementsFor(tenant).filter((c) => c.statement.actions.some((a) => globMatch(a, action)));
      if (this.byAction.size > 100_000) this.byAction.clear();
      this.byAction.set(key, list);
    }
    return list;
  }

  /** Operator policies first, then the principal's tenant's (both already in policy-id order). */
  statementsFor(tenant: string): readonly CompiledStatement[] {
    const operator = this.byTenant.get(OPERATOR_SCOPE) ?? [];
    if (tenant === OPERATOR_SCOPE) return operator;
    const own = this.byTenant.get(tenant) ?? [];
    return operator.length === 0 ? own : own.length === 0 ? operator : [...operator, ...own];
  }
}

/** allow/deny with the deciding policy and statement and a reason that names only the caller's own facts. */
export function evaluate(set: PolicySet, req: DecisionRequest): Decision {
  const { trace: _trace, guard: _guard, ...decision } = run(set, req, null);
  return decision;
}

/** {@link evaluate} plus the trace of every statement considered (Simulate). */
export function simulate(set: PolicySet, req: DecisionRequest): TracedDecision {
  return run(set, req, []);
}

function run(set: PolicySet, req: DecisionRequest, trace: TraceEntry[] | null): TracedDecision {
  const p = req.principal;
  if (p.status !== 'Active') return { allowed: false, guard: 'principal-revoked', reason: `principal ${p.principalId} is revoked`, trace: trace ?? [] };
  if (p.tenant !== OPERATOR_SCOPE) {
    const t = req.resource.tenant;
    if (t === undefined) {
      return { allowed: false, guard: 'tenant-missing', reason: `${req.action} names no tenant; principals of tenant ${p.tenant} act only within it (pass tenant ${p.tenant})`, trace: trace ?? [] };
    }
    // Never name the resource's tenant: the caller must not learn where another tenant's key lives.
    if (t !== p.tenant) return { allowed: false, guard: 'tenant-isolation', reason: `${describe(req.resource, true)} is not in tenant ${p.tenant}`, trace: trace ?? [] };
  }
  let allow: CompiledStatement | undefined;
  let deny: CompiledStatement | undefined;
  // Without a trace only statements whose actions match are visited (memoized); the trace shows every statement.
  for (const c of trace === null ? set.statementsForAction(p.tenant, req.action) : set.statementsFor(p.tenant)) {
    // Without a trace, once a deny is found nothing can change the answer.
    if (deny !== undefined && trace === null) break;
    if (c.statement.effect === 'allow' && allow !== undefined && trace === null) continue;
    const outcome = match(c, req);
    trace?.push({ policyId: c.policyId, statementId: c.statement.sid, effect: c.statement.effect, outcome });
    if (outcome !== 'matched') continue;
    if (c.statement.effect === 'deny') deny ??= c;
    else allow ??= c;
  }
  const t = trace ?? [];
  if (deny !== undefined) return { allowed: false, policyId: deny.policyId, statementId: deny.statement.sid, reason: `denied by policy ${deny.policyId} statement ${deny.statement.sid}`, trace: t };
  if (allow !== undefined) return { allowed: true, policyId: allow.policyId, statementId: allow.statement.sid, reason: `allowed by policy ${allow.policyId} statement ${allow.statement.sid}`, trace: t };
  return { allowed: false, reason: `no statement allows ${req.action} on ${describe(req.resource, false)} for principal ${p.principalId}`, trace: t };
}

function match(c: CompiledStatement, req: DecisionRequest): StatementOutcome {
  const p = req.principal;
  const named = c.principals.has(p.principalId) || c.principals.has('*') || p.roles.some((r) => c.roles.has(r));
  if (!named) return 'principal';
  if (!c.statement.actions.some((a) => globMatch(a, req.action))) return 'action';
  if (!c.statement.resources.some((r) => matchesResource(r, req.resource))) return 'resource';
  const conditions = c.statement.conditions ?? [];
  for (let i = 0; i < conditions.length; i++) {
    if (!holds(conditions[i], req)) return `condition[${i}]`;
  }
  return 'matched';
}

const ALIAS = 'alias/';

function matchesResource(pattern: string, r: ResourceFacts): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith(ALIAS)) return (r.aliases ?? []).some((a) => globMatch(pattern, a.startsWith(ALIAS) ? a : `${ALIAS}${a}`));
  if (pattern.startsWith('tenant:')) return r.tenant !== undefined && r.tenant === pattern.slice('tenant:'.length);
  if (pattern.startsWith('tag:')) {
    const eq = pattern.indexOf('=');
    if (eq < 0) return false;
    const value = r.tags?.[pattern.slice(4, eq)];
    return value !== undefined && globMatch(pattern.slice(eq + 1), value);
  }
  return r.keyId !== undefined && globMatch(pattern, r.keyId);
}

function holds(c: Condition, req: DecisionRequest): boolean {
  const ctx = req.encryptionContext ?? {};
  const own = (k: string): string | undefined => (Object.prototype.hasOwnProperty.call(ctx, k) ? ctx[k] : undefined);
  switch (c.op) {
    case 'equals':
      return own(c.key) === c.value;
    case 'in': {
      const v = own(c.key);
      return v !== undefined && c.values.includes(v);
    }
    case 'glob': {
      const v = own(c.key);
      return v !== undefined && globMatch(c.pattern, v);
    }
    case 'present':
      return own(c.key) !== undefined;
    case 'before':
      return Date.parse(req.now) < Date.parse(c.time);
    case 'after':
      return Date.parse(req.now) > Date.parse(c.time);
  }
}

function describe(r: ResourceFacts, isolation: boolean): string {
  if (r.keyId !== undefined) return `key ${r.keyId}`;
  if (r.tenant !== undefined && !isolation) return `tenant ${r.tenant}`;
  return isolation ? 'the requested tenant' : 'this resource';
}
