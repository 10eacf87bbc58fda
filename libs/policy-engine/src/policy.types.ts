/**
 * The plain data the evaluator works on: policy documents, the principal asking, the resource and
 * the request. No I/O; the policy service and the keys authorizer both evaluate with these types.
 */

/** Operator scope: a principal (or policy) with this tenant is not bound to one tenant. */
export const OPERATOR_SCOPE = '*';

/** A condition on the request's encryption context or on the request time. All of a statement's conditions must hold. */
export type Condition =
  | { readonly op: 'equals'; readonly key: string; readonly value: string }
  | { readonly op: 'in'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'glob'; readonly key: string; readonly pattern: string }
  | { readonly op: 'present'; readonly key: string }
  | { readonly op: 'before'; readonly time: string }
  | { readonly op: 'after'; readonly time: string };

export type Effect = 'allow' | 'deny';

/**
 * One statement. It applies to a request when the principal is named (id or `*`) or holds one of
 * `roles`, the action matches one of `actions` (globs: `keys:Generate*`, `keys:*`), the resource
 * matches one of `resources` and every condition holds.
 *
 * Resource patterns: `*`; `alias/<glob>` (any alias of the key); `tenant:<tenant>`; `tag:<key>=<glob>`;
 * anything else is a key id (glob allowed).
 */
export interface Statement {
  readonly sid: string;
  readonly effect: Effect;
  readonly principals?: readonly string[];
  readonly roles?: readonly string[];
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: readonly Condition[];
}

/** A policy document as put by an administrator (validated by `PolicyDocumentSchema`). */
export interface PolicyDocument {
  readonly description?: string;
  readonly statements: readonly Statement[];
}

/** A stored policy: the document plus who owns it. Statements of a tenant policy apply only to that tenant's principals. */
export interface Policy {
  readonly policyId: string;
  /** Owning tenant, or `*` (operator policy: applies to every tenant's principals). */
  readonly tenant: string;
  readonly version: number;
  readonly document: PolicyDocument;
}

export type PrincipalStatus = 'Active' | 'Revoked';

/** Who asks. `tenant` is `*` for operator-scope principals. */
export interface PrincipalFacts {
  readonly principalId: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly status: PrincipalStatus;
}

/** What is acted on. A CreateKey/ListKeys request has no key id, only a tenant (or nothing). */
export interface ResourceFacts {
  readonly keyId?: string;
  readonly tenant?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly aliases?: readonly string[];
}

export interface DecisionRequest {
  readonly principal: PrincipalFacts;
  /** `keys:<Operation>` in PascalCase, e.g. `keys:GenerateDataKey`. */
  readonly action: string;
  readonly resource: ResourceFacts;
  readonly encryptionContext?: Readonly<Record<string, string>>;
  /** ISO-8601 evaluation time (time conditions); the caller reads the clock, the evaluator never does. */
  readonly now: string;
}

/** Why a statement did or did not apply, for Simulate. */
export type StatementOutcome = 'matched' | 'principal' | 'action' | 'resource' | `condition[${number}]`;

export interface TraceEntry {
  readonly policyId: string;
  readonly statementId: string;
  readonly effect: Effect;
  /** `matched`, or the first part that did not match. */
  readonly outcome: StatementOutcome;
}

export interface Decision {
  readonly allowed: boolean;
  /** The deciding policy and statement; absent for default deny and built-in guards. */
  readonly policyId?: string;
  readonly statementId?: string;
  readonly reason: string;
}

export interface TracedDecision extends Decision {
  /** The built-in guard that decided (principal status, tenant isolation), when one did. */
  readonly guard?: 'principal-revoked' | 'tenant-isolation' | 'tenant-missing';
  readonly trace: readonly TraceEntry[];
}
