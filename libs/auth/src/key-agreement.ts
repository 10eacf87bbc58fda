/**
 * The login key agreement (docs/auth.md §2): the client sends an ephemeral X25519 public key inside its
 * signed login proof; the policy service answers with its own ephemeral public key and signs the whole
 * exchange with the service identity key (Ed25519) the client has pinned. Both sides then derive
 *
 *   sessionKey = HKDF-SHA256(ikm = X25519(own private, peer public), salt = clientKey ‖ serverKey, info = "ekm-session-key-v2", 32)
 *
 * so the session key never crosses the bus, and a responder without the identity key cannot hand out
 * sessions (its signature does not verify under the pin).
 */
import { createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';

/** PKCS#8 DER prefix of a raw 32-byte X25519 private key. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** PKCS#8 DER prefix of a raw 32-byte Ed25519 seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An ephemeral X25519 key pair (one per login, discarded after the session key is derived). */
export interface AgreementKeyPair {
  readonly privateKey: KeyObject;
  /** Raw 32-byte public key, base64url. */
  readonly publicKey: string;
}

/** A fresh ephemeral X25519 key pair, or the one of a fixed 32-byte private key (worked example, tests). */
export function agreementKeyPair(rawPrivate?: Uint8Array): AgreementKeyPair {
  const privateKey = rawPrivate
    ? createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, Buffer.from(rawPrivate)]), format: 'der', type: 'pkcs8' })
    : generateKeyPairSync('x25519').privateKey;
  return { privateKey, publicKey: rawOkpPublic(createPublicKey(privateKey)) };
}

/** The session key both sides derive. @throws Error when `peerPublic` is not a 32-byte X25519 key (or a low-order point). */
export function deriveSessionKey(own: KeyObject, peerPublic: string, clientKey: string, serverKey: string): Buffer {
  const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerPublic }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: own, publicKey: peer });
  // An all-zero result means a low-order peer key: the "agreement" would be public.
  if (shared.every((b) => b === 0)) throw new Error('X25519 agreement gave the all-zero secret (low-order key)');
  const salt = Buffer.concat([b64uExact(clientKey, 32), b64uExact(serverKey, 32)]);
  return Buffer.from(hkdfSync('sha256', shared, salt, 'ekm-session-key-v2', 32));
}

/** The exact bytes the service identity signs in a login reply (UTF-8). */
export function loginReplyMessage(loginSignature: string, serverKey: string, sessionToken: string, expiresAt: string): string {
  return `ekm-login-reply-v2\n${loginSignature}\n${serverKey}\n${sessionToken}\n${expiresAt}`;
}

/**
 * The service identity: the Ed25519 key that signs login replies. Derived from EKM_AUTH_SECRET, so every
 * replica of the policy service (which must share that secret anyway) has the same identity without a
 * second secret to distribute; anyone with the secret could already mint sessions, so it grants nothing more.
 */
export class ServiceIdentity {
  readonly #key: KeyObject;
  /** Raw 32-byte Ed25519 public key, base64url: what clients pin (`serviceKey`). */
  readonly publicKey: string;

  private constructor(key: KeyObject) {
    this.#key = key;
    this.publicKey = rawOkpPublic(createPublicKey(key));
  }

  /** The identity of a deployment's auth secret (at least 32 characters). */
  static fromAuthSecret(secret: string): ServiceIdentity {
    if (secret.length < 32) throw new Error('the auth secret must have at least 32 characters');
    const seed = createHmac('sha256', secret).update('ekm-service-identity-v1').digest();
    return new ServiceIdentity(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }));
  }

  /** base64url Ed25519 signature of {@link loginReplyMessage}. */
  signLoginReply(loginSignature: string, serverKey: string, sessionToken: string, expiresAt: string): string {
    return sign(null, Buffer.from(loginReplyMessage(loginSignature, serverKey, sessionToken, expiresAt), 'utf8'), this.#key).toString('base64url');
  }
}

/** Client side: does `signature` prove that the pinned service identity `serviceKey` answered? */
export function verifyLoginReply(serviceKey: string, signature: string, loginSignature: string, serverKey: string, sessionToken: string, expiresAt: string): boolean {
  try {
    const sig = Buffer.from(signature, 'base64url');
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: serviceKey }, format: 'jwk' });
    return sig.length === 64 && b64uExact(serviceKey, 32).length === 32
      && verify(null, Buffer.from(loginReplyMessage(loginSignature, serverKey, sessionToken, expiresAt), 'utf8'), pub, sig);
  } catch {
    return false;
  }
}

/** A base64url key of exactly `n` bytes (canonical spelling only). @throws Error otherwise. */
export function b64uExact(text: string, n: number): Buffer {
  const b = Buffer.from(text, 'base64url');
  if (b.length !== n || b.toString('base64url') !== text) throw new Error(`expected ${n} bytes of base64url`);
  return b;
}

function rawOkpPublic(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new Error('not an OKP public key');
  return jwk.x;
}
