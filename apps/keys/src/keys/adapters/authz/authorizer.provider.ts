/**
 * The authorizer of the keys service, chosen by EKM_AUTHZ:
 * - `policy` (default in production): {@link PolicyAuthorizer}, the policy service's Decide with a
 *   decision cache invalidated by policy events;
 * - `allow-all`: DEVELOPMENT ONLY, allows everything; refused when EKM_ENV=production (config refuses
 *   it there, and this factory checks again).
 */
import type { FactoryProvider } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { serviceSigner } from '@ekm/auth';
import type { KeysConfig } from '@ekm/config';
import { LOGGER, NATS_CONNECTION, SERVICE_CONFIG } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { AUTHORIZER, KEY_STATE_READER, type Authorizer, type KeyStateReader } from '../../application/ports';
import { AllowAllAuthorizer } from './allow-all.authorizer';
import { PolicyAuthorizer } from './policy.authorizer';

export class AuthorizerConfigError extends Error {
  override readonly name = 'AuthorizerConfigError';
}

export interface AuthorizerDeps {
  readonly nc: NatsConnection;
  readonly reader: KeyStateReader;
  readonly logger?: Logger;
}

type AuthorizerConfig = Pick<KeysConfig, 'env' | 'authz'> & Partial<Pick<KeysConfig, 'auth' | 'authSecret' | 'dataDir' | 'service'>>;

export function selectAuthorizer(config: AuthorizerConfig, deps?: AuthorizerDeps): Authorizer {
  if (config.authz === 'policy') {
    if (deps === undefined) throw new AuthorizerConfigError('EKM_AUTHZ=policy needs the NATS connection and the key state reader');
    // With EKM_AUTH=required the policy service only answers signed requests: sign as `service:keys`.
    const signer = config.auth !== undefined && config.dataDir !== undefined
      ? serviceSigner({ auth: config.auth, env: config.env, dataDir: config.dataDir, ...(config.authSecret !== undefined ? { authSecret: config.authSecret } : {}) }, 'keys')
      : undefined;
    return new PolicyAuthorizer(deps.nc, deps.reader, { ...(signer ? { signer } : {}), ...(deps.logger ? { logger: deps.logger } : {}) });
  }
  if (config.env === 'production') throw new AuthorizerConfigError('EKM_AUTHZ=allow-all is refused when EKM_ENV=production');
  return new AllowAllAuthorizer();
}

export const authorizerProvider: FactoryProvider<Authorizer> = {
  provide: AUTHORIZER,
  inject: [SERVICE_CONFIG, NATS_CONNECTION, KEY_STATE_READER, LOGGER],
  useFactory: async (config: KeysConfig, nc: NatsConnection, reader: KeyStateReader, logger: Logger) => {
    const a = selectAuthorizer(config, { nc, reader, logger: logger.child({ component: 'policy-authorizer' }) });
    if (a instanceof PolicyAuthorizer) await a.start();
    return a;
  },
};
