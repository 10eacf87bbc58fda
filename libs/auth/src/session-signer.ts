/**
 * Signs outgoing requests with a session, renewing it before expiry. Two sources of sessions:
 * - {@link loginSessionSource}: a principal's credential file, via `ekm.v1.policy.login` (SDK, CLI);
 * - {@link serviceSessionSource}: a service calling another service (keys → policy Decide, rotation →
 *   keys Rotate) mints its own session with the shared secret, as principal `service:<name>`, tenant
 *   `*`, role `service`; no login round trip and no credential file to distribute.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_SESSION_TTL_MS } from './auth.types';
import { sealBody, sealKeyOf } from './bus-seal';
import { signRequest, type SignedHeaders } from './request-signature';
import type { SessionSealer } from './session-token';

/** A session usable for signing. */
export interface ActiveSession {
  readonly token: string;
  readonly sessionKey: Buffer;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** Produces a fresh session (login, or local minting). */
export type SessionSource = () => Promise<ActiveSession>;

/** A service's own session, minted locally under the shared secret. */
export function serviceSessionSource(sealer: SessionSealer, service: string, ttlMs = DEFAULT_SESSION_TTL_MS): SessionSource {
  return () => {
    const s = sealer.issue({ principalId: `service:${service}`, tenant: '*', roles: ['service'], ttlMs });
    return Promise.resolve({ token: s.token, sessionKey: s.sessionKey, expiresAt: s.claims.expiresAt });
  };
}

export class SessionSigner {
  private current: ActiveSession | null = null;
  private pending: Promise<ActiveSession> | null = null;
  private readonly sealKeys = new WeakMap<ActiveSession, Buffer>();

  /** `refreshBeforeMs`: renew when less than this remains (default 60 s). */
  constructor(private readonly source: SessionSource, private readonly refreshBeforeMs?: number, private readonly clock: () => number = Date.now) {}

  /** The session to sign with now; logs in (single flight) when there is none or it is about to expire. */
  async session(): Promise<ActiveSession> {
    const s = this.current;
    if (s && !this.dueForRenewal(s)) return s;
    this.pending ??= this.source().then((fresh) => {
      this.current = fresh;
      return fresh;
    }).finally(() => {
      this.pending = null;
    });
    // A still-valid session keeps serving while a renewal runs (its failure surfaces on the next call).
    if (s && this.clock() < s.expiresAt - 5000) {
      this.pending.catch(() => undefined);
      return s;
    }
    return this.pending;
  }

  /** Forget the session (after `SESSION_*` refusals): the next call logs in again. */
  invalidate(): void {
    this.current = null;
  }

  /**
   * Signs one request body for `subject`. `requestId` is the `Ekm-Request-Id` the request carries (it is
   * signed and returned among the headers); omit it only for a request sent without one.
   */
  async sign(subject: string, body: Uint8Array, requestId?: string): Promise<SignedHeaders> {
    const s = await this.session();
    return signRequest(s, subject, body, { now: this.clock(), nonce: randomBytes(16).toString('base64url'), ...(requestId !== undefined ? { requestId } : {}) });
  }

  /**
   * Seals `plain` for `subject`/`requestId` under the current session and signs the sealed bytes
   * (docs/auth.md §4a). Returns the AEAD key too, to open the reply with.
   */
  async sealAndSign(subject: string, requestId: string, plain: Uint8Array): Promise<{ headers: SignedHeaders; body: Buffer; sealKey: Buffer }> {
    const s = await this.session();
    const sealKey = this.sealKeyFor(s);
    const body = sealBody(sealKey, 'request', subject, requestId, plain);
    return { headers: signRequest(s, subject, body, { now: this.clock(), nonce: randomBytes(16).toString('base64url'), requestId }), body, sealKey };
  }

  private sealKeyFor(s: ActiveSession): Buffer {
    let k = this.sealKeys.get(s);
    if (!k) {
      k = sealKeyOf(s.sessionKey);
      this.sealKeys.set(s, k);
    }
    return k;
  }

  private dueForRenewal(s: ActiveSession): boolean {
    const left = s.expiresAt - this.clock();
    const before = this.refreshBeforeMs ?? 60_000;
    return left <= before;
  }
}
