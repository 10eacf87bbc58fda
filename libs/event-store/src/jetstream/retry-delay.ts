/** Backoff of redeliveries: the one helper of @ekm/contracts (re-exported so consumers keep importing it here). */
export { backoffDelay, type BackoffPolicy } from '@ekm/contracts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
