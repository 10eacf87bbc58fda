/**
 * Verifies one request before its handler runs (transport hook). Pure apart from the clock it is given:
 * no I/O, so the same code serves every transport and is unit-testable. Order of checks: headers present
 * and well-formed → session token MAC (cached per token) → expiry → revocation → clock skew → HMAC
 * (constant time) → nonce. The nonce is claimed only after the signature verified, so nobody without
 * the session key can fill the replay cache.
 */
import {
  ANONYMOUS_PRINCIPAL, AuthFailureReason, DEV_PRINCIPAL_HEADER, LOGIN_SUBJECT, MAX_CLOCK_SKEW_MS, SIGV4_LOGIN_SUBJECT, NONCE_HEADER, NONCE_PATTERN, REQUEST_ID_SIGNED_HEADER,
  REQUEST_ID_SYNTAX, SESSION_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, type AuthenticatedPrincipal, type AuthMode,
} from './auth.types';
import { NonceCache } from './nonce-cache';
import { signatureMatches } from './request-signature';
import type { RevocationList } from './revocation-list';
import { principalOfClaims, type OpenedSession, type SessionClaims, type SessionSealer } from './session-token';

/** Reads one header; `undefined` or '' when absent. */
export type HeaderReader = (name: string) => string | undefined;

/** The request as the transport saw it. */
export interface IncomingRequest {
  readonly subject: string;
  readonly header: HeaderReader;
  readonly body: Uint8Array;
}

/**
 * A nonce this replica accepted, for the shared replay store ({@link SharedNonceStore}) to claim across
 * replicas and restarts: `scope` is the session id, `expiresAt` the last instant a request with this
 * timestamp can pass the skew check (timestamp + skew), after which the entry may be forgotten.
 */
export interface NonceUse {
  readonly scope: string;
  readonly nonce: string;
  readonly expiresAt: number;
}

/** Outcome of {@link RequestAuthenticator.authenticate}. `principalClaimed` is for the failure record only. */
export type AuthResult =
  | { readonly ok: true; readonly principal: AuthenticatedPrincipal | null; /** The session's key (to open and seal bodies); absent without a session. SECRET. */ readonly sessionKey?: Buffer; readonly nonce?: NonceUse }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly principalClaimed?: string; readonly tenantClaimed?: string };

const DEV_PRINCIPAL = /^[A-Za-z0-9._:@/-]{1,200}$/;
const TIMESTAMP = /^\d{1,16}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

export interface RequestAuthenticatorOptions {
  readonly mode: AuthMode;
  /** Required when mode is `required`. */
  readonly sealer?: SessionSealer;
  readonly revocations?: RevocationList;
  readonly nonces?: NonceCache;
  /** Most session tokens kept opened in memory. Default 10,000. */
  readonly sessionCacheMax?: number;
  readonly clock?: () => number;
}

/** True for the subjects that take no session: the logins. (HTTP health is not on the bus.) */
export function isUnauthenticatedSubject(subject: string): boolean {
  return subject === LOGIN_SUBJECT || subject === SIGV4_LOGIN_SUBJECT;
}

export class RequestAuthenticator {
  readonly mode: AuthMode;
  private readonly sessions = new Map<string, OpenedSession>();
  private readonly nonces: NonceCache;
  private readonly clock: () => number;

  constructor(private readonly opts: RequestAuthenticatorOptions) {
    if (opts.mode === 'required' && !opts.sealer) throw new Error('RequestAuthenticator: mode required needs a SessionSealer');
    this.mode = opts.mode;
    this.nonces = opts.nonces ?? new NonceCache();
    this.clock = opts.clock ?? Date.now;
  }

  authenticate(req: IncomingRequest): AuthResult {
    if (this.mode === 'disabled') {
      const claimed = req.header(DEV_PRINCIPAL_HEADER);
      return { ok: true, principal: claimed && DEV_PRINCIPAL.test(claimed) ? { ...ANONYMOUS_PRINCIPAL, principalId: claimed } : ANONYMOUS_PRINCIPAL };
    }
    if (isUnauthenticatedSubject(req.subject)) return { ok: true, principal: null };
    const token = req.header(SESSION_HEADER);
    const timestamp = req.header(TIMESTAMP_HEADER);
    const nonce = req.header(NONCE_HEADER);
    const signature = req.header(SIGNATURE_HEADER);
    if (!token || !timestamp || !nonce || !signature) return { ok: false, reason: AuthFailureReason.MissingCredentials };
    const requestId = req.header(REQUEST_ID_SIGNED_HEADER) ?? '';
    if (!TIMESTAMP.test(timestamp) || !NONCE_PATTERN.test(nonce) || !SIGNATURE.test(signature) || (requestId !== '' && !REQUEST_ID_SYNTAX.test(requestId))) {
      return { ok: false, reason: AuthFailureReason.MalformedCredentials };
    }
    const opened = this.open(token);
    if (!opened.ok) return { ok: false, reason: opened.reason };
    const { claims, sessionKey } = opened;
    const fail = (reason: AuthFailureReason): AuthResult => ({ ok: false, reason, principalClaimed: claims.principalId, tenantClaimed: claims.tenant });
    const now = this.clock();
    if (now >= claims.expiresAt) return fail(AuthFailureReason.SessionExpired);
    const revoked = this.opts.revocations?.check(claims, now);
    if (revoked) return fail(revoked);
    if (Math.abs(now - Number(timestamp)) > MAX_CLOCK_SKEW_MS) return fail(AuthFailureReason.TimestampSkew);
    if (!signatureMatches(sessionKey, { subject: req.subject, timestamp, nonce, requestId }, req.body, signature)) return fail(AuthFailureReason.SignatureInvalid);
    // The local cache refuses a replay to this replica without a round trip; the shared store (when the
    // transport has one) then claims `nonce` for every replica and across restarts.
    const claim = this.nonces.claim(claims.sessionId, nonce, now);
    if (claim === 'replayed') return fail(AuthFailureReason.Replayed);
    if (claim === 'full') return fail(AuthFailureReason.ReplayCacheFull);
    return { ok: true, principal: principalOfClaims(claims), sessionKey, nonce: { scope: claims.sessionId, nonce, expiresAt: Number(timestamp) + MAX_CLOCK_SKEW_MS } };
  }

  /** Opens a token once and caches the result (valid or not) per token string. */
  private open(token: string): OpenedSession {
    const hit = this.sessions.get(token);
    if (hit) return hit;
    const opened = this.opts.sealer!.open(token);
    const max = this.opts.sessionCacheMax ?? 10_000;
    if (this.sessions.size >= max) {
      // Drop the oldest tenth: cheap, and live sessions are re-opened at ~1 µs each.
      let n = Math.ceil(max / 10);
      for (const k of this.sessions.keys()) {
        if (n-- <= 0) break;
        this.sessions.delete(k);
      }
    }
    this.sessions.set(token, opened);
    return opened;
  }

  /** Claims of a cached, valid session token (tests, diagnostics). */
  peek(token: string): SessionClaims | null {
    const o = this.sessions.get(token);
    return o?.ok ? o.claims : null;
  }
}
