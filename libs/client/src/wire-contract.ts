/**
 * The wire contract of every operation the typed clients send (keys with its tenant subjects, rotation
 * and audit; the policy client is typed on its own): per operation, the body is the request schema's
 * `z.input` and the reply data the reply schema's `z.infer`, both from @ekm/contracts, so no client
 * writes a wire type again. {@link send} takes the body as that type, so a client building a body the
 * schema would refuse (a field it does not know, a wrong type, a missing required field) fails
 * `npm run typecheck`; contract-conformance.ts also checks the other way (a schema field the SDK's
 * input types lack).
 */
import type { z } from 'zod';
import type {
  AliasRequest, AuditPageReply, AuditQueryRequest, AuditReportRequest, AuditVerifyReply, AuditVerifyRequest, CiphertextReply,
  CompromiseVersionRequest, CreateKeyRequest, DataKeyBatchReply, DataKeyReply, DecryptBatchReply, DecryptBatchRequest, DecryptRequest,
  DescribeTenantRootRequest, DestroyKeyRequest, DestructionReceiptRequest, EnableRotationRequest, EncryptRequest, ExpireTokenRequest,
  GenerateDataKeyBatchRequest, GenerateDataKeyRequest, GenerateMacRequest, ImportKeyMaterialRequest, ImportParametersReply,
  ImportParametersRequest, KeyInfoReply, KeyPageReply, KeyRefRequest, KeyRotationStatusReply, KeyVersionsReply, ListKeysRequest, MacReply,
  MacVerificationReply, PlaintextReply, ReEncryptBatchReply, ReEncryptBatchRequest, ReEncryptReply, ReEncryptRequest, RetireVersionRequest,
  RetirementCheckReply, RetirementCheckRequest, RevokeKeyRequest, RewrapStatusReply, RewrapStatusRequest, RotateKeyRequest,
  RotationStatusReply, RotationStatusRequest, ScheduleDeletionRequest, SealTenantRequest, SetTenantRootExternalRequest,
  SignedDestructionReceiptReply, SignedUsageReportReply, TagKeyRequest, TenantRootReply, TenantSealStatusReply, TenantSealStatusRequest,
  UnsealTenantRequest, UntagKeyRequest, UpdateDescriptionRequest, VerifyMacRequest, VersionRequest,
  Operation,
} from '@ekm/contracts';
import type { CallOptions } from './ekm-client';
import type { Caller } from './keys.client';

/**
 * Readonly all the way down: the SDK takes `readonly` arrays and maps, which the schemas' (mutable)
 * input types would refuse although the wire cannot tell them apart.
 */
export type ReadonlyDeep<T> = T extends readonly (infer U)[] ? readonly ReadonlyDeep<U>[] : T extends object ? { readonly [K in keyof T]: ReadonlyDeep<T[K]> } : T;

interface Wire<Req extends z.ZodType, Rep extends z.ZodType> {
  readonly body: ReadonlyDeep<z.input<Req>>;
  readonly reply: z.infer<Rep>;
}

