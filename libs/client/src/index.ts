/** `@ekm/client`: the TypeScript SDK for EKM's bus API. */
export { EkmClient, type EkmClientOptions, type CallOptions } from './ekm-client';
export { EkmError, MAX_RETRY_AFTER_MS, retryDelayMs } from './ekm-error';
export { loginSessionSource, signerFor, type ClientCredentials } from './session-login';
export { sigV4Login, type SigV4LoginRequest, type SigV4LoginOutcome } from './sigv4-login';
export { natsConnectOptions, type NatsLoginOptions, type NatsTlsFiles } from './nats-connect-options';
export { Ekm } from './ekm';
export { KeysClient, type Caller, type KeysCallOptions } from './keys.client';
export { TenantsClient, type ExternalTenantRootInput, type SealTenantInput, type TenantRoot, type TenantSealStatus } from './tenants.client';
export { CryptoClient } from './crypto.client';
export type { OperationWire, ReplyData, RequestBody } from './wire-contract';
export { wrapKeyMaterial } from './wrap-key-material';
export type * from './keys.types';
export type * from './crypto.types';
export {
  CachingDataKeyProvider,
  type CachingDataKeyProviderOptions,
  type DataKeyCacheStats,
  type DataKeySource,
  type EncryptionKeyRequest,
  type KeyUse,
} from './caching/caching-data-key-provider';
export {
  CacheLimitsInvalidError,
  DEFAULT_DECRYPT_LIMITS,
  DEFAULT_ENCRYPT_LIMITS,
  MAX_MESSAGES_PER_KEY,
  type DecryptCacheLimits,
  type EncryptCacheLimits,
} from './caching/cache-limits';
export { canonicalContext } from './caching/canonical-context';
export { EnvelopeInvalidError, VectorInputInvalidError, type EnvelopeProblem } from './vector/envelope.errors';
export { ContentType, ENVELOPE_MAGIC, ENVELOPE_VERSION, parseEnvelope, type EnvelopeParts } from './vector/envelope.format';
export {
  decryptMetadata,
  decryptVector,
  encryptMetadata,
  encryptVector,
  openEnvelope,
  sealEnvelope,
  vectorEncryptionContext,
  type EnvelopeContent,
  type JsonValue,
  type SealedEnvelope,
  type VectorContext,
} from './vector/vector-envelope';
export { rewrapEnvelope, rewrapEnvelopes, type RewrapInput, type RewrapResult, type Rewrapped } from './vector/rewrap-envelope';
export {
  AuditClient, type AuditCategory, type AuditEntry, type AuditOutcome, type AuditPage, type AuditQueryInput, type AuditReportInput, type AuditVerifyInput,
  type AuditVerifyResult, type SignedUsageReport, type UsageReportRow,
} from './audit.client';
export { toCef } from './audit-cef';
export { verifyDestructionReceipt, type DestructionReceipt, type ReceiptCheck, type SignedDestructionReceipt } from './destruction-receipt';
export { PolicyClient } from './policy.client';
export type {
  AccessKeyInfo, CreatePrincipalInput, DecideInput, DecisionResult, IssuedAccessKey, IssuedCredential, PolicyCondition, PolicyDocument, PolicyInfo, PrincipalInfo,
  PutPolicyInput, SimulateInput, SimulationResult,
} from './policy.types';
export {
  RotationClient, type RetirementCheckInput, type RewrapStatusInput, type RotationStatusInput, type VersionRetirementCheck, type RewrapProgress, type RewrapStatus, type RotationScheduleStatus, type RotationStatus,
  type TrackedAsset,
} from './rotation.client';
