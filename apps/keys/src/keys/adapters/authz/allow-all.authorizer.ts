/**
 * The authorizer of the keys service, chosen by EKM_AUTHZ:
 * - `policy` (default in production): {@link PolicyAuthorizer}, the policy service's Decide with a
 *   decision cache invalidated by policy events;
 * - `allow-all`: DEVELOPMENT ONLY, allows everything; refused when EKM_ENV=production (config refuses
 *   it there, and this factory checks again).
 */
import type { FactoryProvider } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { resolveAuthSecret, serviceSessionSource, SessionSealer, SessionSigner } from '@ekm/auth';
import type { KeysConfig } from '@ekm/config';
import { LOGGER, NATS_CONNECTION, SERVICE_CONFIG } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { AUTHORIZER, KEY_STATE_READER, type AuthorizationDecision, type AuthorizationRequest, type Authorizer, type KeyStateReader } from '../../application/ports';
import { DECRYPT_COMPROMISED } from '../../application/crypto/key-access';
import { PolicyAuthorizer } from './policy.authorizer';

export class AllowAllAuthorizer implements Authorizer {
  async authorize(req?: AuthorizationRequest): Promise<AuthorizationDecision> {
    // An explicit permission cannot come from "allow everything": only a policy grants it.
    if (req?.action === DECRYPT_COMPROMISED) return { allowed: false, reason: `${DECRYPT_COMPROMISED} is never granted by EKM_AUTHZ=allow-all; grant it in a policy` };
    return { allowed: true };
  }
}

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
    const signer = config.auth === 'required' && config.dataDir !== undefined
      ? new SessionSigner(serviceSessionSource(new SessionSealer(resolveAuthSecret({ ...(config.authSecret !== undefined ? { secret: config.authSecret } : {}), env: config.env, dataDir: config.dataDir })), 'keys'))
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

