/**
 * The authorization seam until the Policy issue lands. DEVELOPMENT ONLY: allows everything. It is
 * refused when EKM_ENV=production (config refuses EKM_AUTHZ=allow-all there, and this factory checks
 * again), and EKM_AUTHZ=policy fails the start until a policy-backed authorizer exists.
 */
import type { FactoryProvider } from '@nestjs/common';
import type { KeysConfig } from '@ekm/config';
import { SERVICE_CONFIG } from '@ekm/service-kit';
import { AUTHORIZER, type AuthorizationDecision, type Authorizer } from '../../application/ports';

export class AllowAllAuthorizer implements Authorizer {
  async authorize(): Promise<AuthorizationDecision> {
    return { allowed: true };
  }
}

export class AuthorizerConfigError extends Error {
  override readonly name = 'AuthorizerConfigError';
}

export function selectAuthorizer(config: Pick<KeysConfig, 'env' | 'authz'>): Authorizer {
  if (config.authz === 'policy') throw new AuthorizerConfigError('EKM_AUTHZ=policy: the policy service authorizer is not available yet; use allow-all in development');
  if (config.env === 'production') throw new AuthorizerConfigError('EKM_AUTHZ=allow-all is refused when EKM_ENV=production');
  return new AllowAllAuthorizer();
}

export const authorizerProvider: FactoryProvider<Authorizer> = {
  provide: AUTHORIZER,
  inject: [SERVICE_CONFIG],
  useFactory: (config: KeysConfig) => selectAuthorizer(config),
};
