/**
 * The request schema (zod) each subject's responder parses its body with, per subject of
 * `OPERATIONS` in @ekm/contracts. `satisfies` makes the table complete at compile time: an operation
 * added to the subjects table without a schema here fails `npm run typecheck`. Every service's request
 * schemas live in libs/contracts/src/requests/ (one contract per operation).
 */
import { z } from 'zod';
import {
  AliasRequest, CompromiseVersionRequest, CreateKeyRequest, DecryptBatchRequest, DecryptRequest, DestroyKeyRequest, EnableRotationRequest, EncryptRequest,
  ExpireTokenRequest, GenerateDataKeyBatchRequest, GenerateDataKeyRequest, GenerateMacRequest, ImportKeyMaterialRequest, ImportParametersRequest, KeyRefRequest,
  ListKeysRequest, ReEncryptBatchRequest, ReEncryptRequest, RetireVersionRequest, RevokeKeyRequest, RotateKeyRequest, ScheduleDeletionRequest, TagKeyRequest,
  UntagKeyRequest, UpdateDescriptionRequest, VerifyMacRequest, VersionRequest,
  CreateAccessKeyRequest, CreatePrincipalRequest, DecideRequest, DeleteAccessKeyRequest, ListAccessKeysRequest, ListPoliciesRequest, ListPrincipalsRequest, LoginRequest,
  PolicyRefRequest, PrincipalRefRequest, PutPolicyRequest, RevokeCredentialRequest, RevokePrincipalRequest, RotateCredentialRequest, SigV4LoginRequest, SimulateRequest,
  DescribeTenantRootRequest, SealTenantRequest, SetTenantRootExternalRequest, TenantSealStatusRequest, UnsealTenantRequest,
  RetirementCheckRequest, RewrapStatusRequest, RotationStatusRequest,
  AuditQueryRequest, AuditReportRequest, AuditVerifyRequest, DestructionReceiptRequest,
  type OPERATIONS, type ServiceName,
} from '@ekm/contracts';

/** `status` of keys, policy and audit reads no body: any JSON object is accepted and ignored. */
const AnyBody = z.object({});

type SchemaTable = { readonly [S in ServiceName]: { readonly [O in (typeof OPERATIONS)[S][number]]: z.ZodType } };

export const REQUEST_SCHEMAS = {
  keys: {
    'status': AnyBody,
    'create-key': CreateKeyRequest,
    'describe-key': KeyRefRequest,
    'list-keys': ListKeysRequest,
    'list-key-versions': KeyRefRequest,
    'create-alias': AliasRequest,
    'delete-alias': AliasRequest,
    'tag-key': TagKeyRequest,
    'untag-key': UntagKeyRequest,
    'generate-data-key': GenerateDataKeyRequest,
    'generate-data-key-without-plaintext': GenerateDataKeyRequest,
    'encrypt': EncryptRequest,
    'decrypt': DecryptRequest,
    're-encrypt': ReEncryptRequest,
    'generate-data-key-batch': GenerateDataKeyBatchRequest,
    'decrypt-batch': DecryptBatchRequest,
    're-encrypt-batch': ReEncryptBatchRequest,
    'generate-mac': GenerateMacRequest,
    'verify-mac': VerifyMacRequest,
    'rotate-key': RotateKeyRequest,
    'enable-key-rotation': EnableRotationRequest,
    'disable-key-rotation': KeyRefRequest,
    'get-key-rotation-status': KeyRefRequest,
    'enable-key': KeyRefRequest,
    'disable-key': KeyRefRequest,
    'revoke-key': RevokeKeyRequest,
    'schedule-key-deletion': ScheduleDeletionRequest,
    'cancel-key-deletion': KeyRefRequest,
    'destroy-key': DestroyKeyRequest,
    'get-parameters-for-import': ImportParametersRequest,
    'import-key-material': ImportKeyMaterialRequest,
    'expire-import-token': ExpireTokenRequest,
    'disable-key-version': RetireVersionRequest,
    'enable-key-version': VersionRequest,
    'destroy-key-version': RetireVersionRequest,
    'update-key-description': UpdateDescriptionRequest,
    'mark-key-version-compromised': CompromiseVersionRequest,
    'describe-tenant-root': DescribeTenantRootRequest,
    'set-tenant-root-external': SetTenantRootExternalRequest,
    'seal-tenant': SealTenantRequest,
    'unseal-tenant': UnsealTenantRequest,
    'get-tenant-seal-status': TenantSealStatusRequest,
  },
  policy: {
    'status': AnyBody,
    'login': LoginRequest,
    'decide': DecideRequest,
    'simulate': SimulateRequest,
    'create-principal': CreatePrincipalRequest,
    'list-principals': ListPrincipalsRequest,
    'get-principal': PrincipalRefRequest,
    'revoke-principal': RevokePrincipalRequest,
    'rotate-credential': RotateCredentialRequest,
    'revoke-credential': RevokeCredentialRequest,
    'put-policy': PutPolicyRequest,
    'get-policy': PolicyRefRequest,
    'list-policies': ListPoliciesRequest,
    'delete-policy': PolicyRefRequest,
    'create-access-key': CreateAccessKeyRequest,
    'list-access-keys': ListAccessKeysRequest,
    'delete-access-key': DeleteAccessKeyRequest,
    'access-key-login': SigV4LoginRequest,
  },
  rotation: {
    'status': RotationStatusRequest,
    'rewrap-status': RewrapStatusRequest,
    'check-version-retirement': RetirementCheckRequest,
  },
  audit: {
    'status': AnyBody,
    'query': AuditQueryRequest,
    'verify': AuditVerifyRequest,
    'report': AuditReportRequest,
    'destruction-receipt': DestructionReceiptRequest,
  },
} as const satisfies SchemaTable;
