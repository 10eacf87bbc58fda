/**
 * Request subjects on the bus: `ekm.v1.<service>.<operation>` (docs/development.md, "Shared names").
 * The operation tables below are the single list of what each service answers; a change that
 * adds an operation adds it here first, so clients and responders cannot drift apart.
 */

/** The four EKM services. Each owns the Postgres schema `ekm_<service>` and queue group `ekm-<service>`. */
export const SERVICES = ['keys', 'policy', 'rotation', 'audit'] as const;

/** Name of an EKM service. */
export type ServiceName = (typeof SERVICES)[number];

/**
 * Operations answered by the keys service, kebab-case. `status` is answered by
 * every service.
 */
export const KEYS_OPERATIONS = [
  'status',
  'create-key',
  'describe-key',
  'list-keys',
  'list-key-versions',
  'create-alias',
  'delete-alias',
  'tag-key',
  'untag-key',
  'update-key-description',
  'generate-data-key',
  'generate-data-key-without-plaintext',
  'encrypt',
  'decrypt',
  're-encrypt',
  'generate-data-key-batch',
  'decrypt-batch',
  're-encrypt-batch',
  'generate-mac',
  'verify-mac',
  'rotate-key',
  'enable-key-rotation',
  'disable-key-rotation',
  'get-key-rotation-status',
  'enable-key',
  'disable-key',
  'revoke-key',
  'schedule-key-deletion',
  'cancel-key-deletion',
  'destroy-key',
  'get-parameters-for-import',
  'import-key-material',
  // Sent by the rotation service: expiry of BYOK tokens (sent by the scheduler) and version retirement
  // (checked against the rotation service's re-wrap tracking unless `force`).
  'expire-import-token',
  'disable-key-version',
  'enable-key-version',
  'destroy-key-version',
  // One version's material is exposed: it stops for good (decrypt only with keys:DecryptCompromised; ReEncrypt moves its data).
  'mark-key-version-compromised',
  // Operators: where a tenant's root key lives (EKM, or an external AWS-KMS-compatible KMS).
  'describe-tenant-root',
  'set-tenant-root-external',
  // The tenant kill switch: every operation of a sealed tenant fails with EKM_TENANT_SEALED on every
  // replica until it is unsealed (optionally only with the tenant-held secret set at seal time).
  'seal-tenant',
  'unseal-tenant',
  'get-tenant-seal-status',
] as const;

/**
 * Operations answered by the policy service: `decide` (allow/deny + policy, statement, reason),
 * `simulate` (operators: the same plus the evaluation trace), principal administration (create returns
 * the credential once), policy administration (versioned JSON documents) and `login` (@ekm/auth).
 */
export const POLICY_OPERATIONS = [
  'status',
  'login',
  'decide',
  'simulate',
  'create-principal',
  'list-principals',
  'get-principal',
  'revoke-principal',
  'rotate-credential',
  'revoke-credential',
  'put-policy',
  'get-policy',
  'list-policies',
  'delete-policy',
  // AWS-style access keys of principals (the AWS KMS-compatible HTTPS edge): the secret is shown once and
  // kept only wrapped under the root of trust; `access-key-login` checks a SigV4 signature and opens a session.
  'create-access-key',
  'list-access-keys',
  'delete-access-key',
  'access-key-login',
] as const;

/**
 * Operations answered by the rotation service: `status` (schedules, overdue, failures, re-wrap
 * progress), `rewrap-status` (which assets still hold data keys under which version of a key) and
 * `check-version-retirement` (asked by the keys service before a version is disabled or destroyed).
 */
export const ROTATION_OPERATIONS = ['status', 'rewrap-status', 'check-version-retirement'] as const;

/**
 * Operations answered by the audit service: `query` (trail entries by key, principal, tenant, action,
 * outcome, time; cursor pagination), `verify` (recompute the hash chain and checkpoint signatures),
 * `report` (signed key-usage report over a window).
 */
export const AUDIT_OPERATIONS = ['status', 'query', 'verify', 'report', 'destruction-receipt'] as const;

/** Operations per service, as a typed table. */
export const OPERATIONS = {
  keys: KEYS_OPERATIONS,
  policy: POLICY_OPERATIONS,
  rotation: ROTATION_OPERATIONS,
  audit: AUDIT_OPERATIONS,
} as const satisfies Record<ServiceName, readonly string[]>;

/** An operation of service `S`, e.g. `Operation<'keys'>` includes `'generate-data-key'`. */
export type Operation<S extends ServiceName> = (typeof OPERATIONS)[S][number];

/** A request subject of service `S`, e.g. `'ekm.v1.keys.encrypt'`. */
export type Subject<S extends ServiceName = ServiceName> = S extends ServiceName ? `ekm.v1.${S}.${Operation<S>}` : never;

/** Prefix shared by every request subject. */
export const SUBJECT_PREFIX = 'ekm.v1';

/**
 * The request subject of `operation` on `service`: `subject('keys', 'encrypt')` is `'ekm.v1.keys.encrypt'`.
 * Pure string building; both arguments are checked at compile time against {@link OPERATIONS}.
 */
export function subject<S extends ServiceName>(service: S, operation: Operation<S>): `ekm.v1.${S}.${Operation<S>}` {
  return `${SUBJECT_PREFIX}.${service}.${operation}` as `ekm.v1.${S}.${Operation<S>}`;
}

/** Every request subject of `service`, in table order. */
export function subjectsOf<S extends ServiceName>(service: S): ReadonlyArray<`ekm.v1.${S}.${Operation<S>}`> {
  return (OPERATIONS[service] as readonly Operation<S>[]).map((op) => subject(service, op));
}

/** The NATS queue group of `service` (`ekm-<service>`): replicas share the load of its subjects. */
export function queueGroup(service: ServiceName): `ekm-${ServiceName}` {
  return `ekm-${service}`;
}

/** Type guard: is `value` one of {@link SERVICES}? */
export function isServiceName(value: unknown): value is ServiceName {
  return typeof value === 'string' && (SERVICES as readonly string[]).includes(value);
}
