/**
 * Client side of EKM authentication (docs/auth.md): log in with a credential file over
 * `ekm.v1.policy.login` (Ed25519 proof), then sign every request with the session (HMAC).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  LOGIN_SUBJECT, readCredentialFile, sessionOfLoginReply, SessionSigner, signLoginRequest, type CredentialFile, type LoginReply, type SessionSource,
} from '@ekm/auth/client';
import { isReply } from '@ekm/contracts';
import { EkmError } from './ekm-error';

/** A session source that logs in with `file` on `nc` (fresh proof each time). */
export function loginSessionSource(nc: NatsConnection, file: CredentialFile, timeoutMs = 5000): SessionSource {
  return async () => {
    let msg;
    try {
      msg = await nc.request(LOGIN_SUBJECT, JSON.stringify(signLoginRequest(file)), { timeout: timeoutMs });
    } catch (err) {
      throw new EkmError({ code: 'EKM_UNAVAILABLE', message: `login failed: no reply on ${LOGIN_SUBJECT} (${err instanceof Error ? err.message : String(err)})` });
    }
    const reply: unknown = msg.json();
    if (!isReply(reply)) throw new EkmError({ code: 'EKM_INTERNAL', message: `malformed reply on ${LOGIN_SUBJECT}` });
    if (!reply.ok) throw new EkmError(reply.error);
    return sessionOfLoginReply(reply.data as LoginReply);
  };
}

/** Credentials given to the SDK: a parsed file, a path, or a ready signer (services use `serviceSessionSource`). */
export type ClientCredentials = CredentialFile | string | SessionSigner;

/** The signer for `credentials` (a path is read now; mode 0600 is required). `undefined` = unsigned. */
export function signerFor(nc: NatsConnection, credentials: ClientCredentials | undefined, timeoutMs?: number): SessionSigner | undefined {
  if (credentials === undefined) return undefined;
  if (credentials instanceof SessionSigner) return credentials;
  const file = typeof credentials === 'string' ? readCredentialFile(credentials) : credentials;
  return new SessionSigner(loginSessionSource(nc, file, timeoutMs));
}
