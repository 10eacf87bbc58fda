/**
 * Client side of EKM authentication (docs/auth.md): log in with a credential file over
 * `ekm.v1.policy.login` (Ed25519 proof + ephemeral X25519 agreement, reply signed by the pinned service
 * identity), then sign every request with the session (HMAC) and seal its body.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  finishLogin, LOGIN_SUBJECT, LoginReplyError, readCredentialFile, SessionSigner, startLogin, type CredentialFile, type LoginReply, type SessionSource,
} from '@ekm/auth/client';
import { isReply } from '@ekm/contracts';
import { EkmError } from './ekm-error';
import { toTransportError } from './transport-error';

/**
 * A session source that logs in with `file` on `nc` (fresh proof and agreement key each time). The
 * reply must be signed by `serviceKey` (the pinned service identity), else the login fails with
 * `EKM_SERVICE_UNTRUSTED`: a rogue responder on the login subject cannot hand out a session.
 */
export function loginSessionSource(nc: NatsConnection, file: CredentialFile, timeoutMs = 5000, serviceKey?: string): SessionSource {
  const pin = serviceKey ?? file.serviceKey;
  if (pin === undefined) {
    throw new EkmError({ code: 'EKM_VALIDATION', message: `credentials of ${file.principalId} name no serviceKey to pin and none was given (option serviceKey or EKM_SERVICE_KEY); refusing to log in to an unauthenticated service` });
  }
  return async () => {
    const started = startLogin(file);
    let msg;
    try {
      msg = await nc.request(LOGIN_SUBJECT, JSON.stringify(started.request), { timeout: timeoutMs });
    } catch (err) {
      throw toTransportError(err, LOGIN_SUBJECT, timeoutMs);
    }
    let reply: unknown;
    try {
      reply = msg.json();
    } catch {
      reply = undefined;
    }
    if (!isReply(reply)) throw new EkmError({ code: 'EKM_INTERNAL', message: `malformed reply on ${LOGIN_SUBJECT}` });
    if (!reply.ok) throw new EkmError(reply.error);
    try {
      return finishLogin(started, reply.data as LoginReply, pin);
    } catch (err) {
      if (err instanceof LoginReplyError) throw new EkmError({ code: err.code, message: err.message });
      throw err;
    }
  };
}

/** Credentials given to the SDK: a parsed file, a path, or a ready signer (services use `serviceSessionSource`). */
export type ClientCredentials = CredentialFile | string | SessionSigner;

/** The signer for `credentials` (a path is read now; mode 0600 is required). `undefined` = unsigned. */
export function signerFor(nc: NatsConnection, credentials: ClientCredentials | undefined, timeoutMs?: number, serviceKey?: string): SessionSigner | undefined {
  if (credentials === undefined) return undefined;
  if (credentials instanceof SessionSigner) return credentials;
  const file = typeof credentials === 'string' ? readCredentialFile(credentials) : credentials;
  return new SessionSigner(loginSessionSource(nc, file, timeoutMs, serviceKey));
}
