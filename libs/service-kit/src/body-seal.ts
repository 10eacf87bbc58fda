/**
 * The transport's side of sealed bodies (docs/auth.md §4a): a request marked `Ekm-Seal: v1` is opened
 * under its session (after authentication) and its reply is sealed back under the same session, bound
 * to the request subject and `Ekm-Request-Id`. With authentication on, an operation that carries key
 * material or plaintext (`SEALED_SUBJECTS`) is refused unsealed, before its body is read.
 */
import type { Msg } from '@nats-io/transport-node';
import { openBody, SEAL_HEADER, SEAL_VERSION, sealBody, sealKeyOf } from '@ekm/auth';
import { BusErrorCode, fail, mustBeSealed, REQUEST_ID_HEADER, type FailReply } from '@ekm/contracts';

/** Seals one reply. */
export interface BodySeal {
  readonly headers: ReadonlyArray<readonly [string, string]>;
  seal(text: string): Uint8Array;
}

/** Outcome of {@link bodySeal}: `plain` is the opened request body when it was sealed. */
export type OpenedBody = { readonly ok: true; readonly plain?: Buffer; readonly seal?: BodySeal } | { readonly ok: false; readonly reply: FailReply };

// One HKDF per session, not per request: the authenticator hands out the same Buffer per cached token.
const sealKeys = new WeakMap<Buffer, Buffer>();

function sealKeyFor(sessionKey: Buffer): Buffer {
  let k = sealKeys.get(sessionKey);
  if (!k) {
    k = sealKeyOf(sessionKey);
    sealKeys.set(sessionKey, k);
  }
  return k;
}

/** Opens `msg` when sealed; refuses an unsealed body where sealing is required (`authRequired`). */
export function bodySeal(msg: Msg, sessionKey: Buffer | undefined, authRequired: boolean): OpenedBody {
  const h = msg.headers;
  const marked = h?.has(SEAL_HEADER) === true;
  if (!marked) {
    if (authRequired && sessionKey && mustBeSealed(msg.subject)) {
      return { ok: false, reply: fail(BusErrorCode.SealRequired, `${msg.subject} carries key material or plaintext: seal the body under the session (Ekm-Seal: v1, docs/auth.md)`) };
    }
    return { ok: true };
  }
  if (h.get(SEAL_HEADER) !== SEAL_VERSION) return { ok: false, reply: fail(BusErrorCode.MalformedRequest, `unknown ${SEAL_HEADER} version; this service speaks ${SEAL_VERSION}`) };
  if (!sessionKey) return { ok: false, reply: fail(BusErrorCode.MalformedRequest, 'a sealed body needs a session (this service runs without authentication)') };
  const requestId = h.has(REQUEST_ID_HEADER) ? h.get(REQUEST_ID_HEADER) : '';
  const key = sealKeyFor(sessionKey);
  let plain: Buffer;
  try {
    plain = openBody(key, 'request', msg.subject, requestId, msg.data);
  } catch {
    return { ok: false, reply: fail(BusErrorCode.MalformedRequest, 'the sealed body does not open under this session for this subject and Ekm-Request-Id') };
  }
  const subject = msg.subject;
  return {
    ok: true,
    plain,
    seal: { headers: [[SEAL_HEADER, SEAL_VERSION]], seal: (text) => sealBody(key, 'reply', subject, requestId, Buffer.from(text, 'utf8')) },
  };
}
