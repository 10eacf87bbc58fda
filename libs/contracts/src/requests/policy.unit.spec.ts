import { z } from 'zod';
import { BusErrorCode } from '../error-codes';
import { parseRequest, validate } from '../validation';
import * as requests from './policy';
import { DecideRequest, PutPolicyRequest, SimulateRequest } from './policy';

describe('policy service request schemas: actions', () => {
  const document = (action: string) => ({ statements: [{ sid: 's', effect: 'allow', roles: ['app'], actions: [action], resources: ['*'] }] });

  it('put-policy refuses a typo\'d action (EKM_VALIDATION naming the path and the valid actions)', () => {
    const r = validate(PutPolicyRequest, { policyId: 'p', tenant: 'acme', document: document('keys:Decryptt') });
    expect(r).toMatchObject({ ok: false, issues: [{ path: 'document.statements[0].actions[0]', rule: expect.stringMatching(/keys:Decryptt is not an action \(did you mean keys:Decrypt\?\); valid actions: .*keys:Encrypt/) }] });
    expect(validate(PutPolicyRequest, { policyId: 'p', tenant: 'acme', document: document('keys:Generate*') }).ok).toBe(true);
  });

  it('simulate needs one real action; decide stays a plain format check (services ask it, a typo there is their bug and is denied)', () => {
    const req = (action: string) => ({ principalId: 'p-1', action, resource: {} });
    expect(validate(SimulateRequest, req('keys:Decryptt')).ok).toBe(false);
    expect(validate(SimulateRequest, req('keys:Decrypt')).ok).toBe(true);
    expect(validate(DecideRequest, req('keys:Decryptt')).ok).toBe(true);
  });
});

describe('policy service request schemas: hostile bodies', () => {
  const clientKey = 'A'.repeat(43);
  const valid: Record<string, [z.ZodType, Record<string, unknown>]> = {
    login: [requests.LoginRequest, { principalId: 'p-1', credentialId: 'c-1', timestamp: 1, nonce: 'n'.repeat(22), clientKey, signature: 's'.repeat(86) }],
    decide: [requests.DecideRequest, { principalId: 'p-1', action: 'keys:Decrypt', resource: { keyId: 'k', tenant: 'acme' } }],
    simulate: [requests.SimulateRequest, { principalId: 'p-1', action: 'keys:Decrypt', resource: {}, now: '2026-01-01T00:00:00Z' }],
    'create-principal': [requests.CreatePrincipalRequest, { tenant: 'acme', roles: ['app'] }],
    'list-principals': [requests.ListPrincipalsRequest, { tenant: '*' }],
    'get-principal': [requests.PrincipalRefRequest, { principalId: 'p-1' }],
    'revoke-principal': [requests.RevokePrincipalRequest, { principalId: 'p-1', reason: 'left' }],
    'rotate-credential': [requests.RotateCredentialRequest, { principalId: 'p-1', graceSeconds: 0 }],
    'revoke-credential': [requests.RevokeCredentialRequest, { principalId: 'p-1', credentialId: 'c-1' }],
    'put-policy': [requests.PutPolicyRequest, { policyId: 'p', tenant: 'acme', document: { statements: [{ sid: 's', effect: 'allow', roles: ['app'], actions: ['keys:*'], resources: ['*'] }] } }],
    'get-policy': [requests.PolicyRefRequest, { policyId: 'p' }],
    'list-policies': [requests.ListPoliciesRequest, {}],
    'create-access-key': [requests.CreateAccessKeyRequest, { principalId: 'p-1' }],
    'list-access-keys': [requests.ListAccessKeysRequest, { principalId: 'p-1' }],
    'delete-access-key': [requests.DeleteAccessKeyRequest, { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' }],
    'access-key-login': [requests.SigV4LoginRequest, { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', date: '20260101', region: 'eu-west-1', service: 'kms', stringToSign: 's', signature: '0'.repeat(64), clientKey }],
  };
  const refused = (schema: z.ZodType, body: unknown): string => {
    const r = parseRequest(schema, body);
    if (r.ok) throw new Error(`accepted ${JSON.stringify(body)}`);
    expect(r.error.code).toBe(BusErrorCode.Validation);
    return r.error.message;
  };

  it.each(Object.entries(valid))('%s: a valid body passes; a non-object, an unknown field, a NUL and a wrong type are EKM_VALIDATION naming the field', (_op, [schema, body]) => {
    expect(parseRequest(schema, body).ok).toBe(true);
    for (const b of [null, [], 'x', 42, true]) refused(schema, b);
    expect(refused(schema, { ...body, extra: 1 })).toContain('extra');
    expect(refused(schema, JSON.parse(`{${JSON.stringify(body).slice(1, -1)}${Object.keys(body).length > 0 ? ',' : ''}"__proto__":{"admin":true}}`))).toContain('__proto__');
    const field = Object.keys(body)[0];
    if (field === undefined) return;
    expect(refused(schema, { ...body, [field]: { $gt: '' } })).toContain(field);
    if (typeof body[field] === 'string') expect(refused(schema, { ...body, [field]: `${body[field] as string}\u0000` })).toContain(field);
  });

  it('keeps the limits and messages it had beside the controllers', () => {
    expect(refused(requests.CreatePrincipalRequest, { tenant: 'acme', roles: [] })).toContain('roles');
    expect(refused(requests.CreatePrincipalRequest, { tenant: 'acme', roles: ['a b'] })).toContain('must be 1..64 characters of A-Z a-z 0-9 _ . : -');
    expect(refused(requests.RotateCredentialRequest, { principalId: 'p', graceSeconds: 30 * 86_400 + 1 })).toContain('graceSeconds');
    expect(refused(requests.PrincipalRefRequest, { principalId: 'a'.repeat(201) })).toContain('must be a principal id');
    expect(refused(requests.CreateAccessKeyRequest, { principalId: 'p/1' })).toContain('must be a principal id');
    expect(refused(requests.DeleteAccessKeyRequest, { accessKeyId: 'AKIA1' })).toContain('must be an access key id (AKIA + 16 characters A-Z 2-7)');
    expect(refused(requests.LoginRequest, { principalId: 'p', credentialId: 'c', timestamp: 1, nonce: 'short', clientKey, signature: 's'.repeat(86) })).toContain('must be 16..64 characters of base64url');
    expect(refused(requests.SigV4LoginRequest, { ...valid['access-key-login']![1], clientKey: 'x' })).toContain('must be an X25519 public key (32 bytes, base64url)');
    expect(refused(requests.ListPoliciesRequest, { tenant: '-acme' })).toContain('must be * or 1..64 characters');
    expect(refused(requests.DecideRequest, { principalId: 'p', action: 'Decrypt', resource: {} })).toContain('must be <service>:<Operation>, e.g. keys:Decrypt');
    expect(parseRequest(requests.RevokePrincipalRequest, { principalId: 'p' })).toMatchObject({ ok: true, data: { reason: 'revoked by an administrator' } });
    expect(parseRequest(requests.DeleteAccessKeyRequest, { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' })).toMatchObject({ ok: true, data: { reason: 'deleted by an administrator' } });
    expect(parseRequest(requests.CreatePrincipalRequest, { tenant: '*', roles: ['admin'] })).toMatchObject({ ok: true, data: { kind: 'service', name: '' } });
  });
});
