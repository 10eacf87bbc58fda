/**
 * Login proof: the client signs `ekm-login-v2\n<principalId>\n<credentialId>\n<timestamp>\n<nonce>\n<clientKey>`
 * with its Ed25519 private key, `clientKey` being its ephemeral X25519 public key for the session key
 * agreement (key-agreement.ts). The policy service's login handler verifies it against the stored
 * public key (one asymmetric operation per session, never per request) and answers with a session
 * signed by the service identity; the session key itself is never sent.
 */
import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { agreementKeyPair, type AgreementKeyPair } from './key-agreement';
import type { LoginRequest } from '@ekm/contracts';
import { AuthFailureReason, MAX_CLOCK_SKEW_MS } from './auth.types';
import { privateKeyOf, publicKeyFromVerifier, type CredentialFile } from './principal-credential';

/**
 * Body of `ekm.v1.policy.login` and its zod schema: the contract in @ekm/contracts (`LoginRequest`),
 * re-exported under the names this library has always used.
 */
export { LoginRequest as LoginRequestSchema, type LoginRequest } from '@ekm/contracts';
/** Data of a successful login reply (and of `access-key-login`): `LoginReply` of @ekm/contracts. */
export type { LoginReply } from '@ekm/contracts';

/** The exact bytes signed at login (UTF-8). */
export function loginMessage(principalId: string, credentialId: string, timestamp: number, nonce: string, clientKey: string): string {
  return `ekm-login-v2\n${principalId}\n${credentialId}\n${timestamp}\n${nonce}\n${clientKey}`;
}

/** A login request and the ephemeral agreement key pair it announced (keep the private half for the reply). */
export interface StartedLogin {
  readonly request: LoginRequest;
  readonly agreement: AgreementKeyPair;
}

/** Builds a signed login request for `file` at `now` with a fresh agreement key pair (client side). */
export function startLogin(file: CredentialFile, now: number = Date.now(), key: KeyObject = privateKeyOf(file), agreement: AgreementKeyPair = agreementKeyPair()): StartedLogin {
  const nonce = randomBytes(16).toString('base64url');
  const clientKey = agreement.publicKey;
  const signature = sign(null, Buffer.from(loginMessage(file.principalId, file.credentialId, now, nonce, clientKey), 'utf8'), key).toString('base64url');
  return { request: { principalId: file.principalId, credentialId: file.credentialId, timestamp: now, nonce, clientKey, signature }, agreement };
}

/** The signed login request alone (tests of the login handler; a real client needs {@link startLogin}). */
export function signLoginRequest(file: CredentialFile, now: number = Date.now(), key: KeyObject = privateKeyOf(file)): LoginRequest {
  return startLogin(file, now, key).request;
}

/** Result of {@link verifyLoginProof}. */
export type LoginProofResult = { readonly ok: true } | { readonly ok: false; readonly reason: AuthFailureReason };

/**
 * Verifies a login proof against the credential's stored verifier (raw public key, base64url) at `now`.
 * Checks the clock skew (±30 s) and the Ed25519 signature. Replay of a proof inside the window must be
 * checked by the caller with a {@link NonceCache} keyed by credential id (see docs/auth.md).
 */
export function verifyLoginProof(req: LoginRequest, verifier: string, now: number = Date.now()): LoginProofResult {
  if (Math.abs(now - req.timestamp) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: AuthFailureReason.TimestampSkew };
  let valid = false;
  try {
    const sig = Buffer.from(req.signature, 'base64url');
    valid = sig.length === 64 && verify(null, Buffer.from(loginMessage(req.principalId, req.credentialId, req.timestamp, req.nonce, req.clientKey), 'utf8'), publicKeyFromVerifier(verifier), sig);
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, reason: AuthFailureReason.LoginProofInvalid };
}
