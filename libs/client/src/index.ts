/** `@ekm/client`: the TypeScript SDK for EKM's bus API. */
export { EkmClient, type EkmClientOptions, type CallOptions } from './ekm-client';
export { EkmError } from './ekm-error';
