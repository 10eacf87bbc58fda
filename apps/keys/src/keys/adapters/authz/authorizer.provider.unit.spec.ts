import type { NatsConnection } from '@nats-io/transport-node';
import type { KeyStateReader } from '../../application/ports';
import { AllowAllAuthorizer } from './allow-all.authorizer';
import { AuthorizerConfigError, selectAuthorizer } from './authorizer.provider';
import { PolicyAuthorizer } from './policy.authorizer';

describe('selectAuthorizer', () => {
  it('allows everything in development with allow-all', async () => {
    const a = selectAuthorizer({ env: 'development', authz: 'allow-all' });
    expect(a).toBeInstanceOf(AllowAllAuthorizer);
    expect(await a.authorize({ principal: 'p', action: 'keys:CreateKey', resource: {} })).toEqual({ allowed: true });
  });

  it('refuses allow-all in production; policy selects the policy authorizer (and needs its dependencies)', () => {
    expect(() => selectAuthorizer({ env: 'production', authz: 'allow-all' })).toThrow(AuthorizerConfigError);
    expect(() => selectAuthorizer({ env: 'production', authz: 'allow-all' })).toThrow(/refused when EKM_ENV=production/);
    expect(() => selectAuthorizer({ env: 'development', authz: 'policy' })).toThrow(/needs the NATS connection/);
    const deps = { nc: {} as NatsConnection, reader: {} as KeyStateReader };
    expect(selectAuthorizer({ env: 'production', authz: 'policy' }, deps)).toBeInstanceOf(PolicyAuthorizer);
  });
});
