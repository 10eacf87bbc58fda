/**
 * The EKM_* environment variables, as data: name, rule (zod), default, whether it is a secret.
 * The zod schemas and the machine-readable metadata (for the docker-compose check) both derive from
 * these tables, so the docs table in docs/development.md, compose and the code cannot disagree silently.
 */
import { z } from 'zod';
import type { ServiceName } from '@ekm/contracts';

/** One environment variable. `default` is what an unset (or empty) variable means. */
export interface EnvVarSpec {
  readonly name: string;
  readonly schema: z.ZodType;
  readonly default?: string;
  /** Secrets are never echoed, not even in error messages (no message ever echoes any value). */
  readonly secret?: boolean;
  readonly description: string;
}

/** Integer in `[min, max]`, from its decimal string. */
const int = (min: number, max: number): z.ZodType<number> =>
  z.string().regex(/^\d+$/, `must be an integer between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be an integer between ${min} and ${max}`).max(max, `must be an integer between ${min} and ${max}`));

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

const url = (protocols: readonly string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL with scheme ${protocols.map((p) => p.replace(':', '')).join(' or ')}`);

/**
 * Comma-separated https origins (`https://host[:port]`, nothing after) → the normalised origins. Empty =
 * none. A path, query, credentials or another scheme is refused: the list names where EKM may connect,
 * not what it sends there.
 */
const httpsOrigins = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
  .pipe(z.array(z.string().refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'https:' && u.username === '' && u.password === '' && (u.pathname === '/' || u.pathname === '') && u.search === '' && u.hash === '' && !v.includes('*');
    } catch {
      return false;
    }
  }, 'must list https://host[:port] origins, comma-separated (no path, query or wildcard)').transform((v) => new URL(v).origin)));

/** Comma-separated NATS URLs → array. */
const natsServers = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
  .pipe(z.array(url(['nats:', 'tls:', 'ws:', 'wss:'])).min(1, 'must list at least one nats:// URL'));

/** Default HTTP (health + metrics) port of each service. */
export const DEFAULT_HTTP_PORTS: Readonly<Record<ServiceName, number>> = { keys: 7101, policy: 7102, rotation: 7103, audit: 7104 };

/** pino levels accepted by EKM_LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Request authentication modes (EKM_AUTH). */
export const AUTH_MODES = ['required', 'disabled'] as const;

