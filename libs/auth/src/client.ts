/**
 * `@ekm/auth/client`: the half of `@ekm/auth` a bus client needs (credential files, the login proof,
 * request signing, the session signer) and nothing of the server side (replay cache, revocation
 * listener, the failure recorder on the event store). `@ekm/client` imports only this entry, so the
 * SDK package (`npm run pack`) carries no database or server dependency; infra/scripts/pack.js fails
 * if the SDK's module closure reaches beyond libs/client, libs/contracts and libs/auth.
 */
export * from './auth.types';
export * from './principal-credential';
export * from './login-proof';
export * from './request-signature';
export * from './session-signer';
export * from './key-agreement';
export * from './bus-seal';
export * from './login-client';
export * from './nats-credentials';
export * from './sealed-request';
