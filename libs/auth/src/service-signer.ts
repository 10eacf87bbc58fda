/**
 * The signer a service uses for its calls to other services: with EKM_AUTH=required every request on
 * the bus must be signed, and a service signs with its own minted `service:<name>` session (shared
 * secret, no login round trip). With EKM_AUTH=disabled (development, tests) nothing is signed:
 * undefined. Pass it as `credentials` to `EkmClient.fromConnection` (@ekm/client).
 */
import { resolveAuthSecret } from './auth-secret';
import { serviceSessionSource, SessionSigner } from './session-signer';
import { SessionSealer } from './session-token';

/** The auth settings of a service's config (`BaseConfig` of @ekm/config) this needs. */
export interface ServiceAuthSettings {
  readonly auth: string;
  readonly authSecret?: string;
  readonly env: 'development' | 'production';
  readonly dataDir: string;
}

export function serviceSigner(config: ServiceAuthSettings, service: string): SessionSigner | undefined {
  if (config.auth !== 'required') return undefined;
  const secret = resolveAuthSecret({ ...(config.authSecret !== undefined ? { secret: config.authSecret } : {}), env: config.env, dataDir: config.dataDir });
  return new SessionSigner(serviceSessionSource(new SessionSealer(secret), service));
}
