/**
 * Session tokens: self-contained and MACed with the services' shared secret (EKM_AUTH_SECRET), so any
 * replica of any service opens a token and derives its session key without a lookup.
 *
 *   token      = "ekm1." + b64url(JSON claims) + "." + b64url(HMAC-SHA256(K_token, "ekm1." + b64url(JSON claims)))
 *   K_token    = HMAC-SHA256(secret, "ekm-session-token-v1"),  K_session = HMAC-SHA256(secret, "ekm-session-key-v1")
 *
 * A login session's key comes from the login key agreement (key-agreement.ts) and travels inside the token
 * only wrapped for the services: claim `skw` = b64url(iv ‖ AES-256-GCM(K_wrap, sessionKey) ‖ tag), AAD
 * "ekm-session-wrap-v1\n" + sid, K_wrap = HMAC-SHA256(secret, "ekm-session-wrap-v1"). A service's own
 * session (minted locally, no login) has no `skw`: its key is HMAC-SHA256(K_session, token), derived by
 * every service and never sent anywhere.
 *
 * The other claims are readable by the holder (not encrypted): ids, tenant, roles and times only.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AuthFailureReason, DEFAULT_SESSION_TTL_MS, type AuthenticatedPrincipal } from './auth.types';

/** What a token says. Times are milliseconds since the Unix epoch. */
export interface SessionClaims {
  readonly sessionId: string;
  readonly principalId: string;
  /** Credential the session was opened with (revoking it ends the session). Absent for service sessions. */
  readonly credentialId?: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The edge the session was opened through (`kms-api`); absent for sessions of a bus login. */
  readonly via?: string;
}

/** An issued session: the token for `Ekm-Session` and the key the client signs with. */
export interface IssuedSession {
  readonly token: string;
  /** 32 bytes. SECRET: never sent in the clear (agreed at login, or derived by every service). */
  readonly sessionKey: Buffer;
  readonly claims: SessionClaims;
}

/** Result of {@link SessionSealer.open}. Expiry is checked by the caller against its clock. */
export type OpenedSession = { readonly ok: true; readonly claims: SessionClaims; readonly sessionKey: Buffer } | { readonly ok: false; readonly reason: AuthFailureReason };

const PREFIX = 'ekm1.';
const MAX_TOKEN_CHARS = 4096;

interface WireClaims { sid: string; pid: string; cid?: string; ten: string; rol: string[]; iat: number; exp: number; via?: string; skw?: string }

/** Input of {@link SessionSealer.issue}. */
export interface IssueSessionInput {
  readonly principalId: string;
  readonly credentialId?: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  /** Default 10 minutes. */
  readonly ttlMs?: number;
  /** Default `Date.now()`. */
  readonly now?: number;
  /** Default a random UUID. */
  readonly sessionId?: string;
  /** The edge the session is opened through (MACed with the claims, so the services can trust it). */
  readonly via?: string;
  /** The key agreed at login (32 bytes): carried wrapped in the token. Absent: a service's own session. */
  readonly sessionKey?: Uint8Array;
  /** IV of the wrapped key (worked example and tests only; default 12 random bytes). */
  readonly wrapIv?: Uint8Array;
}

/** Issues and opens session tokens under one shared secret. Holds derived keys only. */
export class SessionSealer {
  readonly #tokenKey: Buffer;
  readonly #sessionKeyKey: Buffer;
  readonly #wrapKey: Buffer;

  /** `secret`: EKM_AUTH_SECRET (at least 32 characters), identical on every service. */
  constructor(secret: string) {
    if (secret.length < 32) throw new Error('the auth secret must have at least 32 characters');
    this.#tokenKey = createHmac('sha256', secret).update('ekm-session-token-v1').digest();
    this.#sessionKeyKey = createHmac('sha256', secret).update('ekm-session-key-v1').digest();
    this.#wrapKey = createHmac('sha256', secret).update('ekm-session-wrap-v1').digest();
  }

