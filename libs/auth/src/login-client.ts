/**
 * Client side of the login agreement, without I/O: check that the pinned service identity signed the
 * reply, then derive the session key. The SDK's login (libs/client) and the raw-NATS example follow it.
 */
import { deriveSessionKey, verifyLoginReply } from './key-agreement';
import type { LoginReply, StartedLogin } from './login-proof';
import type { ActiveSession } from './session-signer';

/** The login reply is not from the pinned service, or is malformed. Names no key or token. */
export class LoginReplyError extends Error {
  override readonly name = 'LoginReplyError';
  readonly code = 'EKM_SERVICE_UNTRUSTED';
}

/**
 * The session of a login reply, after checking its service signature under `serviceKey` (the pinned
 * raw Ed25519 public key, base64url). @throws LoginReplyError when the signature does not verify
 * (a rogue responder) or the server key is not a usable X25519 key.
 */
export function finishLogin(started: StartedLogin, reply: LoginReply, serviceKey: string): ActiveSession {
  const ok = typeof reply.serverKey === 'string' && typeof reply.serviceSignature === 'string' && typeof reply.sessionToken === 'string' && typeof reply.expiresAt === 'string'
    && verifyLoginReply(serviceKey, reply.serviceSignature, started.request.signature, reply.serverKey, reply.sessionToken, reply.expiresAt);
  if (!ok) throw new LoginReplyError(`the login reply is not signed by the pinned EKM service identity ${serviceKey.slice(0, 8)}…; refusing the session (a rogue responder, or the wrong serviceKey)`);
  let sessionKey: Buffer;
  try {
    sessionKey = deriveSessionKey(started.agreement.privateKey, reply.serverKey, started.request.clientKey, reply.serverKey);
  } catch {
    throw new LoginReplyError('the login reply carries an unusable serverKey');
  }
  const expiresAt = Date.parse(reply.expiresAt);
  if (!Number.isFinite(expiresAt)) throw new LoginReplyError('the login reply has no valid expiresAt');
  return { token: reply.sessionToken, sessionKey, expiresAt };
}