/** Request body and reply data of each operation, as bus-api.registry.ts / bus-api.replies.ts pair them. */
export interface OperationWire {
  keys: {
    'create-key': Wire<typeof CreateKeyRequest, typeof KeyInfoReply>;
    'describe-key': Wire<typeof KeyRefRequest, typeof KeyInfoReply>;
    'list-keys': Wire<typeof ListKeysRequest, typeof KeyPageReply>;
    'list-key-versions': Wire<typeof KeyRefRequest, typeof KeyVersionsReply>;
    'create-alias': Wire<typeof AliasRequest, typeof KeyInfoReply>;
    'delete-alias': Wire<typeof AliasRequest, typeof KeyInfoReply>;
    'tag-key': Wire<typeof TagKeyRequest, typeof KeyInfoReply>;
    'untag-key': Wire<typeof UntagKeyRequest, typeof KeyInfoReply>;
    'generate-data-key': Wire<typeof GenerateDataKeyRequest, typeof DataKeyReply>;
    'generate-data-key-without-plaintext': Wire<typeof GenerateDataKeyRequest, typeof CiphertextReply>;
    'encrypt': Wire<typeof EncryptRequest, typeof CiphertextReply>;
    'decrypt': Wire<typeof DecryptRequest, typeof PlaintextReply>;
    're-encrypt': Wire<typeof ReEncryptRequest, typeof ReEncryptReply>;
    'generate-data-key-batch': Wire<typeof GenerateDataKeyBatchRequest, typeof DataKeyBatchReply>;
    'decrypt-batch': Wire<typeof DecryptBatchRequest, typeof DecryptBatchReply>;
    're-encrypt-batch': Wire<typeof ReEncryptBatchRequest, typeof ReEncryptBatchReply>;
    'generate-mac': Wire<typeof GenerateMacRequest, typeof MacReply>;
    'verify-mac': Wire<typeof VerifyMacRequest, typeof MacVerificationReply>;
    'rotate-key': Wire<typeof RotateKeyRequest, typeof KeyInfoReply>;
    'enable-key-rotation': Wire<typeof EnableRotationRequest, typeof KeyInfoReply>;
    'disable-key-rotation': Wire<typeof KeyRefRequest, typeof KeyInfoReply>;
    'get-key-rotation-status': Wire<typeof KeyRefRequest, typeof KeyRotationStatusReply>;
    'enable-key': Wire<typeof KeyRefRequest, typeof KeyInfoReply>;
    'disable-key': Wire<typeof KeyRefRequest, typeof KeyInfoReply>;
    'revoke-key': Wire<typeof RevokeKeyRequest, typeof KeyInfoReply>;
    'schedule-key-deletion': Wire<typeof ScheduleDeletionRequest, typeof KeyInfoReply>;
    'cancel-key-deletion': Wire<typeof KeyRefRequest, typeof KeyInfoReply>;
    'destroy-key': Wire<typeof DestroyKeyRequest, typeof KeyInfoReply>;
    'get-parameters-for-import': Wire<typeof ImportParametersRequest, typeof ImportParametersReply>;
    'import-key-material': Wire<typeof ImportKeyMaterialRequest, typeof KeyInfoReply>;
    'expire-import-token': Wire<typeof ExpireTokenRequest, typeof KeyInfoReply>;
    'disable-key-version': Wire<typeof RetireVersionRequest, typeof KeyInfoReply>;
    'enable-key-version': Wire<typeof VersionRequest, typeof KeyInfoReply>;
    'destroy-key-version': Wire<typeof RetireVersionRequest, typeof KeyInfoReply>;
    'update-key-description': Wire<typeof UpdateDescriptionRequest, typeof KeyInfoReply>;
    'mark-key-version-compromised': Wire<typeof CompromiseVersionRequest, typeof KeyInfoReply>;
    'describe-tenant-root': Wire<typeof DescribeTenantRootRequest, typeof TenantRootReply>;
    'set-tenant-root-external': Wire<typeof SetTenantRootExternalRequest, typeof TenantRootReply>;
    'seal-tenant': Wire<typeof SealTenantRequest, typeof TenantSealStatusReply>;
    'unseal-tenant': Wire<typeof UnsealTenantRequest, typeof TenantSealStatusReply>;
    'get-tenant-seal-status': Wire<typeof TenantSealStatusRequest, typeof TenantSealStatusReply>;
  };
  rotation: {
    'status': Wire<typeof RotationStatusRequest, typeof RotationStatusReply>;
    'rewrap-status': Wire<typeof RewrapStatusRequest, typeof RewrapStatusReply>;
    'check-version-retirement': Wire<typeof RetirementCheckRequest, typeof RetirementCheckReply>;
  };
  audit: {
    'query': Wire<typeof AuditQueryRequest, typeof AuditPageReply>;
    'verify': Wire<typeof AuditVerifyRequest, typeof AuditVerifyReply>;
    'report': Wire<typeof AuditReportRequest, typeof SignedUsageReportReply>;
    'destruction-receipt': Wire<typeof DestructionReceiptRequest, typeof SignedDestructionReceiptReply>;
  };
}

export type WireService = keyof OperationWire;
export type WireOperation<S extends WireService> = keyof OperationWire[S] & Operation<S>;
/** What `service`'s `operation` accepts as its body (Buffers are base64 strings here). */
export type RequestBody<S extends WireService, O extends WireOperation<S>> = OperationWire[S][O] extends { readonly body: infer B } ? B : never;
/** The `data` of `service`'s `operation` success reply. */
export type ReplyData<S extends WireService, O extends WireOperation<S>> = OperationWire[S][O] extends { readonly reply: infer R } ? R : never;

/** Sends `body` to `service`'s `operation`; both typed by the operation's contract. */
export function send<S extends WireService, O extends WireOperation<S>>(
  caller: Caller, service: S, operation: O, body: RequestBody<S, O>, opts?: CallOptions,
): Promise<ReplyData<S, O>> {
  return caller.call<ReplyData<S, O>>(service, operation, body, opts);
}
