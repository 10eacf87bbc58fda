/**
 * `@ekm/auth`: authentication of every request on the EKM bus (docs/auth.md).
 * - credentials: Ed25519 key pairs issued by EKM (`generatePrincipalCredential`, credential files);
 * - login: `signLoginRequest` (client) / `verifyLoginProof` (policy service);
 * - sessions: `SessionSealer.issue/open` under the shared EKM_AUTH_SECRET;
 * - requests: `signRequest` (client) / `RequestAuthenticator` (transport hook), replay and revocation.
 */
export * from './auth.types';
export * from './principal-credential';
export * from './login-proof';
export * from './session-token';
export * from './request-signature';
export * from './nonce-cache';
export * from './revocation-list';
export * from './request-authenticator';
export * from './session-signer';
export * from './sigv4';
export * from './key-agreement';
export * from './bus-seal';
export * from './login-client';
export { RevocationListener, policyEventSubject } from './revocation-listener';
export {
  ACCESS_DENIED, AUTHENTICATION_FAILED, AuthFailureRecorder, RefusalRecorder, type AccessDeniedData, type AuthenticationFailedData, type RefusalRecorderOptions,
} from './auth-failure-recorder';
export { resolveAuthSecret, DEV_AUTH_SECRET_FILE } from './auth-secret';
export * from './tenant-scope';
export { serviceSigner, type ServiceAuthSettings } from './service-signer';
export * from './nats-credentials';
export * from './sealed-request';
