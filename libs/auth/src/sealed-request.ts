/**
 * One signed and sealed request for a session (docs/auth.md §4, §4a), for callers that hold an
 * `ActiveSession` themselves (harnesses, raw clients); the SDK does the same through `SessionSigner`.
 */
import { randomBytes } from 'node:crypto';
import { openBody, SEAL_HEADER, SEAL_VERSION, sealBody, sealKeyOf } from './bus-seal';
import { signRequest } from './request-signature';
import type { ActiveSession } from './session-signer';

/** Headers (signature, request id, seal marker) and the sealed body of one request. */
export interface SealedRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Opens the reply body when it is sealed (returns its JSON text). @throws SealError when it does not open. */
  openReply(data: Uint8Array, sealHeader: string | undefined): string;
}

const keys = new WeakMap<ActiveSession, Buffer>();

export function sealedRequest(session: ActiveSession, subject: string, requestId: string, plain: Uint8Array, now: number = Date.now()): SealedRequest {
  let key = keys.get(session);
  if (!key) {
    key = sealKeyOf(session.sessionKey);
    keys.set(session, key);
  }
  const sealKey = key;
  const body = sealBody(sealKey, 'request', subject, requestId, plain);
  return {
    headers: { ...signRequest(session, subject, body, { now, nonce: randomBytes(16).toString('base64url'), requestId }), 'Ekm-Request-Id': requestId, [SEAL_HEADER]: SEAL_VERSION },
    body,
    openReply: (data, sealHeader) => (sealHeader === SEAL_VERSION ? openBody(sealKey, 'reply', subject, requestId, data).toString('utf8') : Buffer.from(data).toString('utf8')),
  };
}
