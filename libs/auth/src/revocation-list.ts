/**
 * Revoked principals, credentials and sessions as this replica knows them. Fed by the policy service's
 * revocation events (`ekm.events.policy.PrincipalRevoked|CredentialRevoked|SessionRevoked`). An entry
 * only needs to outlive the sessions it kills: it is dropped `retentionMs` (longest session lifetime
 * plus skew) after it was learnt, since no session issued before the revocation can still be valid then
 * and the policy service refuses new logins of revoked principals and credentials.
 */
import { AuthFailureReason } from './auth.types';
import type { SessionClaims } from './session-token';

/** A revocation as carried by the policy service's events. */
export type Revocation =
  | { readonly kind: 'principal'; readonly principalId: string }
  | { readonly kind: 'credential'; readonly credentialId: string }
  | { readonly kind: 'session'; readonly sessionId: string };

/** Event types the policy service publishes for revocations, and the field each carries. */
export const REVOCATION_EVENT_TYPES = ['PrincipalRevoked', 'CredentialRevoked', 'SessionRevoked'] as const;

/** Maps a relayed policy event (type + data) to a revocation; `null` for other events or bad data. */
export function revocationOf(type: string, data: unknown): Revocation | null {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  switch (type) {
    case 'PrincipalRevoked':
      return str(d.principalId) ? { kind: 'principal', principalId: d.principalId } : null;
    case 'CredentialRevoked':
      return str(d.credentialId) ? { kind: 'credential', credentialId: d.credentialId } : null;
    case 'SessionRevoked':
      return str(d.sessionId) ? { kind: 'session', sessionId: d.sessionId } : null;
    default:
      return null;
  }
}

export class RevocationList {
  private readonly entries = new Map<string, number>();

  constructor(private readonly retentionMs: number) {}

  add(r: Revocation, now: number = Date.now()): void {
    const key = keyOf(r);
    this.entries.delete(key); // re-insert at the end: the map stays ordered by expiry
    this.entries.set(key, now + this.retentionMs);
  }

  /** Why these claims are revoked, or `null`. */
  check(c: SessionClaims, now: number = Date.now()): AuthFailureReason | null {
    this.sweep(now);
    if (this.entries.has(`p:${c.principalId}`)) return AuthFailureReason.PrincipalRevoked;
    if (c.credentialId !== undefined && this.entries.has(`c:${c.credentialId}`)) return AuthFailureReason.CredentialRevoked;
    if (this.entries.has(`s:${c.sessionId}`)) return AuthFailureReason.SessionRevoked;
    return null;
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(now: number): void {
    for (const [key, expiry] of this.entries) {
      if (expiry > now) break;
      this.entries.delete(key);
    }
  }
}

function keyOf(r: Revocation): string {
  switch (r.kind) {
    case 'principal':
      return `p:${r.principalId}`;
    case 'credential':
      return `c:${r.credentialId}`;
    case 'session':
      return `s:${r.sessionId}`;
  }
}
