/**
 * `ekm.v1.policy.login` (the one subject without a session; docs/auth.md): verifies the Ed25519 login
 * proof against the credential's stored verifier and answers with a session (token + HMAC key, SECRET,
 * in the reply only). Refused: unknown or revoked principal, unknown, revoked or expired (rotated out)
 * credential, bad proof — all with one message, so a caller cannot probe which principals exist —
 * a clock skew over 30 s, and a replayed proof (nonce per credential). Tenant and roles of the session
 * come from the directory.
 */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuthFailureReason, LoginRequestSchema, NonceCache, resolveAuthSecret, SessionSealer, verifyLoginProof, type LoginReply } from '@ekm/auth';
import type { ServiceConfig } from '@ekm/config';
import { ok, parseRequest, subject, type Reply } from '@ekm/contracts';
import { SERVICE_CONFIG, unauthenticated } from '@ekm/service-kit';
import { isCredentialValid } from '../../domain';
import { ACCESS_DIRECTORY, type AccessDirectory } from '../../application/access.ports';

@Controller()
export class LoginController {
  private sealer: SessionSealer | null = null;
  private readonly nonces = new NonceCache();

  constructor(
    @Inject(ACCESS_DIRECTORY) private readonly directory: AccessDirectory,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @MessagePattern(subject('policy', 'login'))
  login(@Payload() body: unknown): Reply<LoginReply> {
    const req = parseRequest(LoginRequestSchema, body);
    if (!req.ok) return req;
    const now = Date.now();
    const p = this.directory.current().principals.get(req.data.principalId);
    const credential = p?.credentials.find((c) => c.credentialId === req.data.credentialId);
    if (p === undefined || p.status !== 'Active' || credential === undefined || !isCredentialValid(credential, new Date(now).toISOString())) {
      return unauthenticated(AuthFailureReason.PrincipalUnknown);
    }
    const proof = verifyLoginProof(req.data, credential.publicKey, now);
    if (!proof.ok) return unauthenticated(proof.reason);
    const claim = this.nonces.claim(credential.credentialId, req.data.nonce, now);
    if (claim === 'replayed') return unauthenticated(AuthFailureReason.Replayed);
    if (claim === 'full') return unauthenticated(AuthFailureReason.ReplayCacheFull);
    const s = this.sealerNow().issue({ principalId: p.principalId, credentialId: credential.credentialId, tenant: p.tenant, roles: p.roles, ttlMs: this.config.sessionTtlMs, now });
    return ok({
      sessionToken: s.token, sessionKey: s.sessionKey.toString('base64url'), sessionId: s.claims.sessionId,
      principalId: p.principalId, tenant: p.tenant, roles: p.roles, expiresAt: new Date(s.claims.expiresAt).toISOString(),
    });
  }

  private sealerNow(): SessionSealer {
    this.sealer ??= new SessionSealer(resolveAuthSecret({ ...(this.config.authSecret !== undefined ? { secret: this.config.authSecret } : {}), env: this.config.env, dataDir: this.config.dataDir }));
    return this.sealer;
  }
}
