/**
 * `@ekm/contracts`: the wire contract of the EKM bus — subjects, the reply envelope, error codes,
 * header names and request validation. No Nest, no I/O: clients and services both import it.
 */
export * from './subjects';
export * from './sealed-operations';
export * from './reply';
export * from './error-codes';
export * from './headers';
export * from './validation';
export * from './fields';
export * from './backoff';
export * from './replies/keys.replies';
export * from './replies/status.replies';
export * from './replies/rotation.replies';
export * from './replies/policy.replies';
export * from './replies/audit.replies';
export * from './requests/keys';
export * from './requests/policy';
export * from './requests/tenants';
export * from './requests/rotation';
export * from './requests/audit';
export * from './policy/glob';
export * from './policy/actions';
export * from './policy/policy-document.schema';
