/**
 * One zod schema per service over `process.env`, built from the env-var tables, plus the cross-field
 * rules (allow-all refused in production, pkcs11 settings required together, ...). Output is a typed,
 * camelCase config object.
 */
import { z } from 'zod';
import type { ServiceName } from '@ekm/contracts';
import { envVarsOf, type AUTH_MODES, type AUTHZ_MODES, type LOG_LEVELS } from './env-vars';

/** Settings every service has. */
export interface BaseConfig {
  readonly service: ServiceName;
  readonly env: 'development' | 'production';
  /** `EKM_NATS_URL` split on commas. */
  readonly natsServers: readonly string[];
  readonly databaseUrl: string;
  /** Set only when the service should run its migrations at start. */
  readonly databaseAdminUrl?: string;
  /** EKM_DB_QUERY_TIMEOUT_MS: query, statement, connect and pool-wait bound of the service pool. */
  readonly dbQueryTimeoutMs: number;
  readonly httpPort: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly otlpEndpoint?: string;
  readonly dataDir: string;
  readonly maxRequestBytes: number;
  readonly shutdownGraceMs: number;
  /** EKM_AUTH: `required` or `disabled` (never in production). */
  readonly auth: (typeof AUTH_MODES)[number];
  /** EKM_AUTH_SECRET; unset in development means the generated `<dataDir>/auth-secret`. SECRET. */
  readonly authSecret?: string;
  readonly sessionTtlMs: number;
  /** EKM_NATS_USER / EKM_NATS_PASSWORD (SECRET): least-privilege NATS login. */
  readonly natsUser?: string;
  readonly natsPassword?: string;
  /** EKM_NATS_CREDENTIALS: path of the service's NATS credentials file (read at connect). */
  readonly natsCredentialsFile?: string;
  /** EKM_NATS_TLS_CA / _CERT / _KEY: TLS to NATS (file paths). */
  readonly natsTls?: { readonly caFile: string; readonly certFile?: string; readonly keyFile?: string };
  /** EKM_JS_REPLICAS: replicas of the JetStream streams the service creates (3 on a JetStream cluster). */
  readonly jsReplicas: number;
  /** EKM_RATE_LIMIT_RPS / _BURST and EKM_RATE_LIMIT_TENANT_RPS / _BURST. */
  readonly rateLimit: RateLimitsConfig;
}

