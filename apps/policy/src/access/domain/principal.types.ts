import type { Event, EventMeta } from '@ekm/event-store';

export type CommandMeta = EventMeta & { readonly now: string };
export type PrincipalKind = 'service' | 'person';

/** Closes exhaustive switches: a new union member fails type-checking here. */
export const assertNever = (value: never): never => {
  throw new Error(`unexpected value: ${JSON.stringify((value as { type?: unknown })?.type ?? value)}`);
};

/** Credentials are stored as verifiers only (the Ed25519 public key); the private key never reaches the service's state. */
export type PrincipalEvent =
  | Event<'PrincipalCreated', { principalId: string; tenant: string; roles: string[]; kind: PrincipalKind; name: string; createdAt: string }>
  | Event<'CredentialIssued', { principalId: string; credentialId: string; publicKey: string; issuedAt: string }>
  | Event<'CredentialRotated', { principalId: string; credentialId: string; publicKey: string; previousCredentialId: string; previousValidUntil: string; issuedAt: string }>
  | Event<'CredentialRevoked', { principalId: string; credentialId: string; reason: string }>
  | Event<'PrincipalRevoked', { principalId: string; reason: string; revokedAt: string }>;

export type PrincipalCommand =
  | { type: 'CreatePrincipal'; data: { principalId: string; tenant: string; roles: string[]; kind: PrincipalKind; name: string; credential: { credentialId: string; publicKey: string } }; meta: CommandMeta }
  | { type: 'RotateCredential'; data: { principalId: string; credential: { credentialId: string; publicKey: string }; graceSeconds: number }; meta: CommandMeta }
  | { type: 'RevokeCredential'; data: { principalId: string; credentialId: string; reason: string }; meta: CommandMeta }
  | { type: 'RevokePrincipal'; data: { principalId: string; reason: string }; meta: CommandMeta };

export interface CredentialState {
  readonly credentialId: string;
  readonly publicKey: string;
  readonly issuedAt: string;
  /** Revoked credentials stay in the state (history); `validUntil` ends a rotated-out credential's grace. */
  readonly status: 'Active' | 'Revoked';
  readonly validUntil: string | null;
}

export interface ExistingPrincipal {
  readonly status: 'Active' | 'Revoked';
  readonly principalId: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly kind: PrincipalKind;
  readonly name: string;
  readonly createdAt: string;
  readonly credentials: ReadonlyMap<string, CredentialState>;
}

export type PrincipalState = { readonly status: 'Absent' } | ExistingPrincipal;

export type PrincipalRejection =
  | { code: 'PRINCIPAL_EXISTS'; principalId: string }
  | { code: 'PRINCIPAL_NOT_FOUND'; principalId: string }
  | { code: 'PRINCIPAL_REVOKED'; principalId: string }
  | { code: 'CREDENTIAL_NOT_FOUND'; principalId: string; credentialId: string }
  | { code: 'CREDENTIAL_REVOKED'; principalId: string; credentialId: string }
  | { code: 'CREDENTIAL_EXISTS'; principalId: string; credentialId: string };

export type PrincipalDecision = { ok: true; events: PrincipalEvent[] } | { ok: false; rejection: PrincipalRejection };

/** Is the credential usable at `now`: not revoked and, after a rotation, still inside its grace period. */
export function isCredentialValid(c: CredentialState, now: string): boolean {
  return c.status === 'Active' && (c.validUntil === null || Date.parse(now) < Date.parse(c.validUntil));
}
