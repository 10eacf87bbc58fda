import { CONFIG_METADATA, ConfigError, loadConfig } from './index';

const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig('policy', {});
    expect(c).toEqual({
      service: 'policy', env: 'development', natsServers: ['nats://127.0.0.1:4222'],
      databaseUrl: 'postgres://ekm_policy@127.0.0.1:5432/ekm', httpPort: 7102, logLevel: 'info',
      dataDir: '.ekm/data', maxRequestBytes: 1_048_576, shutdownGraceMs: 10_000, auth: 'required', sessionTtlMs: 600_000,
      dbQueryTimeoutMs: 5000, rateLimit: { principal: { ratePerSecond: 10_000, burst: 20_000 } }, jsReplicas: 1,
      loginRateLimit: { ratePerSecond: 5, burst: 50 }, rootOfTrust: { kind: 'software' },
    });
    expect(loadConfig('policy', { EKM_LOGIN_RATE_LIMIT_RPS: '0' })).not.toHaveProperty('loginRateLimit');
    expect(() => loadConfig('policy', { EKM_LOGIN_RATE_LIMIT_BURST: '0' })).toThrow(/EKM_LOGIN_RATE_LIMIT_BURST/);
    expect(loadConfig('keys', {})).not.toHaveProperty('loginRateLimit');
    expect(loadConfig('audit', { EKM_JS_REPLICAS: '3' }).jsReplicas).toBe(3);
    const k = loadConfig('keys', {});
    expect(k).toMatchObject({ httpPort: 7101, authz: 'allow-all', rootOfTrust: { kind: 'software' }, deletionMinDays: 7, gcmBudget: 2 ** 30, dbQueryTimeoutMs: 2000 });
    expect(loadConfig('keys', { EKM_DB_QUERY_TIMEOUT_MS: '750' }).dbQueryTimeoutMs).toBe(750);
    expect(() => loadConfig('keys', { EKM_DB_QUERY_TIMEOUT_MS: '0' })).toThrow(/EKM_DB_QUERY_TIMEOUT_MS/);
    expect(loadConfig('rotation', {}).httpPort).toBe(7103);
    expect(loadConfig('audit', { EKM_HTTP_PORT: '' }).httpPort).toBe(7104);
  });

  it('parses values and splits NATS URLs', () => {
    const c = loadConfig('audit', { EKM_NATS_URL: 'nats://a:4222, nats://b:4222', EKM_HTTP_PORT: '0', EKM_DATABASE_ADMIN_URL: 'postgres://admin@h/db', EKM_OTLP_ENDPOINT: 'http://otel:4318/v1/traces' });
    expect(c.natsServers).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(c.httpPort).toBe(0);
    expect(c.databaseAdminUrl).toBe('postgres://admin@h/db');
    expect(c.otlpEndpoint).toBe('http://otel:4318/v1/traces');
  });

  it('names every bad variable and its rule', () => {
    const e = errorOf(() => loadConfig('keys', { EKM_HTTP_PORT: '70000', EKM_LOG_LEVEL: 'loud', EKM_NATS_URL: 'http://x', EKM_KEK_CACHE_MAX: '-1', EKM_ENV: 'prod' }));
    expect(e.message).toMatch(/^invalid configuration for keys: /);
    expect(e.message).toContain('EKM_HTTP_PORT: must be an integer between 0 and 65535');
    expect(e.message).toContain('EKM_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent');
    expect(e.message).toContain('EKM_NATS_URL[0]: must be a URL with scheme nats or tls or ws or wss');
    expect(e.message).toContain('EKM_KEK_CACHE_MAX: must be an integer between 0 and 1000000');
    expect(e.message).toContain('EKM_ENV: must be one of development, production');
    expect(e.issues.map((i) => i.path.replace(/\[\d+\]$/, '')).sort()).toEqual(['EKM_ENV', 'EKM_HTTP_PORT', 'EKM_KEK_CACHE_MAX', 'EKM_LOG_LEVEL', 'EKM_NATS_URL']);
  });

  it('refuses allow-all in production and defaults to policy there', () => {
    const AUTH_SECRET = 'an-auth-secret-of-32-characters-or-more';
    const e = errorOf(() => loadConfig('keys', { EKM_ENV: 'production', EKM_AUTHZ: 'allow-all', EKM_ROOT_SECRET: 'a-long-enough-root-secret', EKM_AUTH_SECRET: AUTH_SECRET }));
    expect(e.message).toBe('invalid configuration for keys: EKM_AUTHZ: allow-all is refused when EKM_ENV=production; use policy');
    expect(loadConfig('keys', { EKM_ENV: 'production', EKM_ROOT_SECRET: 'a-long-enough-root-secret', EKM_AUTH_SECRET: AUTH_SECRET }).authz).toBe('policy');
    expect(loadConfig('keys', { EKM_AUTHZ: 'allow-all' }).authz).toBe('allow-all');
  });

  it('requires the pkcs11 settings together and never echoes secret values', () => {
    const e = errorOf(() => loadConfig('keys', { EKM_ROOT_OF_TRUST: 'pkcs11' }));
    expect(e.message).toContain('EKM_PKCS11_LIBRARY: is required when EKM_ROOT_OF_TRUST=pkcs11');
    expect(e.message).toContain('EKM_PKCS11_PIN: is required when EKM_ROOT_OF_TRUST=pkcs11');
    const secret = 'short-Zq9';
    const bad = errorOf(() => loadConfig('keys', { EKM_ROOT_SECRET: secret, EKM_DATABASE_URL: `mysql://u:${secret}@h/db` }));
    expect(bad.message).toContain('EKM_ROOT_SECRET: must have at least 16 characters');
    expect(bad.message).toContain('EKM_DATABASE_URL: must be a URL with scheme postgres or postgresql');
    expect(JSON.stringify({ m: bad.message, i: bad.issues })).not.toContain(secret);
    const ok = loadConfig('keys', { EKM_ROOT_OF_TRUST: 'pkcs11', EKM_PKCS11_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so', EKM_PKCS11_PIN: '1234' });
    expect(ok.rootOfTrust).toEqual({ kind: 'pkcs11', library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ekm', pin: '1234', keyLabel: 'ekm-root' });
  });

  it('requires production-grade deletion windows and root secret in production', () => {
    const e = errorOf(() => loadConfig('keys', { EKM_ENV: 'production', EKM_DELETION_MIN_DAYS: '1' }));
    expect(e.message).toContain('EKM_ROOT_SECRET: is required when EKM_ENV=production and EKM_ROOT_OF_TRUST=software');
    expect(e.message).toContain('EKM_DELETION_MIN_DAYS: must be at least 7 when EKM_ENV=production');
  });

  it('refuses EKM_AUTH=disabled and a missing EKM_AUTH_SECRET in production, never echoing the secret', () => {
    const e = errorOf(() => loadConfig('policy', { EKM_ENV: 'production', EKM_AUTH: 'disabled' }));
    expect(e.message).toContain('EKM_AUTH: disabled is refused when EKM_ENV=production; use required');
    expect(e.message).toContain('EKM_AUTH_SECRET: is required when EKM_ENV=production');
    const short = errorOf(() => loadConfig('policy', { EKM_AUTH_SECRET: 'short-secret-value' }));
    expect(short.message).toBe('invalid configuration for policy: EKM_AUTH_SECRET: must have at least 32 characters');
    expect(errorOf(() => loadConfig('policy', { EKM_NATS_USER: 'keys' })).message).toContain('EKM_NATS_PASSWORD: EKM_NATS_USER and EKM_NATS_PASSWORD are set together');
    // The policy service wraps access-key secrets under the root of trust: production needs its secret too.
    expect(errorOf(() => loadConfig('policy', { EKM_ENV: 'production', EKM_AUTH_SECRET: 'x'.repeat(40) })).message).toContain('EKM_ROOT_SECRET');
    const c = loadConfig('policy', { EKM_ENV: 'production', EKM_AUTH_SECRET: 'x'.repeat(40), EKM_NATS_USER: 'policy', EKM_NATS_PASSWORD: 'pw', EKM_ROOT_SECRET: 'r'.repeat(20) });
    expect(c).toMatchObject({ auth: 'required', authSecret: 'x'.repeat(40), natsUser: 'policy', natsPassword: 'pw' });
    expect(loadConfig('policy', { EKM_AUTH: 'disabled' }).auth).toBe('disabled');
  });
});

describe('rate limits (EKM_RATE_LIMIT_*)', () => {
  it('defaults the burst to twice the rate, disables a scope with 0 and keeps the tenant scope off by default', () => {
    expect(loadConfig('keys', { EKM_RATE_LIMIT_RPS: '50' }).rateLimit).toEqual({ principal: { ratePerSecond: 50, burst: 100 } });
    expect(loadConfig('keys', { EKM_RATE_LIMIT_RPS: '50', EKM_RATE_LIMIT_BURST: '7' }).rateLimit).toEqual({ principal: { ratePerSecond: 50, burst: 7 } });
    expect(loadConfig('audit', { EKM_RATE_LIMIT_RPS: '0', EKM_RATE_LIMIT_BURST: '9' }).rateLimit).toEqual({});
    expect(loadConfig('policy', { EKM_RATE_LIMIT_RPS: '0', EKM_RATE_LIMIT_TENANT_RPS: '300' }).rateLimit).toEqual({ tenant: { ratePerSecond: 300, burst: 600 } });
  });

  it('refuses a zero burst for an enabled scope and non-integers', () => {
    expect(errorOf(() => loadConfig('keys', { EKM_RATE_LIMIT_BURST: '0' })).message).toBe('invalid configuration for keys: EKM_RATE_LIMIT_BURST: must be at least 1 when EKM_RATE_LIMIT_RPS is not 0');
    expect(errorOf(() => loadConfig('keys', { EKM_RATE_LIMIT_TENANT_RPS: '5', EKM_RATE_LIMIT_TENANT_BURST: '0' })).message).toContain('EKM_RATE_LIMIT_TENANT_BURST: must be at least 1 when EKM_RATE_LIMIT_TENANT_RPS is not 0');
    expect(errorOf(() => loadConfig('rotation', { EKM_RATE_LIMIT_RPS: '2.5' })).message).toContain('EKM_RATE_LIMIT_RPS: must be an integer between 0 and 10000000');
  });
});

describe('CONFIG_METADATA', () => {
  it('lists env names, defaults, secrets and the default port of each service', () => {
    expect(CONFIG_METADATA.keys.defaultHttpPort).toBe(7101);
    expect(CONFIG_METADATA.audit.defaultHttpPort).toBe(7104);
    const names = CONFIG_METADATA.policy.env.map((v) => v.name);
    expect(names).toContain('EKM_DATABASE_URL');
    expect(names).not.toContain('EKM_AUTHZ');
    expect(CONFIG_METADATA.rotation.env.find((v) => v.name === 'EKM_RATE_LIMIT_RPS')?.default).toBe('10000');
    expect(CONFIG_METADATA.rotation.env.find((v) => v.name === 'EKM_RATE_LIMIT_BURST')?.default).toBeUndefined();
    expect(CONFIG_METADATA.keys.env.find((v) => v.name === 'EKM_PKCS11_PIN')).toMatchObject({ secret: true });
    expect(CONFIG_METADATA.rotation.env.find((v) => v.name === 'EKM_DATABASE_URL')?.default).toBe('postgres://ekm_rotation@127.0.0.1:5432/ekm');
  });
});