/** One token bucket: refill rate and capacity (docs/rate-limits.md). */
export interface RateLimitConfig {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** EKM_RATE_LIMIT_*: a scope that is absent is not limited (its RPS is 0). */
export interface RateLimitsConfig {
  readonly principal?: RateLimitConfig;
  readonly tenant?: RateLimitConfig;
}

/** Where the root key lives. Secrets stay in this object; never log it whole. */
export type RootOfTrustConfig =
  | { readonly kind: 'software'; readonly secret?: string }
  | { readonly kind: 'pkcs11'; readonly library: string; readonly tokenLabel: string; readonly pin: string; readonly keyLabel: string };

/** Settings of the keys service. */
export interface KeysConfig extends BaseConfig {
  readonly service: 'keys';
  readonly rootOfTrust: RootOfTrustConfig;
  readonly kekCacheTtlMs: number;
  readonly kekCacheMax: number;
  /** EKM_KEY_STATE_CACHE_MAX / _MAX_AGE_MS: the key-state cache kept fresh by relayed key events. */
  readonly keyStateCache: { readonly max: number; readonly maxAgeMs: number };
  /** EKM_XKS_CACHE_MS / EKM_XKS_TIMEOUT_MS / EKM_TENANT_ROOT_CACHE_MAX: tenant roots, local and external. */
  readonly tenantRoots: { readonly externalCacheMs: number; readonly externalTimeoutMs: number; readonly cacheMax: number; readonly allowedEndpoints: readonly string[] };
  readonly gcmBudget: number;
  readonly deletionMinDays: number;
  /** EKM_EPOCH_ROLL_INTERVAL_MS / _TICK_MS / EKM_EPOCH_REWRAP_BATCH: the epoch roller. */
  readonly epochs: { readonly rollIntervalMs: number; readonly tickMs: number; readonly rewrapBatch: number };
  readonly authz: (typeof AUTHZ_MODES)[number];
}

/** Settings of the audit service. */
export interface AuditConfig extends BaseConfig {
  readonly service: 'audit';
  /** The same root as the keys service: it wraps the audit trail's Ed25519 signing key. */
  readonly rootOfTrust: RootOfTrustConfig;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  /** EKM_AUDIT_APPEND_LINGER_MS: low-load batching of trail appends (TrailAppenderOptions.lingerMs). */
  readonly appendLingerMs: number;
  /** Services whose event logs the trail consumes (EKM_AUDIT_SOURCES). */
  readonly sources: readonly string[];
  readonly reconcileIntervalMs: number;
  /** EKM_AUDIT retention; 0 = forever. */
  readonly streamMaxAgeMs: number;
  /** EKM_AUDIT retention; -1 = unlimited. */
  readonly streamMaxBytes: number;
  /** Readiness fails past this age of the oldest source record not yet in the trail (EKM_AUDIT_MAX_LAG_MS). */
  readonly maxLagMs: number;
  /** Optional second witness of published checkpoints (EKM_AUDIT_WITNESS_FILE, JSON lines). */
  readonly witnessFile?: string;
}

/** Settings of the rotation service. */
export interface RotationConfig extends BaseConfig {
  readonly service: 'rotation';
  readonly tickMs: number;
  readonly leaseMs: number;
  readonly batch: number;
}

/** Settings of the policy service. */
export interface PolicyConfig extends BaseConfig {
  readonly service: 'policy';
  /** EKM_LOGIN_RATE_LIMIT_RPS / _BURST: logins per credential per replica; undefined = not limited. */
  readonly loginRateLimit?: RateLimitConfig;
  /** The same root as the keys service: it wraps access-key secrets (opened on first use). */
  readonly rootOfTrust: RootOfTrustConfig;
}

/** The config type of each service. */
export type ServiceConfig<S extends ServiceName = ServiceName> = S extends 'keys' ? KeysConfig : S extends 'audit' ? AuditConfig : S extends 'rotation' ? RotationConfig : S extends 'policy' ? PolicyConfig : BaseConfig & { readonly service: S };

type Raw = Record<string, unknown>;

/** A bucket from its RPS and optional burst (default twice the rate); undefined when the RPS is 0. */
function bucketOf(rps: unknown, burst: unknown): RateLimitConfig | undefined {
  const rate = rps as number;
  return rate === 0 ? undefined : { ratePerSecond: rate, burst: burst === undefined ? 2 * rate : (burst as number) };
}

/** `nats://user:pass@host` → the URL without its userinfo, and the user and password it named. */
function splitNatsUrls(urls: readonly string[]): { servers: string[]; user?: string; password?: string } {
  let user: string | undefined;
  let password: string | undefined;
  const servers = urls.map((raw) => {
    const u = new URL(raw);
    if (u.username === '') return raw;
    user ??= decodeURIComponent(u.username);
    password ??= decodeURIComponent(u.password);
    return `${u.protocol}//${u.host}`;
  });
  return { servers, ...(user !== undefined ? { user, password: password ?? '' } : {}) };
}

function toBase(service: ServiceName, r: Raw): BaseConfig {
  // Credentials in the URL are moved out of it, so no log line or file that prints the servers shows them.
  const nats = splitNatsUrls(r.EKM_NATS_URL as string[]);
  const natsUser = (r.EKM_NATS_USER as string | undefined) ?? nats.user;
  const natsPassword = (r.EKM_NATS_PASSWORD as string | undefined) ?? nats.password;
  return {
    service,
    env: r.EKM_ENV as BaseConfig['env'],
    natsServers: nats.servers,
    databaseUrl: r.EKM_DATABASE_URL as string,
    ...(r.EKM_DATABASE_ADMIN_URL !== undefined ? { databaseAdminUrl: r.EKM_DATABASE_ADMIN_URL as string } : {}),
    dbQueryTimeoutMs: r.EKM_DB_QUERY_TIMEOUT_MS as number,
    httpPort: r.EKM_HTTP_PORT as number,
    logLevel: r.EKM_LOG_LEVEL as BaseConfig['logLevel'],
    ...(r.EKM_OTLP_ENDPOINT !== undefined ? { otlpEndpoint: r.EKM_OTLP_ENDPOINT as string } : {}),
    dataDir: r.EKM_DATA_DIR as string,
    maxRequestBytes: r.EKM_MAX_REQUEST_BYTES as number,
    shutdownGraceMs: r.EKM_SHUTDOWN_GRACE_MS as number,
    auth: r.EKM_AUTH as BaseConfig['auth'],
    ...(r.EKM_AUTH_SECRET !== undefined ? { authSecret: r.EKM_AUTH_SECRET as string } : {}),
    sessionTtlMs: r.EKM_SESSION_TTL_MS as number,
    ...(natsUser !== undefined ? { natsUser } : {}),
    ...(natsPassword !== undefined ? { natsPassword } : {}),
    ...(r.EKM_NATS_CREDENTIALS !== undefined ? { natsCredentialsFile: r.EKM_NATS_CREDENTIALS as string } : {}),
    ...(r.EKM_NATS_TLS_CA !== undefined ? {
      natsTls: {
        caFile: r.EKM_NATS_TLS_CA as string,
        ...(r.EKM_NATS_TLS_CERT !== undefined ? { certFile: r.EKM_NATS_TLS_CERT as string } : {}),
        ...(r.EKM_NATS_TLS_KEY !== undefined ? { keyFile: r.EKM_NATS_TLS_KEY as string } : {}),
      },
    } : {}),
    jsReplicas: r.EKM_JS_REPLICAS as number,
    rateLimit: rateLimitsOf(r),
  };
}

function rateLimitsOf(r: Raw): RateLimitsConfig {
  const principal = bucketOf(r.EKM_RATE_LIMIT_RPS, r.EKM_RATE_LIMIT_BURST);
  const tenant = bucketOf(r.EKM_RATE_LIMIT_TENANT_RPS, r.EKM_RATE_LIMIT_TENANT_BURST);
  return { ...(principal ? { principal } : {}), ...(tenant ? { tenant } : {}) };
}

function toRootOfTrust(r: Raw): RootOfTrustConfig {
  return r.EKM_ROOT_OF_TRUST === 'pkcs11'
    ? { kind: 'pkcs11', library: r.EKM_PKCS11_LIBRARY as string, tokenLabel: r.EKM_PKCS11_TOKEN_LABEL as string, pin: r.EKM_PKCS11_PIN as string, keyLabel: r.EKM_PKCS11_KEY_LABEL as string }
    : { kind: 'software', ...(r.EKM_ROOT_SECRET !== undefined ? { secret: r.EKM_ROOT_SECRET as string } : {}) };
}

function toAudit(r: Raw): AuditConfig {
  const maxBytes = r.EKM_AUDIT_STREAM_MAX_BYTES as number;
  return {
    ...toBase('audit', r),
    service: 'audit',
    rootOfTrust: toRootOfTrust(r),
    checkpointEvery: r.EKM_AUDIT_CHECKPOINT_EVERY as number,
    checkpointIntervalMs: r.EKM_AUDIT_CHECKPOINT_INTERVAL_MS as number,
    appendLingerMs: r.EKM_AUDIT_APPEND_LINGER_MS as number,
    sources: (r.EKM_AUDIT_SOURCES as string).split(','),
    reconcileIntervalMs: r.EKM_AUDIT_RECONCILE_INTERVAL_MS as number,
    streamMaxAgeMs: r.EKM_AUDIT_STREAM_MAX_AGE_MS as number,
    streamMaxBytes: maxBytes === 0 ? -1 : maxBytes,
    maxLagMs: r.EKM_AUDIT_MAX_LAG_MS as number,
    ...(r.EKM_AUDIT_WITNESS_FILE !== undefined ? { witnessFile: r.EKM_AUDIT_WITNESS_FILE as string } : {}),
  };
}

/** Root-of-trust rules shared by keys and audit. */
function rootRules(r: Raw, ctx: z.RefinementCtx): void {
  const blame = (variable: string, message: string): void => ctx.addIssue({ code: 'custom', path: [variable], message });
  if (r.EKM_ROOT_OF_TRUST === 'pkcs11') {
    if (r.EKM_PKCS11_LIBRARY === undefined) blame('EKM_PKCS11_LIBRARY', 'is required when EKM_ROOT_OF_TRUST=pkcs11');
    if (r.EKM_PKCS11_PIN === undefined) blame('EKM_PKCS11_PIN', 'is required when EKM_ROOT_OF_TRUST=pkcs11');
  } else if (r.EKM_ENV === 'production' && r.EKM_ROOT_SECRET === undefined) {
    blame('EKM_ROOT_SECRET', 'is required when EKM_ENV=production and EKM_ROOT_OF_TRUST=software');
  }
}

function toRotation(r: Raw): RotationConfig {
  return { ...toBase('rotation', r), service: 'rotation', tickMs: r.EKM_ROTATION_TICK_MS as number, leaseMs: r.EKM_ROTATION_LEASE_MS as number, batch: r.EKM_ROTATION_BATCH as number };
}

function toPolicy(r: Raw): PolicyConfig {
  const login = bucketOf(r.EKM_LOGIN_RATE_LIMIT_RPS, r.EKM_LOGIN_RATE_LIMIT_BURST);
  return { ...toBase('policy', r), service: 'policy', rootOfTrust: toRootOfTrust(r), ...(login ? { loginRateLimit: login } : {}) };
}

function toKeys(r: Raw): KeysConfig {
  const rootOfTrust = toRootOfTrust(r);
  return {
    ...toBase('keys', r),
    service: 'keys',
    rootOfTrust,
    kekCacheTtlMs: r.EKM_KEK_CACHE_TTL_MS as number,
    kekCacheMax: r.EKM_KEK_CACHE_MAX as number,
    keyStateCache: { max: r.EKM_KEY_STATE_CACHE_MAX as number, maxAgeMs: r.EKM_KEY_STATE_CACHE_MAX_AGE_MS as number },
    tenantRoots: { externalCacheMs: r.EKM_XKS_CACHE_MS as number, externalTimeoutMs: r.EKM_XKS_TIMEOUT_MS as number, cacheMax: r.EKM_TENANT_ROOT_CACHE_MAX as number, allowedEndpoints: r.EKM_XKS_ALLOWED_ENDPOINTS as string[] },
    gcmBudget: r.EKM_GCM_BUDGET as number,
    deletionMinDays: r.EKM_DELETION_MIN_DAYS as number,
    epochs: { rollIntervalMs: r.EKM_EPOCH_ROLL_INTERVAL_MS as number, tickMs: r.EKM_EPOCH_TICK_MS as number, rewrapBatch: r.EKM_EPOCH_REWRAP_BATCH as number },
    authz: (r.EKM_AUTHZ ?? (r.EKM_ENV === 'production' ? 'policy' : 'allow-all')) as KeysConfig['authz'],
  };
}

/** Cross-variable rules of the keys service. Each names the variable it blames. */
function keysRules(r: Raw, ctx: z.RefinementCtx): void {
  const production = r.EKM_ENV === 'production';
  const blame = (variable: string, message: string): void => ctx.addIssue({ code: 'custom', path: [variable], message });
  if (production && r.EKM_AUTHZ === 'allow-all') blame('EKM_AUTHZ', 'allow-all is refused when EKM_ENV=production; use policy');
  if (r.EKM_ROOT_OF_TRUST === 'pkcs11') {
    if (r.EKM_PKCS11_LIBRARY === undefined) blame('EKM_PKCS11_LIBRARY', 'is required when EKM_ROOT_OF_TRUST=pkcs11');
    if (r.EKM_PKCS11_PIN === undefined) blame('EKM_PKCS11_PIN', 'is required when EKM_ROOT_OF_TRUST=pkcs11');
  } else if (production && r.EKM_ROOT_SECRET === undefined) {
    blame('EKM_ROOT_SECRET', 'is required when EKM_ENV=production and EKM_ROOT_OF_TRUST=software');
  }
  if (production && typeof r.EKM_DELETION_MIN_DAYS === 'number' && r.EKM_DELETION_MIN_DAYS < 7) {
    blame('EKM_DELETION_MIN_DAYS', 'must be at least 7 when EKM_ENV=production');
  }
}

/** A bucket of capacity 0 would refuse everything: a scope is disabled through its RPS, not its burst. */
function rateLimitRules(r: Raw, ctx: z.RefinementCtx): void {
  for (const [rps, burst] of [['EKM_RATE_LIMIT_RPS', 'EKM_RATE_LIMIT_BURST'], ['EKM_RATE_LIMIT_TENANT_RPS', 'EKM_RATE_LIMIT_TENANT_BURST'], ['EKM_LOGIN_RATE_LIMIT_RPS', 'EKM_LOGIN_RATE_LIMIT_BURST']] as const) {
    if (r[burst] === 0 && r[rps] !== undefined && r[rps] !== 0) ctx.addIssue({ code: 'custom', path: [burst], message: `must be at least 1 when ${rps} is not 0` });
  }
}

/** Authentication rules of every service: no unauthenticated production, and a shared secret there. */
function authRules(r: Raw, ctx: z.RefinementCtx): void {
  if ((r.EKM_NATS_USER === undefined) !== (r.EKM_NATS_PASSWORD === undefined)) {
    ctx.addIssue({ code: 'custom', path: [r.EKM_NATS_USER === undefined ? 'EKM_NATS_USER' : 'EKM_NATS_PASSWORD'], message: 'EKM_NATS_USER and EKM_NATS_PASSWORD are set together' });
  }
  if ((r.EKM_NATS_TLS_CERT === undefined) !== (r.EKM_NATS_TLS_KEY === undefined)) {
    ctx.addIssue({ code: 'custom', path: [r.EKM_NATS_TLS_CERT === undefined ? 'EKM_NATS_TLS_CERT' : 'EKM_NATS_TLS_KEY'], message: 'EKM_NATS_TLS_CERT and EKM_NATS_TLS_KEY are set together' });
  }
  if (r.EKM_NATS_TLS_CERT !== undefined && r.EKM_NATS_TLS_CA === undefined) ctx.addIssue({ code: 'custom', path: ['EKM_NATS_TLS_CA'], message: 'is required when EKM_NATS_TLS_CERT is set' });
  if (r.EKM_NATS_CREDENTIALS !== undefined && r.EKM_NATS_USER !== undefined) ctx.addIssue({ code: 'custom', path: ['EKM_NATS_CREDENTIALS'], message: 'set either EKM_NATS_CREDENTIALS or EKM_NATS_USER/EKM_NATS_PASSWORD, not both' });
  if (r.EKM_ENV !== 'production') return;
  if (r.EKM_AUTH === 'disabled') ctx.addIssue({ code: 'custom', path: ['EKM_AUTH'], message: 'disabled is refused when EKM_ENV=production; use required' });
  if (r.EKM_AUTH_SECRET === undefined) ctx.addIssue({ code: 'custom', path: ['EKM_AUTH_SECRET'], message: 'is required when EKM_ENV=production' });
}

/**
 * The zod schema of `service`'s environment. Input: an env object (`process.env`); an empty string
 * counts as unset. Output: {@link ServiceConfig}. Issue paths are variable names.
 */
export function configSchema<S extends ServiceName>(service: S): z.ZodType<ServiceConfig<S>, Record<string, string | undefined>> {
  const shape: Record<string, z.ZodType> = {};
  for (const spec of envVarsOf(service)) {
    const inner = spec.default !== undefined ? spec.schema : spec.schema.optional();
    shape[spec.name] = z.preprocess((v) => (v === undefined || v === '' ? spec.default : v), inner);
  }
  const base = z.object(shape).superRefine((r, ctx) => authRules(r, ctx)).superRefine((r, ctx) => rateLimitRules(r, ctx));
  const refined = service === 'keys' ? base.superRefine((r, ctx) => keysRules(r, ctx)) : service === 'audit' || service === 'policy' ? base.superRefine((r, ctx) => rootRules(r, ctx)) : base;
  return refined.transform((r) => (service === 'keys' ? toKeys(r) : service === 'audit' ? toAudit(r) : service === 'rotation' ? toRotation(r) : service === 'policy' ? toPolicy(r) : toBase(service, r))) as unknown as z.ZodType<ServiceConfig<S>, Record<string, string | undefined>>;
}
