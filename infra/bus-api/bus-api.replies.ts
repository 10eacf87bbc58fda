/**
 * The reply schema (zod, from @ekm/contracts) of the `data` each subject's responder answers with on
 * success. Every service's table is complete: `satisfies` fails the typecheck when an operation is added
 * to the subjects table without a reply schema here.
 */
import type { z } from 'zod';
import {
  TenantRootReply,
  CiphertextReply, DataKeyBatchReply, DataKeyReply, DecryptBatchReply, ImportParametersReply, KeyInfoReply, KeyPageReply, KeyRotationStatusReply,
  KeyVersionsReply, MacReply, MacVerificationReply, PlaintextReply, ReEncryptBatchReply, ReEncryptReply, RetirementCheckReply, RewrapStatusReply,
  RotationStatusReply, ServiceStatusReply, TenantSealStatusReply,
  AccessKeyInfoReply, AccessKeyListReply, DecisionReply, IssuedAccessKeyReply, LoginReply, PolicyDeletedReply, PolicyInfoReply, PolicyListReply, PrincipalInfoReply,
  PrincipalListReply, PrincipalWithCredentialReply, SimulationReply,
  AuditPageReply, AuditStatusReply, AuditVerifyReply, SignedDestructionReceiptReply, SignedUsageReportReply,
  type OPERATIONS, type ServiceName,
} from '@ekm/contracts';

type Ops<S extends ServiceName> = (typeof OPERATIONS)[S][number];

const KEYS_REPLIES = {
  'status': ServiceStatusReply,
  'create-key': KeyInfoReply,
  'describe-key': KeyInfoReply,
  'list-keys': KeyPageReply,
  'list-key-versions': KeyVersionsReply,
  'create-alias': KeyInfoReply,
  'delete-alias': KeyInfoReply,
  'tag-key': KeyInfoReply,
  'untag-key': KeyInfoReply,
  'generate-data-key': DataKeyReply,
  'generate-data-key-without-plaintext': CiphertextReply,
  'encrypt': CiphertextReply,
  'decrypt': PlaintextReply,
  're-encrypt': ReEncryptReply,
  'generate-data-key-batch': DataKeyBatchReply,
  'decrypt-batch': DecryptBatchReply,
  're-encrypt-batch': ReEncryptBatchReply,
  'generate-mac': MacReply,
  'verify-mac': MacVerificationReply,
  'rotate-key': KeyInfoReply,
  'enable-key-rotation': KeyInfoReply,
  'disable-key-rotation': KeyInfoReply,
  'get-key-rotation-status': KeyRotationStatusReply,
  'enable-key': KeyInfoReply,
  'disable-key': KeyInfoReply,
  'revoke-key': KeyInfoReply,
  'schedule-key-deletion': KeyInfoReply,
  'cancel-key-deletion': KeyInfoReply,
  'destroy-key': KeyInfoReply,
  'get-parameters-for-import': ImportParametersReply,
  'import-key-material': KeyInfoReply,
  'expire-import-token': KeyInfoReply,
  'disable-key-version': KeyInfoReply,
  'enable-key-version': KeyInfoReply,
  'destroy-key-version': KeyInfoReply,
  'update-key-description': KeyInfoReply,
  'mark-key-version-compromised': KeyInfoReply,
  'describe-tenant-root': TenantRootReply,
  'set-tenant-root-external': TenantRootReply,
  'seal-tenant': TenantSealStatusReply,
  'unseal-tenant': TenantSealStatusReply,
  'get-tenant-seal-status': TenantSealStatusReply,
} as const satisfies { readonly [O in Ops<'keys'>]: z.ZodType };

const POLICY_REPLIES = {
  'status': ServiceStatusReply,
  'login': LoginReply,
  'decide': DecisionReply,
  'simulate': SimulationReply,
  'create-principal': PrincipalWithCredentialReply,
  'list-principals': PrincipalListReply,
  'get-principal': PrincipalInfoReply,
  'revoke-principal': PrincipalInfoReply,
  'rotate-credential': PrincipalWithCredentialReply,
  'revoke-credential': PrincipalInfoReply,
  'put-policy': PolicyInfoReply,
  'get-policy': PolicyInfoReply,
  'list-policies': PolicyListReply,
  'delete-policy': PolicyDeletedReply,
  'create-access-key': IssuedAccessKeyReply,
  'list-access-keys': AccessKeyListReply,
  'delete-access-key': AccessKeyInfoReply,
  'access-key-login': LoginReply,
} as const satisfies { readonly [O in Ops<'policy'>]: z.ZodType };

const ROTATION_REPLIES = {
  'status': RotationStatusReply,
  'rewrap-status': RewrapStatusReply,
  'check-version-retirement': RetirementCheckReply,
} as const satisfies { readonly [O in Ops<'rotation'>]: z.ZodType };

const AUDIT_REPLIES = {
  'status': AuditStatusReply,
  'query': AuditPageReply,
  'verify': AuditVerifyReply,
  'report': SignedUsageReportReply,
  'destruction-receipt': SignedDestructionReceiptReply,
} as const satisfies { readonly [O in Ops<'audit'>]: z.ZodType };

export const REPLY_SCHEMAS = {
  keys: KEYS_REPLIES,
  policy: POLICY_REPLIES,
  rotation: ROTATION_REPLIES,
  audit: AUDIT_REPLIES,
} as const satisfies { readonly [S in ServiceName]: { readonly [O in Ops<S>]: z.ZodType } };

/** The reply schema of `service`'s `operation`; undefined only for a name that is not an operation of `service`. */
export function replySchemaOf(service: ServiceName, operation: string): z.ZodType | undefined {
  return (REPLY_SCHEMAS[service] as Readonly<Record<string, z.ZodType>>)[operation];
}
