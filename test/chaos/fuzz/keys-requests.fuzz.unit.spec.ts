import fc from 'fast-check';
import { z } from 'zod';
import { BusErrorCode, parseRequest } from '@ekm/contracts';
// The modules themselves (not the index), so only request schemas are fuzzed here.
import * as auditRequests from '../../../libs/contracts/src/requests/audit';
import * as requests from '../../../libs/contracts/src/requests/keys';
import * as policyRequests from '../../../libs/contracts/src/requests/policy';
import * as rotationRequests from '../../../libs/contracts/src/requests/rotation';
import * as tenantRequests from '../../../libs/contracts/src/requests/tenants';
import { anyBody, fuzz, fuzzReport, shapedBody } from './fuzz-support';

const schemasOf = (service: string, module: object): Array<[string, z.ZodType]> => Object.entries(module as Record<string, unknown>)
  .filter((e): e is [string, z.ZodType] => e[1] instanceof z.ZodType)
  .map(([name, schema]) => [`${service}.${name}`, schema]);

// Every request schema in libs/contracts: the keys service (lifecycle, data plane, tenant roots and
// seals), policy, rotation and audit; found by export type so a new schema is fuzzed without touching this file.
const MODULES = {
  keys: schemasOf('keys', requests), tenants: schemasOf('keys', tenantRequests), policy: schemasOf('policy', policyRequests),
  rotation: schemasOf('rotation', rotationRequests), audit: schemasOf('audit', auditRequests),
};
const schemas: Array<[string, z.ZodType]> = Object.values(MODULES).flat();

/** A Reply from parseRequest: ok, or EKM_VALIDATION with a message; nothing else. */
function typedReply(r: unknown): void {
  const reply = r as { ok: boolean; error?: { code: string; message: string } };
  if (reply.ok) return;
  expect(reply.error?.code).toBe(BusErrorCode.Validation);
  expect(typeof reply.error?.message).toBe('string');
}

/** The top-level keys of a (possibly refined) object schema, so shaped bodies get past "unknown key". */
function keysOf(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown>; def?: { shape?: Record<string, unknown> } }).shape;
  return Object.keys(shape ?? {});
}

afterAll(() => console.log(`contract request fuzzing (keys, tenants, policy, rotation, audit)\n${fuzzReport()}`));

it('finds the schemas', () => {
  expect(MODULES.keys.length).toBeGreaterThanOrEqual(20);
  expect(MODULES.tenants.map(([n]) => n).sort()).toEqual(['keys.DescribeTenantRootRequest', 'keys.SealTenantRequest', 'keys.SetTenantRootExternalRequest', 'keys.TenantSealStatusRequest', 'keys.UnsealTenantRequest']);
  expect(MODULES.rotation.map(([n]) => n).sort()).toEqual(['rotation.RetirementCheckRequest', 'rotation.RewrapStatusRequest', 'rotation.RotationStatusRequest']);
  expect(MODULES.audit.map(([n]) => n).sort()).toEqual(['audit.AuditQueryRequest', 'audit.AuditReportRequest', 'audit.AuditVerifyRequest', 'audit.DestructionReceiptRequest']);
  // 17 subjects; get-/delete-policy share PolicyRefRequest.
  expect(MODULES.policy.map(([n]) => n).sort()).toEqual([
    'CreateAccessKeyRequest', 'CreatePrincipalRequest', 'DecideRequest', 'DeleteAccessKeyRequest', 'ListAccessKeysRequest', 'ListPoliciesRequest', 'ListPrincipalsRequest',
    'LoginRequest', 'PolicyRefRequest', 'PrincipalRefRequest', 'PutPolicyRequest', 'RevokeCredentialRequest', 'RevokePrincipalRequest', 'RotateCredentialRequest',
    'SigV4LoginRequest', 'SimulateRequest',
  ].map((n) => `policy.${n}`));
  for (const [, s] of schemas) expect(keysOf(s).length).toBeGreaterThan(0);
});

describe.each(schemas)('%s', (name, schema) => {
  it('any body: ok or EKM_VALIDATION, never a throw, < 100 ms', () => {
    fuzz(`${name} (any)`, anyBody, (b) => parseRequest(schema, b), [], { numRuns: 300, check: typedReply });
  });

  it('its own fields with hostile values: ok or EKM_VALIDATION, < 100 ms', () => {
    const keys = keysOf(schema);
    fuzz(`${name} (shaped)`, keys.length > 0 ? shapedBody(keys) : anyBody, (b) => parseRequest(schema, b), [], { numRuns: 300, check: typedReply });
  });
});

it('batch requests at their size limit and one over stay fast', () => {
  const item = { ciphertextBlob: 'A'.repeat(87_400), encryptionContext: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'.repeat(256)])) };
  fuzz('keys.DecryptBatchRequest (max size)', fc.integer({ min: 99, max: 101 }), (n) => parseRequest(requests.DecryptBatchRequest, { items: Array.from({ length: n }, () => item) }), [], { numRuns: 5, check: typedReply });
});
