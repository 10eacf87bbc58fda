/**
 * Ports of the policy service's application layer, bound in policy.module.ts.
 */
import type { PolicySet, PrincipalFacts } from '@ekm/policy-engine';
import type { CredentialState, ExistingPrincipal } from '../domain';

/** A fresh credential from @ekm/auth: the private key goes out once; only `publicKey` (the verifier) is stored. */
export interface IssuedCredential {
  readonly credentialId: string;
  readonly publicKey: string;
  readonly privateKey: string;
}
export const CREDENTIAL_ISSUER = Symbol('CREDENTIAL_ISSUER');
export interface CredentialIssuer {
  issue(): IssuedCredential;
}

/** A principal as the directory holds it (facts for decisions, credentials' verifiers for login). */
export interface DirectoryPrincipal extends PrincipalFacts {
  readonly kind: ExistingPrincipal['kind'];
  readonly name: string;
  readonly createdAt: string;
  readonly credentials: readonly CredentialState[];
}

/** An in-memory snapshot of principals and policies: every decision reads it, never Postgres. */
export interface AccessSnapshot {
  readonly principals: ReadonlyMap<string, DirectoryPrincipal>;
  readonly policies: PolicySet;
  readonly loadedAt: number;
}

/**
 * The directory (principals + policies) of this replica. `refresh()` reloads from the projection; it
 * runs after this replica's own appends, on every `ekm.events.policy.>` message (other replicas'
 * appends) and on a timer as a safety net.
 */
export const ACCESS_DIRECTORY = Symbol('ACCESS_DIRECTORY');
export interface AccessDirectory {
  current(): AccessSnapshot;
  refresh(): Promise<AccessSnapshot>;
}