  /** Issues a session (login handler, service self-sessions). */
  issue(input: IssueSessionInput): IssuedSession {
    const now = input.now ?? Date.now();
    const claims: SessionClaims = {
      sessionId: input.sessionId ?? randomUUID(),
      principalId: input.principalId,
      ...(input.credentialId !== undefined ? { credentialId: input.credentialId } : {}),
      tenant: input.tenant,
      roles: [...input.roles],
      issuedAt: now,
      expiresAt: now + (input.ttlMs ?? DEFAULT_SESSION_TTL_MS),
      ...(input.via !== undefined ? { via: input.via } : {}),
    };
    const wire: WireClaims = {
      sid: claims.sessionId, pid: claims.principalId, ...(claims.credentialId !== undefined ? { cid: claims.credentialId } : {}),
      ten: claims.tenant, rol: [...claims.roles], iat: claims.issuedAt, exp: claims.expiresAt, ...(claims.via !== undefined ? { via: claims.via } : {}),
      ...(input.sessionKey !== undefined ? { skw: this.wrap(input.sessionKey, claims.sessionId, input.wrapIv) } : {}),
    };
    const body = `${PREFIX}${Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url')}`;
    const token = `${body}.${this.mac(body).toString('base64url')}`;
    return { token, sessionKey: input.sessionKey !== undefined ? Buffer.from(input.sessionKey) : this.sessionKeyOf(token), claims };
  }

  /** Checks the token's MAC and shape (not its expiry) and derives its session key. */
  open(token: string): OpenedSession {
    const invalid = { ok: false, reason: AuthFailureReason.SessionInvalid } as const;
    if (token.length > MAX_TOKEN_CHARS || !token.startsWith(PREFIX)) return invalid;
    const dot = token.lastIndexOf('.');
    if (dot <= PREFIX.length) return invalid;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid;
    let w: WireClaims;
    try {
      w = JSON.parse(Buffer.from(body.slice(PREFIX.length), 'base64url').toString('utf8')) as WireClaims;
    } catch {
      return invalid;
    }
    // The MAC proves who minted it, not its shape (fuzzing: `null` claims threw a TypeError here).
    if (typeof w !== 'object' || w === null || typeof w.sid !== 'string' || typeof w.pid !== 'string' || typeof w.ten !== 'string'
      || !Array.isArray(w.rol) || !w.rol.every((r) => typeof r === 'string') || !Number.isSafeInteger(w.iat) || !Number.isSafeInteger(w.exp)
      || (w.skw !== undefined && typeof w.skw !== 'string')) return invalid;
    const sessionKey = w.skw === undefined ? this.sessionKeyOf(token) : this.unwrap(w.skw, w.sid);
    if (sessionKey === null) return invalid;
    const claims: SessionClaims = {
      sessionId: w.sid, principalId: w.pid, ...(typeof w.cid === 'string' ? { credentialId: w.cid } : {}),
      tenant: w.ten, roles: [...w.rol], issuedAt: w.iat, expiresAt: w.exp, ...(typeof w.via === 'string' ? { via: w.via } : {}),
    };
    return { ok: true, claims, sessionKey };
  }

  private wrap(key: Uint8Array, sessionId: string, iv: Uint8Array = randomBytes(12)): string {
    if (key.length !== 32) throw new Error('a session key is 32 bytes');
    const c = createCipheriv('aes-256-gcm', this.#wrapKey, iv, { authTagLength: 16 });
    c.setAAD(Buffer.from(`ekm-session-wrap-v1\n${sessionId}`, 'utf8'));
    return Buffer.concat([iv, c.update(key), c.final(), c.getAuthTag()]).toString('base64url');
  }

  private unwrap(skw: string, sessionId: string): Buffer | null {
    const b = Buffer.from(skw, 'base64url');
    if (b.length !== 12 + 32 + 16) return null;
    try {
      const d = createDecipheriv('aes-256-gcm', this.#wrapKey, b.subarray(0, 12), { authTagLength: 16 });
      d.setAAD(Buffer.from(`ekm-session-wrap-v1\n${sessionId}`, 'utf8'));
      d.setAuthTag(b.subarray(44));
      const out = d.update(b.subarray(12, 44));
      return Buffer.concat([out, d.final()]);
    } catch {
      return null;
    }
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.#tokenKey).update(body).digest();
  }

  private sessionKeyOf(token: string): Buffer {
    return createHmac('sha256', this.#sessionKeyKey).update(token).digest();
  }
}

/** The principal a handler sees for these claims. */
export function principalOfClaims(c: SessionClaims): AuthenticatedPrincipal {
  return { principalId: c.principalId, tenant: c.tenant, roles: c.roles, sessionId: c.sessionId, ...(c.via !== undefined ? { via: c.via } : {}) };
}
