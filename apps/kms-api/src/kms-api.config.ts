/**
 * Settings of the AWS KMS-compatible HTTPS edge. It is not a bus responder (no schema, no subjects of
 * its own), so it has its own small env table rather than a `@ekm/config` service entry.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface KmsApiConfig {
  readonly natsServers: readonly string[];
  readonly natsUser?: string;
  readonly natsPassword?: string;
  /** EKM_SERVICE_KEY: the policy service identity the SigV4 login replies must be signed by (required). */
  readonly serviceKey: string;
  /** EKM_KMS_PORT: the AWS KMS endpoint (HTTPS when a certificate is configured). */
  readonly port: number;
  readonly host: string;
  /** EKM_KMS_HTTP_PORT: health + metrics (plain HTTP, like every service). */
  readonly httpPort: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Tenant of keys an operator-scope (`*`) caller creates without an `ekm:tenant` tag. */
  readonly defaultTenant: string;
  /** Bus sessions cached per access key (LRU bound). */
  readonly sessionCacheMax: number;
  readonly maxRequestBytes: number;
}

const port = z.coerce.number().int().min(0).max(65535);
const Env = z.object({
  EKM_NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  EKM_NATS_USER: z.string().min(1).optional(),
  EKM_NATS_PASSWORD: z.string().min(1).optional(),
  EKM_SERVICE_KEY: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the service identity key (43 characters base64url) of the stack (stack.json serviceKey)'),
  EKM_KMS_PORT: port.default(7110),
  EKM_KMS_HOST: z.string().min(1).default('127.0.0.1'),
  EKM_KMS_HTTP_PORT: port.default(7105),
  EKM_KMS_TLS_CERT: z.string().min(1).optional(),
  EKM_KMS_TLS_KEY: z.string().min(1).optional(),
  EKM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EKM_KMS_DEFAULT_TENANT: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).default('default'),
  EKM_KMS_SESSION_CACHE_MAX: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  EKM_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
}).superRefine((e, ctx) => {
  if ((e.EKM_KMS_TLS_CERT === undefined) !== (e.EKM_KMS_TLS_KEY === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['EKM_KMS_TLS_CERT'], message: 'EKM_KMS_TLS_CERT and EKM_KMS_TLS_KEY are set together' });
  }
  if ((e.EKM_NATS_USER === undefined) !== (e.EKM_NATS_PASSWORD === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['EKM_NATS_USER'], message: 'EKM_NATS_USER and EKM_NATS_PASSWORD are set together' });
  }
});

/** @throws Error naming the variables that are wrong (never their values). */
export function loadKmsApiConfig(env: Record<string, string | undefined> = process.env): KmsApiConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const r = Env.safeParse(cleaned);
  if (!r.success) throw new Error(`invalid kms-api configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const e = r.data;
  return {
    natsServers: e.EKM_NATS_URL.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    ...(e.EKM_NATS_USER !== undefined ? { natsUser: e.EKM_NATS_USER, natsPassword: e.EKM_NATS_PASSWORD! } : {}),
    serviceKey: e.EKM_SERVICE_KEY,
    port: e.EKM_KMS_PORT, host: e.EKM_KMS_HOST, httpPort: e.EKM_KMS_HTTP_PORT,
    ...(e.EKM_KMS_TLS_CERT !== undefined ? { tls: { cert: readFileSync(e.EKM_KMS_TLS_CERT), key: readFileSync(e.EKM_KMS_TLS_KEY!) } } : {}),
    logLevel: e.EKM_LOG_LEVEL, defaultTenant: e.EKM_KMS_DEFAULT_TENANT, sessionCacheMax: e.EKM_KMS_SESSION_CACHE_MAX, maxRequestBytes: e.EKM_MAX_REQUEST_BYTES,
  };
}
