/**
 * KeyAccess and compromised material: a compromised version (or a revoked key) decrypts only for a
 * principal the authorizer grants `keys:DecryptCompromised`, always works as the source of a
 * ReEncrypt, and never encrypts. Allow-all never grants the permission.
 */
import { foldKeyEvents, type ExistingKeyState } from '../../domain';
import { active, ev, rotated, T0 } from '../../domain/key.test-kit';
import { AllowAllAuthorizer } from '../../adapters/authz/allow-all.authorizer';
import type { AuthorizationRequest, Authorizer, KeyStateReader } from '../ports';
import type { TenantSealGate } from '../tenants/tenant-seal.ports';
import { DependencyUnavailableError } from '../dependency-unavailable';
import { DECRYPT_COMPROMISED, KeyAccess } from './key-access';

const state = foldKeyEvents([...active, ...rotated(1, 2), ev('KeyVersionCompromised', { version: 1, reason: 'leak', compromisedAt: T0 })]) as ExistingKeyState;
const revoked = foldKeyEvents([...active, ev('KeyRevoked', { reason: 'leak', revokedAt: T0 })]) as ExistingKeyState;
const readerOf = (s: ExistingKeyState): KeyStateReader => ({ load: async () => s, resolve: async (r) => r, invalidate: () => undefined });
/** Grants everything except DecryptCompromised unless `grantCompromised`; records the actions asked. */
const authorizer = (grantCompromised: boolean, asked: string[] = []): Authorizer => ({
  authorize: async (req: AuthorizationRequest) => {
    asked.push(req.action);
    return req.action === DECRYPT_COMPROMISED && !grantCompromised ? { allowed: false, reason: 'no statement' } : { allowed: true };
  },
});
/** No tenant is sealed. */
const OPEN: TenantSealGate = { isSealed: () => false, invalidate: () => undefined };
const decrypt = (version: number) => ({ principal: 'p', operation: 'Decrypt' as const, context: { collection: 'docs' }, version, fromBlob: true });

describe('KeyAccess with a compromised version', () => {
  it('decrypts only with keys:DecryptCompromised, and asks for it only for compromised versions', async () => {
    const asked: string[] = [];
    expect(await new KeyAccess(readerOf(state), authorizer(true, asked), OPEN).check(state.keyId, decrypt(1))).toMatchObject({ ok: true, grant: { version: 1 } });
    // Authorization first: the plain permission is asked before anything about the version is used.
    expect(asked).toEqual(['keys:Decrypt', DECRYPT_COMPROMISED]);
    const refused = await new KeyAccess(readerOf(state), authorizer(false), OPEN).check(state.keyId, decrypt(1));
    expect(refused).toMatchObject({ ok: false, failure: { kind: 'REJECTED', rejection: { code: 'VERSION_COMPROMISED', version: 1 } } });
    const plain: string[] = [];
    expect((await new KeyAccess(readerOf(state), authorizer(false, plain), OPEN).check(state.keyId, decrypt(2))).ok).toBe(true);
    expect(plain).toEqual(['keys:Decrypt']);
  });

  it('is always usable as the source of a ReEncrypt, never for encryption', async () => {
    const access = new KeyAccess(readerOf(state), authorizer(false), OPEN);
    expect(await access.check(state.keyId, { ...decrypt(1), operation: 'ReEncrypt', action: 'keys:ReEncryptFrom' })).toMatchObject({ ok: true, grant: { version: 1 } });
    expect(await access.check(state.keyId, { principal: 'p', operation: 'Encrypt', context: { collection: 'docs' } })).toMatchObject({ ok: true, grant: { version: 2 } });
  });

  it('a revoked key: same rules (decrypt with the permission, ReEncrypt source, no encryption)', async () => {
    expect((await new KeyAccess(readerOf(revoked), authorizer(true), OPEN).check(revoked.keyId, decrypt(1))).ok).toBe(true);
    expect(await new KeyAccess(readerOf(revoked), authorizer(false), OPEN).check(revoked.keyId, decrypt(1))).toMatchObject({ ok: false, failure: { rejection: { code: 'INVALID_KEY_STATE' } } });
    expect((await new KeyAccess(readerOf(revoked), authorizer(false), OPEN).check(revoked.keyId, { ...decrypt(1), operation: 'ReEncrypt' })).ok).toBe(true);
    expect((await new KeyAccess(readerOf(revoked), authorizer(true), OPEN).check(revoked.keyId, { principal: 'p', operation: 'Encrypt', context: { collection: 'docs' } })).ok).toBe(false);
  });

  it('allow-all never grants keys:DecryptCompromised', async () => {
    const refused = await new KeyAccess(readerOf(state), new AllowAllAuthorizer(), OPEN).check(state.keyId, decrypt(1));
    expect(refused).toMatchObject({ ok: false, failure: { rejection: { code: 'VERSION_COMPROMISED' } } });
  });
});

describe('KeyAccess and the tenant kill switch', () => {
  const sealedGate = (asked: string[] = []): TenantSealGate => ({ isSealed: (t) => (asked.push(t), true), invalidate: () => undefined });
  const plain = foldKeyEvents([...active]) as ExistingKeyState;

  it('a sealed tenant is refused TENANT_SEALED on data-plane and lifecycle access, after authorization', async () => {
    const asked: string[] = [];
    const access = new KeyAccess(readerOf(plain), authorizer(true), sealedGate(asked));
    expect(await access.check(plain.keyId, { principal: 'p', operation: 'Encrypt', context: {} })).toMatchObject({ ok: false, failure: { kind: 'TENANT_SEALED', tenant: plain.tenant } });
    expect(await access.authorizeRef(plain.keyId, 'p', 'keys:DescribeKey')).toMatchObject({ ok: false, failure: { kind: 'TENANT_SEALED', tenant: plain.tenant } });
    expect(asked).toEqual([plain.tenant, plain.tenant]);
  });

  it('a caller the authorizer refuses learns FORBIDDEN, not that the tenant is sealed (the gate is not asked)', async () => {
    const asked: string[] = [];
    const deny: Authorizer = { authorize: async () => ({ allowed: false, reason: 'other tenant' }) };
    const access = new KeyAccess(readerOf(plain), deny, sealedGate(asked));
    expect(await access.check(plain.keyId, { principal: 'p', operation: 'Encrypt', context: {} })).toMatchObject({ ok: false, failure: { kind: 'FORBIDDEN' } });
    expect(await access.authorizeRef(plain.keyId, 'p', 'keys:DescribeKey')).toMatchObject({ ok: false, failure: { kind: 'FORBIDDEN' } });
    expect(asked).toEqual([]);
  });

  it('fails closed: a seal store that cannot be read refuses the call (the error propagates), never answers open', async () => {
    const broken: TenantSealGate = { isSealed: () => Promise.reject(new DependencyUnavailableError('the tenant seal state')), invalidate: () => undefined };
    const access = new KeyAccess(readerOf(plain), authorizer(true), broken);
    await expect(access.check(plain.keyId, { principal: 'p', operation: 'Encrypt', context: {} })).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(access.isSealed(plain.tenant)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
