import { AllowAllAuthorizer, AuthorizerConfigError, selectAuthorizer } from './allow-all.authorizer';

describe('selectAuthorizer', () => {
  it('allows everything in development with allow-all', async () => {
    const a = selectAuthorizer({ env: 'development', authz: 'allow-all' });
    expect(a).toBeInstanceOf(AllowAllAuthorizer);
    expect(await a.authorize({ principal: 'p', action: 'keys:CreateKey', resource: {} })).toEqual({ allowed: true });
  });

  it('refuses allow-all in production, and policy until the policy authorizer exists', () => {
    expect(() => selectAuthorizer({ env: 'production', authz: 'allow-all' })).toThrow(AuthorizerConfigError);
    expect(() => selectAuthorizer({ env: 'production', authz: 'allow-all' })).toThrow(/refused when EKM_ENV=production/);
    expect(() => selectAuthorizer({ env: 'development', authz: 'policy' })).toThrow(/not available yet/);
  });
});
