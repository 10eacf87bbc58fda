/**
 * SigV4 login (`ekm.v1.policy.access-key-login`): the HTTPS edge sends what it received — access key id,
 * credential scope, string to sign, signature — and gets a bus session for the key's principal, opened
 * `via: kms-api`. The secret never leaves this service: it is unwrapped here, used, and zeroed.
 * Refused (each recorded as AuthenticationFailed): unknown key, deleted key or revoked principal, a scope
 * or time that does not match the string to sign, a request time over 5 minutes away, a wrong signature,
 * and a signature already used (replay window: the skew both ways).
 */
import {
  agreementKeyPair, AuthFailureReason, deriveSessionKey, NonceCache, parseAmzDate, SIGV4_MAX_SKEW_MS, sigV4ScopeProblem, verifySigV4, type LoginReply, type ServiceIdentity, type SessionSealer,
} from '@ekm/auth';
import type { AccessDirectory } from '../../access/application/access.ports';
import type { AccessKeyStore, SecretBox } from './access-key.ports';
import { secretStringOf } from './access-key-admin.use-cases';

export interface SigV4LoginInput {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly stringToSign: string;
  readonly signature: string;
  /** The edge's ephemeral X25519 public key (base64url): the session key is agreed, never sent. */
  readonly clientKey: string;
}

/** The same reply as the Ed25519 login's (docs/auth.md §3): the edge derives the session key and checks the service signature, which covers the SigV4 signature. */
export type SigV4Session = LoginReply;

export type SigV4LoginResult =
  | { readonly ok: true; readonly session: SigV4Session }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly principalId?: string; readonly detail: string };

/** The edge name recorded in sessions, events and audit entries. */
export const KMS_API_VIA = 'kms-api';

export class SigV4Login {
  private readonly signatures = new NonceCache(1_000_000, SIGV4_MAX_SKEW_MS);

  constructor(
    private readonly keys: AccessKeyStore,
    private readonly box: SecretBox,
    private readonly directory: AccessDirectory,
    private readonly sealer: () => SessionSealer,
    private readonly sessionTtlMs: number,
    private readonly identity: () => ServiceIdentity,
    private readonly clock: () => number = Date.now,
  ) {}

  async login(r: SigV4LoginInput): Promise<SigV4LoginResult> {
    const now = this.clock();
    if (r.service !== 'kms') return refuse(AuthFailureReason.MalformedCredentials, `the credential scope names service ${r.service}; this endpoint is kms`);
    const problem = sigV4ScopeProblem(r.stringToSign, r);
    if (problem !== null) return refuse(AuthFailureReason.MalformedCredentials, problem);
    const at = parseAmzDate(r.stringToSign.split('\n')[1]);
    if (at === null || Math.abs(now - at) > SIGV4_MAX_SKEW_MS) return refuse(AuthFailureReason.TimestampSkew, 'Signature expired: the request time is more than 5 minutes away from the server clock');
    const row = await this.keys.get(r.accessKeyId);
    if (row === null) return refuse(AuthFailureReason.AccessKeyUnknown, 'The security token included in the request is invalid.');
    const p = this.directory.current().principals.get(row.principalId);
    if (row.wrappedSecret === null || p === undefined || p.status !== 'Active') {
      return refuse(AuthFailureReason.AccessKeyRevoked, 'The security token included in the request is invalid.', row.principalId);
    }
    const material = await this.box.unwrap(row.wrappedSecret);
    let valid: boolean;
    try {
      valid = verifySigV4(secretStringOf(material), r, r.stringToSign, r.signature);
    } finally {
      material.fill(0);
    }
    if (!valid) return refuse(AuthFailureReason.SignatureInvalid, 'The request signature we calculated does not match the signature you provided.', row.principalId);
    // After the verify, so made-up signatures cannot fill the cache.
    const claim = this.signatures.claim(r.accessKeyId, r.signature, now);
    if (claim === 'replayed') return refuse(AuthFailureReason.Replayed, 'This request was already received (same signature inside the 5 minute window); sign every request afresh.', row.principalId);
    if (claim === 'full') return refuse(AuthFailureReason.ReplayCacheFull, 'The service cannot check for replays right now; retry later.', row.principalId);
    const server = agreementKeyPair();
    let sessionKey: Buffer;
    try {
      sessionKey = deriveSessionKey(server.privateKey, r.clientKey, r.clientKey, server.publicKey);
    } catch {
      return refuse(AuthFailureReason.MalformedCredentials, 'clientKey is not a usable X25519 public key');
    }
    const s = this.sealer().issue({ principalId: p.principalId, credentialId: r.accessKeyId, tenant: p.tenant, roles: p.roles, ttlMs: this.sessionTtlMs, now, via: KMS_API_VIA, sessionKey });
    sessionKey.fill(0);
    const expiresAt = new Date(s.claims.expiresAt).toISOString();
    return {
      ok: true,
      session: {
        sessionToken: s.token, serverKey: server.publicKey, serviceSignature: this.identity().signLoginReply(r.signature, server.publicKey, s.token, expiresAt),
        sessionId: s.claims.sessionId, principalId: p.principalId, tenant: p.tenant, roles: p.roles, expiresAt,
      },
    };
  }
}

function refuse(reason: AuthFailureReason, detail: string, principalId?: string): SigV4LoginResult {
  return { ok: false, reason, detail, ...(principalId !== undefined ? { principalId } : {}) };
}
