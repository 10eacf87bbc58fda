/**
 * The policy service's identity (signs login replies; its public key is pinned by clients and written
 * into every credential file EKM issues). Derived from the auth secret, so every replica agrees.
 */
import { resolveAuthSecret, ServiceIdentity } from '@ekm/auth';
import type { ServiceConfig } from '@ekm/config';

const bySecret = new Map<string, ServiceIdentity>();

/** The identity of this deployment (memoized per secret). */
export function serviceIdentityOf(config: ServiceConfig): ServiceIdentity {
  const secret = resolveAuthSecret({ ...(config.authSecret !== undefined ? { secret: config.authSecret } : {}), env: config.env, dataDir: config.dataDir });
  let id = bySecret.get(secret);
  if (!id) {
    id = ServiceIdentity.fromAuthSecret(secret);
    bySecret.set(secret, id);
  }
  return id;
}

/** An issued credential with the service key to pin (only when auth is on: without it there is no identity). */
export function withServiceKey<T extends { credential: object }>(config: ServiceConfig, issued: T): T {
  if (config.auth === 'disabled') return issued;
  return { ...issued, credential: { ...issued.credential, serviceKey: serviceIdentityOf(config).publicKey } };
}
