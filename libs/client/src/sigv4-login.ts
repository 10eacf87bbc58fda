/**
 * The SigV4 login of an HTTPS edge (apps/kms-api) on `ekm.v1.policy.access-key-login`: the policy service
 * checks the signature with the access key's secret (which only it can unwrap) and answers with a bus
 * session for the key's principal, opened `via: kms-api`. Unsigned, like the Ed25519 login, and like it
 * an X25519 agreement: the edge sends an ephemeral public key, the reply carries the service's and a
 * signature by the pinned service identity, and the session key is derived on both sides, never sent.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { agreementKeyPair, finishLogin, LoginReplyError, SIGV4_LOGIN_SUBJECT, type ActiveSession, type LoginReply, type StartedLogin } from '@ekm/auth/client';
import { isReply } from '@ekm/contracts';
import { EkmError } from './ekm-error';
import { toTransportError } from './transport-error';

/** What the edge received: the parsed credential scope, the string to sign it built, the signature. */
export interface SigV4LoginRequest {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly stringToSign: string;
  readonly signature: string;
  /** Recorded with a refusal. */
  readonly requestId?: string;
}

/** A session for the principal, or the refusal (`reason` is an `AuthFailureReason`; `message` is AWS-worded). */
export type SigV4LoginOutcome =
  | { readonly ok: true; readonly session: ActiveSession; readonly principalId: string; readonly tenant: string }
  | { readonly ok: false; readonly code: string; readonly reason?: string; readonly message: string };

/**
 * `serviceKey`: the pinned service identity (raw Ed25519 public key, base64url).
 * @throws EkmError `EKM_UNAVAILABLE` when no policy service is subscribed, `EKM_TIMEOUT` when it does not
 * answer in `timeoutMs`, `EKM_SERVICE_UNTRUSTED` when
 * the reply is not signed by the pinned identity (a rogue responder).
 */
export async function sigV4Login(nc: NatsConnection, req: SigV4LoginRequest, serviceKey: string, timeoutMs = 5000): Promise<SigV4LoginOutcome> {
  const agreement = agreementKeyPair();
  let msg;
  try {
    msg = await nc.request(SIGV4_LOGIN_SUBJECT, JSON.stringify({ ...req, clientKey: agreement.publicKey }), { timeout: timeoutMs });
  } catch (err) {
    throw toTransportError(err, SIGV4_LOGIN_SUBJECT, timeoutMs);
  }
  const reply: unknown = msg.json();
  if (!isReply(reply)) throw new EkmError({ code: 'EKM_INTERNAL', message: `malformed reply on ${SIGV4_LOGIN_SUBJECT}` });
  if (!reply.ok) {
    const reason = reply.error.details?.reason;
    return { ok: false, code: reply.error.code, message: reply.error.message, ...(typeof reason === 'string' ? { reason } : {}) };
  }
  const data = reply.data as LoginReply;
  // finishLogin reads the request's signature (here the SigV4 one the reply signature covers) and clientKey.
  const started = { request: { signature: req.signature, clientKey: agreement.publicKey }, agreement } as unknown as StartedLogin;
  try {
    return { ok: true, session: finishLogin(started, data, serviceKey), principalId: data.principalId, tenant: data.tenant };
  } catch (err) {
    if (err instanceof LoginReplyError) throw new EkmError({ code: 'EKM_SERVICE_UNTRUSTED', message: err.message });
    throw err;
  }
}
