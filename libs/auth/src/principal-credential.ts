/**
 * Principal credentials: an Ed25519 key pair issued by EKM. The private key is shown to the caller
 * once (as a credential file); EKM stores only the public key, a verifier that cannot sign.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

/** What `generatePrincipalCredential()` returns. Store `publicKey`; hand `privateKey` out once, never store or log it. */
export interface GeneratedCredential {
  readonly credentialId: string;
  /** The verifier: the raw 32-byte Ed25519 public key, base64url. Safe to store and log. */
  readonly publicKey: string;
  /** The PKCS#8 DER private key, base64. SECRET: goes only into the credential file shown once. */
  readonly privateKey: string;
}

/** The credential file (`.ekm/admin.credentials`, `--credentials FILE`, `EKM_CREDENTIALS`): JSON. */
export interface CredentialFile {
  readonly principalId: string;
  readonly credentialId: string;
  /** PKCS#8 DER Ed25519 private key, base64. */
  readonly privateKey: string;
  /** NATS URL(s) the credential is meant for (optional convenience for the CLI). */
  readonly natsUrl?: string;
  /**
   * The EKM service identity (raw Ed25519 public key, base64url) the client pins: a login reply not
   * signed by it is refused. Written by EKM into every credential file it issues.
   */
  readonly serviceKey?: string;
}

const b64 = z.string().regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'must be base64');
const CredentialFileSchema = z.object({
  principalId: z.string().min(1).max(200),
  credentialId: z.string().min(1).max(200),
  privateKey: b64,
  natsUrl: z.string().min(1).optional(),
  serviceKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a raw Ed25519 public key (43 characters of base64url)').optional(),
});

/** The credential file is unreadable or malformed. The message names the path and rule, never the key. */
export class CredentialFileError extends Error {
  override readonly name = 'CredentialFileError';
  readonly code = 'EKM_CREDENTIALS_INVALID';
}

/** A fresh credential: new id, new Ed25519 key pair. */
export function generatePrincipalCredential(): GeneratedCredential {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    credentialId: `cred-${randomUUID()}`,
    publicKey: rawPublicKey(publicKey),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
}

/** Builds the file contents shown once to the principal's owner. */
export function toCredentialFile(principalId: string, credential: GeneratedCredential, natsUrl?: string, serviceKey?: string): CredentialFile {
  return { principalId, credentialId: credential.credentialId, privateKey: credential.privateKey, ...(natsUrl ? { natsUrl } : {}), ...(serviceKey ? { serviceKey } : {}) };
}

/** Parses credential-file JSON text. @throws CredentialFileError */
export function parseCredentialFile(text: string, source = 'credentials'): CredentialFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CredentialFileError(`${source} is not valid JSON`);
  }
  const r = CredentialFileSchema.safeParse(json);
  if (!r.success) throw new CredentialFileError(`${source}: ${r.error.issues.map((i) => `${i.path.join('.') || '(file)'} ${i.message}`).join('; ')}`);
  privateKeyOf(r.data, source); // fail early on a key that does not parse
  return r.data;
}

/**
 * Reads a credential file. Refuses a file others can read (mode must be 0600 or stricter), like ssh.
 * @throws CredentialFileError
 */
export function readCredentialFile(path: string): CredentialFile {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new CredentialFileError(`${path} has mode 0${mode.toString(8)}; it must be 0600 (run: chmod 600 ${path})`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof CredentialFileError) throw e;
    throw new CredentialFileError(`cannot read credentials file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseCredentialFile(text, path);
}

/** The private key object of a credential file. @throws CredentialFileError */
export function privateKeyOf(file: CredentialFile, source = 'credentials'): KeyObject {
  try {
    const key = createPrivateKey({ key: Buffer.from(file.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return key;
  } catch {
    throw new CredentialFileError(`${source}: privateKey is not a PKCS#8 Ed25519 private key`);
  }
}

/** Raw 32-byte public key, base64url (the stored verifier). */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new Error('not an OKP public key');
  return jwk.x;
}

/** The public key object of a stored verifier. @throws Error when it is not 32 bytes of base64url. */
export function publicKeyFromVerifier(publicKey: string): KeyObject {
  if (Buffer.from(publicKey, 'base64url').length !== 32) throw new Error('an Ed25519 verifier is 32 bytes of base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

/** The verifier (public key) belonging to a credential file, e.g. to check a file against a principal. */
export function verifierOf(file: CredentialFile): string {
  return rawPublicKey(createPublicKey(privateKeyOf(file)));
}
