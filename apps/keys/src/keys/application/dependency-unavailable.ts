/**
 * Thrown by a dependency a call cannot do without (Postgres, the key material store, the policy
 * service as authorizer): nothing happened, and the caller gets EKM_UNAVAILABLE (retriable), never an
 * allow or a partial result. Both request paths (lifecycle and data plane) and the adapters share it.
 */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  constructor(readonly what: string) {
    super(`${what} is unavailable`);
  }
}
