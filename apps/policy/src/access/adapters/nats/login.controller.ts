/**
 * `ekm.v1.policy.login` (the one subject without a session; docs/auth.md): verifies the Ed25519 login
 * proof against the credential's stored verifier, completes the X25519 agreement with the client's
 * ephemeral key (the session key is derived on both sides, never sent; the token carries it wrapped
 * for the services) and signs the reply with the service identity the client pins. Refused: unknown or revoked principal, unknown, revoked or expired (rotated out)
 * credential, bad proof — all with one message, so a caller cannot probe which principals exist —
 * a clock skew over 30 s, and a replayed proof (nonce per credential). Tenant and roles of the session
 * come from the directory.
 *
 * Login is the one subject the transport cannot rate-limit by principal (there is none yet), and its
 * Ed25519 verify is the most expensive check EKM makes per request: each existing credential has its own
 * token bucket (EKM_LOGIN_RATE_LIMIT_RPS / _BURST), keyed by the claimed principal and credential ids and
 * taken before the directory lookup, so that a refusal reveals nothing about whether they exist (made-up
 * ids cost a bucket in a bounded LRU map, never a verify). A refusal is EKM_RATE_LIMITED with
 * `details.retryAfterMs`, as everywhere.
 *
 * Every refused login (bad body, unknown principal, bad proof, skew, replay) is an AuthenticationFailed
 * trail entry, rate-limited per claimed principal (ACCESS_REFUSALS) so a flood cannot fill the trail. The
 * proof's nonce is claimed in the shared nonce table (NONCE_STORE) after the in-memory cache, so a login
 * replayed to another policy replica, or after a restart, is refused too.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  agreementKeyPair, AuthFailureReason, deriveSessionKey, MAX_CLOCK_SKEW_MS, NonceCache, resolveAuthSecret, SessionSealer, verifyLoginProof,
  type ServiceIdentity, type SharedNonceStore,
} from '@ekm/auth';
import type { ServiceConfig } from '@ekm/config';
import { BusErrorCode, fail, LoginRequest, ok, parseRequest, subject, type LoginReply, type Reply } from '@ekm/contracts';
import { ACCESS_REFUSALS, KeyedBuckets, LOGGER, NONCE_STORE, SERVICE_CONFIG, unauthenticated, type AccessRefusals } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { isCredentialValid } from '../../domain';
import { ACCESS_DIRECTORY, type AccessDirectory } from '../../application/access.ports';
import { serviceIdentityOf } from '../runtime/service-identity';

const LOGIN = subject('policy', 'login');

@Controller()
export class LoginController {
  private sealer: SessionSealer | null = null;
  private identity: ServiceIdentity | null = null;
  private readonly nonces = new NonceCache();
  private readonly logins: KeyedBuckets | null;

  constructor(
    @Inject(ACCESS_DIRECTORY) private readonly directory: AccessDirectory,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig<'policy'>,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ACCESS_REFUSALS) private readonly refusals: AccessRefusals,
    @Inject(NONCE_STORE) private readonly sharedNonces: SharedNonceStore,
  ) {
    const limits = config.loginRateLimit;
    this.logins = limits ? new KeyedBuckets(limits) : null;
  }

  @MessagePattern(subject('policy', 'login'))
  async login(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<LoginReply>> {
    const req = parseRequest(LoginRequest, body);
    if (!req.ok) {
      const claimed = typeof body === 'object' && body !== null ? (body as { principalId?: unknown }).principalId : undefined;
      this.refusals.loginFailed(ctx, LOGIN, AuthFailureReason.MalformedCredentials, typeof claimed === 'string' && claimed.length <= 200 ? claimed : undefined);
      return req;
    }
    const refuse = (reason: AuthFailureReason): Reply<never> => {
      this.refusals.loginFailed(ctx, LOGIN, reason, req.data.principalId);
      return unauthenticated(reason);
    };
    // Before the lookup, keyed by the CLAIMED ids: a refusal then says nothing about whether they exist.
    const limited = this.takeLoginToken(req.data.credentialId, req.data.principalId);
    if (limited) return limited;
    const now = Date.now();
    const p = this.directory.current().principals.get(req.data.principalId);
    const credential = p?.credentials.find((c) => c.credentialId === req.data.credentialId);
    if (p === undefined || p.status !== 'Active' || credential === undefined || !isCredentialValid(credential, new Date(now).toISOString())) {
      return refuse(AuthFailureReason.PrincipalUnknown);
    }
    const proof = verifyLoginProof(req.data, credential.publicKey, now);
    if (!proof.ok) return refuse(proof.reason);
    const claim = this.nonces.claim(credential.credentialId, req.data.nonce, now);
    if (claim === 'replayed') return refuse(AuthFailureReason.Replayed);
    if (claim === 'full') return refuse(AuthFailureReason.ReplayCacheFull);
    const shared = await this.sharedNonces.claim({ scope: `login:${credential.credentialId}`, nonce: req.data.nonce, expiresAt: req.data.timestamp + MAX_CLOCK_SKEW_MS });
    if (shared === 'replayed') return refuse(AuthFailureReason.Replayed);
    if (shared === 'unavailable') return refuse(AuthFailureReason.ReplayStoreUnavailable);
    const server = agreementKeyPair();
    let sessionKey: Buffer;
    try {
      sessionKey = deriveSessionKey(server.privateKey, req.data.clientKey, req.data.clientKey, server.publicKey);
    } catch {
      return fail(BusErrorCode.MalformedRequest, 'clientKey is not a usable X25519 public key');
    }
    const s = this.sealerNow().issue({ principalId: p.principalId, credentialId: credential.credentialId, tenant: p.tenant, roles: p.roles, ttlMs: this.config.sessionTtlMs, now, sessionKey });
    sessionKey.fill(0);
    const expiresAt = new Date(s.claims.expiresAt).toISOString();
    return ok({
      sessionToken: s.token, serverKey: server.publicKey, serviceSignature: this.identityNow().signLoginReply(req.data.signature, server.publicKey, s.token, expiresAt),
      sessionId: s.claims.sessionId, principalId: p.principalId, tenant: p.tenant, roles: p.roles, expiresAt,
    });
  }

  private takeLoginToken(credentialId: string, principalId: string): Reply<never> | null {
    if (this.logins === null) return null;
    const r = this.logins.take(`${principalId}\u0000${credentialId}`, performance.now());
    if (r.ok) return null;
    const { ratePerSecond, burst } = this.logins.limits;
    // At most one line per claimed credential per minute; ids only (as claimed), never the proof.
    if (r.report) this.logger.warn({ event: 'login-rate-limited', principalId, credentialId, refused: r.report.refused, ratePerSecond, burst }, 'logins refused: credential over its login rate limit');
    return fail(BusErrorCode.RateLimited, `too many logins with this credential (${ratePerSecond}/s, burst ${burst}); retry after ${r.retryAfterMs} ms`,
      { scope: 'login', retryAfterMs: r.retryAfterMs, ratePerSecond, burst });
  }

  private sealerNow(): SessionSealer {
    this.sealer ??= new SessionSealer(resolveAuthSecret({ ...(this.config.authSecret !== undefined ? { secret: this.config.authSecret } : {}), env: this.config.env, dataDir: this.config.dataDir }));
    return this.sealer;
  }

  private identityNow(): ServiceIdentity {
    this.identity ??= serviceIdentityOf(this.config);
    return this.identity;
  }
}