/** Variables every service reads. */
export function baseEnvVars(service: ServiceName): readonly EnvVarSpec[] {
  return [
    { name: 'EKM_ENV', schema: oneOf(['development', 'production']), default: 'development', description: 'development or production' },
    { name: 'EKM_NATS_URL', schema: natsServers, default: 'nats://127.0.0.1:4222', description: 'NATS server(s), comma separated' },
    { name: 'EKM_DATABASE_URL', schema: url(['postgres:', 'postgresql:']), default: `postgres://ekm_${service}@127.0.0.1:5432/ekm`, secret: true, description: "the service's own role" },
    { name: 'EKM_DATABASE_ADMIN_URL', schema: url(['postgres:', 'postgresql:']), secret: true, description: 'owner/admin URL used only for migrations; unset = no migration at start' },
    // Below the SDK's 5 s default deadline for keys, so a caller behind a Postgres partition gets the service's EKM_UNAVAILABLE, not its own timeout.
    { name: 'EKM_DB_QUERY_TIMEOUT_MS', schema: int(100, 600_000), default: service === 'keys' ? '2000' : '5000', description: 'bound on each query of the service pool (client read timeout + statement_timeout), on connecting and on waiting for a pool connection; migrations and admin tools use their own connections' },
    { name: 'EKM_HTTP_PORT', schema: int(0, 65535), default: String(DEFAULT_HTTP_PORTS[service]), description: 'health + metrics port (0 = any free port)' },
    { name: 'EKM_LOG_LEVEL', schema: oneOf(LOG_LEVELS), default: 'info', description: 'pino level' },
    { name: 'EKM_OTLP_ENDPOINT', schema: url(['http:', 'https:']), description: 'OTLP/HTTP traces endpoint; unset = no export' },
    { name: 'EKM_DATA_DIR', schema: z.string().min(1), default: '.ekm/data', description: 'local state (sealed software root key, ...)' },
    { name: 'EKM_MAX_REQUEST_BYTES', schema: int(1024, 64 * 1024 * 1024), default: String(1024 * 1024), description: 'largest request body in bytes' },
    { name: 'EKM_SHUTDOWN_GRACE_MS', schema: int(0, 600_000), default: '10000', description: 'how long shutdown waits for in-flight requests' },
    // Request authentication (@ekm/auth, docs/auth.md).
    { name: 'EKM_AUTH', schema: oneOf(AUTH_MODES), default: 'required', description: 'required (every request signed) or disabled (development/tests only; refused in production)' },
    { name: 'EKM_AUTH_SECRET', schema: z.string().min(32, 'must have at least 32 characters'), secret: true, description: 'session secret shared by all services; required in production (development: generated in EKM_DATA_DIR/auth-secret)' },
    { name: 'EKM_NATS_USER', schema: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1..64 letters, digits, _ or -'), description: 'NATS user (infra/nats accounts config); replies then use the inbox prefix _INBOX_<user>; unset = no NATS auth' },
    { name: 'EKM_NATS_PASSWORD', schema: z.string().min(1), secret: true, description: 'password of EKM_NATS_USER (also accepted as nats://user:password@host in EKM_NATS_URL)' },
    { name: 'EKM_NATS_CREDENTIALS', schema: z.string().min(1), description: 'NATS credentials file (JSON {user, password, inboxPrefix}, mode 0600; npm run up writes .ekm/nats/<service>.json); replaces EKM_NATS_USER/EKM_NATS_PASSWORD' },
    // TLS to NATS (Postgres TLS is set in the database URLs: ?sslmode=verify-full&sslrootcert=CA[&sslcert=&sslkey=]).
    { name: 'EKM_NATS_TLS_CA', schema: z.string().min(1), description: 'CA certificate file (PEM) the NATS server certificate must chain to; set = TLS required' },
    { name: 'EKM_NATS_TLS_CERT', schema: z.string().min(1), description: 'client certificate file (PEM) for NATS, when the server verifies clients' },
    { name: 'EKM_NATS_TLS_KEY', schema: z.string().min(1), description: 'private key file (PEM) of EKM_NATS_TLS_CERT' },
    { name: 'EKM_JS_REPLICAS', schema: int(1, 5), default: '1', description: 'replicas of the JetStream streams this service creates: 1 on one nats-server, 3 on a 3-node JetStream cluster (survives the loss of one node); an existing stream is not changed' },
    { name: 'EKM_SESSION_TTL_MS', schema: int(10_000, 86_400_000), default: '600000', description: 'session lifetime issued at login; also how long revocations are remembered' },
    // Rate limits per replica (docs/rate-limits.md). The default only stops runaway callers: the bench's single caller stays far below it.
    { name: 'EKM_RATE_LIMIT_RPS', schema: int(0, 10_000_000), default: '10000', description: 'requests per second each principal may send to one replica of this service (token bucket; 0 = no per-principal limit); service-to-service sessions are not limited' },
    { name: 'EKM_RATE_LIMIT_BURST', schema: int(0, 100_000_000), description: 'bucket capacity: requests a principal may send at once after being idle; default 2 x EKM_RATE_LIMIT_RPS' },
    { name: 'EKM_RATE_LIMIT_TENANT_RPS', schema: int(0, 10_000_000), default: '0', description: 'requests per second all principals of one tenant together may send to one replica (0 = no tenant limit; the operator scope * is never tenant-limited)' },
    { name: 'EKM_RATE_LIMIT_TENANT_BURST', schema: int(0, 100_000_000), description: 'tenant bucket capacity; default 2 x EKM_RATE_LIMIT_TENANT_RPS' },
  ];
}

/** Root of trust kinds. */
export const ROOT_OF_TRUST_KINDS = ['software', 'pkcs11'] as const;
/** Authorization modes of the keys service. */
export const AUTHZ_MODES = ['allow-all', 'policy'] as const;

/** Variables only the keys service reads. */
export const KEYS_ENV_VARS: readonly EnvVarSpec[] = [
  { name: 'EKM_ROOT_OF_TRUST', schema: oneOf(ROOT_OF_TRUST_KINDS), default: 'software', description: 'software (sealed key in EKM_DATA_DIR) or pkcs11' },
  { name: 'EKM_ROOT_SECRET', schema: z.string().min(16, 'must have at least 16 characters'), secret: true, description: 'passphrase sealing the software root key; required in production with software root' },
  { name: 'EKM_PKCS11_LIBRARY', schema: z.string().min(1), description: 'PKCS#11 module path (required with pkcs11), e.g. /usr/lib/softhsm/libsofthsm2.so' },
  { name: 'EKM_PKCS11_TOKEN_LABEL', schema: z.string().min(1), default: 'ekm', description: 'token label' },
  { name: 'EKM_PKCS11_PIN', schema: z.string().min(1), secret: true, description: 'user PIN (required with pkcs11)' },
  { name: 'EKM_PKCS11_KEY_LABEL', schema: z.string().min(1), default: 'ekm-root', description: 'label of the root key object' },
  { name: 'EKM_KEK_CACHE_TTL_MS', schema: int(0, 86_400_000), default: '300000', description: 'how long an unwrapped KEK stays cached (0 = no cache)' },
  { name: 'EKM_KEK_CACHE_MAX', schema: int(0, 1_000_000), default: '1000', description: 'most KEK versions cached at once' },
  { name: 'EKM_KEY_STATE_CACHE_MAX', schema: int(0, 10_000_000), default: '100000', description: 'most key states cached at once (0 = no cache)' },
  { name: 'EKM_KEY_STATE_CACHE_MAX_AGE_MS', schema: int(500, 86_400_000), default: '60000', description: 'longest a cached key state is used while relayed key events keep it fresh (backstop; without fresh relay heartbeats the bound is 500 ms)' },
  { name: 'EKM_XKS_CACHE_MS', schema: int(0, 3_600_000), default: '60000', description: 'how long a tenant root held in an external KMS (and every KEK opened through it) stays usable after one successful external Decrypt; revoking at the external KMS cuts the tenant within this bound (0 = ask the external KMS on every KEK load)' },
  { name: 'EKM_XKS_ALLOWED_ENDPOINTS', schema: httpsOrigins, default: '', description: 'https origins (comma-separated, e.g. https://kms.eu-west-1.amazonaws.com) of the external KMSs a tenant root may be moved to and that the keys service will call; empty (the default) = external roots are off. Checked when a root is set and before every external call, so removing an origin cuts the tenants whose root lives there (EKM_EXTERNAL_KEY_UNAVAILABLE, ENDPOINT_NOT_ALLOWED)' },
  { name: 'EKM_XKS_TIMEOUT_MS', schema: int(100, 60_000), default: '5000', description: 'how long one call to an external KMS may take before the tenant\'s operation fails closed (EKM_EXTERNAL_KEY_UNAVAILABLE, TIMEOUT)' },
  { name: 'EKM_TENANT_ROOT_CACHE_MAX', schema: int(1, 1_000_000), default: '10000', description: 'most unwrapped tenant root keys cached at once (zeroed on eviction)' },
  { name: 'EKM_GCM_BUDGET', schema: int(1, 2 ** 32), default: String(2 ** 30), description: 'AES-GCM encryptions per key version before a forced rotation (NIST limit 2^32)' },
  { name: 'EKM_DELETION_MIN_DAYS', schema: int(0, 30), default: '7', description: 'shortest deletion waiting period, days (production needs >= 7)' },
  { name: 'EKM_EPOCH_ROLL_INTERVAL_MS', schema: int(0, 30 * 86_400_000), default: '86400000', description: 'longest life of a root-of-trust epoch key before a scheduled roll (0 = only destroys end epochs); bounds how long a database backup can open destroyed keys' },
  { name: 'EKM_EPOCH_TICK_MS', schema: int(50, 600_000), default: '2000', description: 'how often each replica checks whether an epoch roll is due (a destroy asks for one)' },
  { name: 'EKM_EPOCH_REWRAP_BATCH', schema: int(1, 10_000), default: '500', description: 'KEK versions re-wrapped per transaction during an epoch roll' },
  { name: 'EKM_AUTHZ', schema: oneOf(AUTHZ_MODES), description: 'allow-all (refused in production) or policy; default allow-all in development, policy in production' },
];

/** The root-of-trust variables (shared by keys and audit: the audit signing key is wrapped under the same root). */
const ROOT_OF_TRUST_VAR_NAMES = ['EKM_ROOT_OF_TRUST', 'EKM_ROOT_SECRET', 'EKM_PKCS11_LIBRARY', 'EKM_PKCS11_TOKEN_LABEL', 'EKM_PKCS11_PIN', 'EKM_PKCS11_KEY_LABEL'];

/** Variables only the audit service reads (besides the root-of-trust ones). */
export const AUDIT_ENV_VARS: readonly EnvVarSpec[] = [
  ...KEYS_ENV_VARS.filter((v) => ROOT_OF_TRUST_VAR_NAMES.includes(v.name)),
  { name: 'EKM_AUDIT_CHECKPOINT_EVERY', schema: int(1, 10_000_000), default: '1000', description: 'sign a checkpoint after this many new trail entries' },
  { name: 'EKM_AUDIT_CHECKPOINT_INTERVAL_MS', schema: int(100, 86_400_000), default: '10000', description: 'sign a checkpoint at least this often while entries arrive' },
  { name: 'EKM_AUDIT_SOURCES', schema: z.string().regex(/^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*$/, 'must be comma-separated service names'), default: 'keys,policy,rotation,audit', description: 'services whose event logs the audit trail consumes (audit: refusals of its own routes)' },
  { name: 'EKM_AUDIT_APPEND_LINGER_MS', schema: int(0, 1_000), default: '20', description: 'at low load, an append arriving within this many ms of the previous trail transaction waits for the rest of that window, so a trickle of events is appended a few per transaction (0 = each at once; only the trail lag grows, never a reply)' },
  { name: 'EKM_AUDIT_RECONCILE_INTERVAL_MS', schema: int(100, 3_600_000), default: '5000', description: 'how often the source event tables are swept for events JetStream never delivered' },
  { name: 'EKM_AUDIT_STREAM_MAX_AGE_MS', schema: int(0, 2 ** 40), default: '0', description: 'retention of the EKM_AUDIT SIEM stream by age (0 = forever)' },
  { name: 'EKM_AUDIT_STREAM_MAX_BYTES', schema: int(0, 2 ** 50), default: '0', description: 'retention of the EKM_AUDIT SIEM stream by size (0 = unlimited)' },
  { name: 'EKM_AUDIT_MAX_LAG_MS', schema: int(1_000, 86_400_000), default: '60000', description: 'audit readiness fails when a committed source record has waited longer than this for the trail' },
  { name: 'EKM_AUDIT_WITNESS_FILE', schema: z.string().min(1), description: 'optional JSON-lines file of published checkpoints (a second witness, e.g. a SIEM export) that verify also trusts' },
];

/** Variables only the rotation service reads (scheduler cadence and its lease; see apps/rotation). */
export const ROTATION_ENV_VARS: readonly EnvVarSpec[] = [
  { name: 'EKM_ROTATION_TICK_MS', schema: int(50, 3_600_000), default: '5000', description: 'how often each replica looks for due rotations, deletions and import-token expiries' },
  { name: 'EKM_ROTATION_LEASE_MS', schema: int(500, 3_600_000), default: '30000', description: 'claim lease: a replica silent this long (paused, partitioned) loses its claimed rows to the others' },
  { name: 'EKM_ROTATION_BATCH', schema: int(1, 10_000), default: '64', description: 'due items claimed and sent per scheduler transaction' },
];

/** Variables only the policy service reads (docs/rate-limits.md: login is the one unauthenticated subject). */
export const POLICY_ENV_VARS: readonly EnvVarSpec[] = [
  // The same root as the keys service: it wraps the secrets of AWS-style access keys.
  ...KEYS_ENV_VARS.filter((v) => ROOT_OF_TRUST_VAR_NAMES.includes(v.name)),
  { name: 'EKM_LOGIN_RATE_LIMIT_RPS', schema: int(0, 1_000_000), default: '5', description: 'logins per second per credential on one replica, checked before the Ed25519 proof is verified (token bucket; 0 = not limited); a session lasts EKM_SESSION_TTL_MS, so clients log in rarely' },
  { name: 'EKM_LOGIN_RATE_LIMIT_BURST', schema: int(0, 10_000_000), default: '50', description: 'login bucket capacity per credential' },
  { name: 'EKM_BOOTSTRAP_CREDENTIALS_FILE', schema: z.string().min(1), description: 'first start (no principal yet): create the operator admin and write its credential here (0600); unset = no bootstrap admin' },
];

/** All variables `service` reads, base first. */
export function envVarsOf(service: ServiceName): readonly EnvVarSpec[] {
  if (service === 'audit') return [...baseEnvVars(service), ...AUDIT_ENV_VARS];
  if (service === 'rotation') return [...baseEnvVars(service), ...ROTATION_ENV_VARS];
  if (service === 'policy') return [...baseEnvVars(service), ...POLICY_ENV_VARS];
  return service === 'keys' ? [...baseEnvVars(service), ...KEYS_ENV_VARS] : baseEnvVars(service);
}
