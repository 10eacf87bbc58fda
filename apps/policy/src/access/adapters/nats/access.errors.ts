/** Maps admin failures and domain rejections to wire codes, in one exhaustive table (STYLE.md). */
import { BusErrorCode, fail, type FailReply } from '@ekm/contracts';
import type { PolicyRejection, PrincipalRejection } from '../../domain';
import type { AdminFailure } from '../../application/principal-admin.use-cases';
import type { PolicyAdminFailure } from '../../application/policy-admin.use-cases';

type Rejection = PrincipalRejection | PolicyRejection;

const toBusCode: Record<Rejection['code'], BusErrorCode> = {
  PRINCIPAL_EXISTS: BusErrorCode.Conflict,
  PRINCIPAL_NOT_FOUND: BusErrorCode.NotFound,
  PRINCIPAL_REVOKED: BusErrorCode.Conflict,
  CREDENTIAL_NOT_FOUND: BusErrorCode.NotFound,
  CREDENTIAL_REVOKED: BusErrorCode.Conflict,
  CREDENTIAL_EXISTS: BusErrorCode.Conflict,
  POLICY_NOT_FOUND: BusErrorCode.NotFound,
  POLICY_OWNED_ELSEWHERE: BusErrorCode.Conflict,
  POLICY_VERSION_MISMATCH: BusErrorCode.Conflict,
};

function message(r: Rejection): string {
  switch (r.code) {
    case 'PRINCIPAL_EXISTS': return `principal ${r.principalId} already exists`;
    case 'PRINCIPAL_NOT_FOUND': return `principal ${r.principalId} not found`;
    case 'PRINCIPAL_REVOKED': return `principal ${r.principalId} is revoked; a revoked principal cannot change`;
    case 'CREDENTIAL_NOT_FOUND': return `principal ${r.principalId} has no credential ${r.credentialId}`;
    case 'CREDENTIAL_REVOKED': return `credential ${r.credentialId} of principal ${r.principalId} is already revoked`;
    case 'CREDENTIAL_EXISTS': return `credential ${r.credentialId} already belongs to principal ${r.principalId}`;
    case 'POLICY_NOT_FOUND': return `policy ${r.policyId} not found`;
    case 'POLICY_OWNED_ELSEWHERE': return `policy id ${r.policyId} is taken; choose another id`;
    case 'POLICY_VERSION_MISMATCH': return `policy ${r.policyId} is at version ${r.actual}, not ${r.expected}; re-read and retry`;
  }
}

export function failureReply(f: AdminFailure | PolicyAdminFailure): FailReply {
  switch (f.kind) {
    case 'FORBIDDEN': return fail(BusErrorCode.Forbidden, f.reason);
    case 'NOT_FOUND': return fail(BusErrorCode.NotFound, `${f.what} not found`);
    case 'DUPLICATE_REQUEST': return fail(BusErrorCode.Conflict, f.what);
    case 'REJECTED': return fail(toBusCode[f.rejection.code], message(f.rejection), { rejection: f.rejection.code });
  }
}
