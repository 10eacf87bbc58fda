/** `@ekm/client`: the TypeScript SDK for EKM's bus API. */
export { EkmClient, type EkmClientOptions, type CallOptions } from './ekm-client';
export { EkmError } from './ekm-error';
export { Ekm } from './ekm';
export { KeysClient, type Caller, type KeysCallOptions } from './keys.client';
export { CryptoClient } from './crypto.client';
export { wrapKeyMaterial } from './wrap-key-material';
export type * from './keys.types';
export type * from './crypto.types';
