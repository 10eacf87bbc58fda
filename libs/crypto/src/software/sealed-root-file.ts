import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { RootConfigInvalidError, RootSecretMismatchError } from '../errors';

/**
 * The sealed software root key file (`<dataDir>/root-key.sealed`, mode 0600), JSON:
 * `{ format, rootKeyId, kdf: { name: 'scrypt', N, r, p, salt }, aead: 'aes-256-gcm', iv, ciphertext, tag }`
 * (binary fields base64). The sealing key is scrypt(secret, salt); every field except iv, ciphertext
 * and tag is authenticated as AAD, so altering the parameters or the id fails like a wrong secret.
 */
export const SEALED_ROOT_FORMAT = 'ekm-sealed-root/v1';

export type ScryptParams = { N: number; r: number; p: number };
/** ~170 ms and 32 MiB on the reference machine: paid once per process start. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 15, r: 8, p: 1 };

type SealedRootFile = {
  format: typeof SEALED_ROOT_FORMAT;
  rootKeyId: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  aead: 'aes-256-gcm';
  iv: string;
  ciphertext: string;
  tag: string;
};

export function sealRootKey(rootKey: Buffer, secret: string, rootKeyId: string, params: ScryptParams): string {
  const salt = randomBytes(16);
  const header = { format: SEALED_ROOT_FORMAT as typeof SEALED_ROOT_FORMAT, rootKeyId, kdf: { name: 'scrypt' as const, ...params, salt: salt.toString('base64') } };
  const sealingKey = deriveSealingKey(secret, salt, params);
  try {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', sealingKey, iv, { authTagLength: 16 });
    cipher.setAAD(headerAad(header));
    const ciphertext = Buffer.concat([cipher.update(rootKey), cipher.final()]);
    const file: SealedRootFile = { ...header, aead: 'aes-256-gcm', iv: b64(iv), ciphertext: b64(ciphertext), tag: b64(cipher.getAuthTag()) };
    return `${JSON.stringify(file, null, 2)}\n`;
  } finally {
    sealingKey.fill(0);
  }
}

/** Opens a sealed file's text. Malformed → RootConfigInvalidError; authentication failure → RootSecretMismatchError. */
export function unsealRootKey(text: string, secret: string, path: string): { rootKey: Buffer; rootKeyId: string } {
  const file = parseSealedFile(text, path);
  const salt = Buffer.from(file.kdf.salt, 'base64');
  const sealingKey = deriveSealingKey(secret, salt, file.kdf);
  let out: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey, Buffer.from(file.iv, 'base64'), { authTagLength: 16 });
    decipher.setAAD(headerAad({ format: file.format, rootKeyId: file.rootKeyId, kdf: file.kdf }));
    decipher.setAuthTag(Buffer.from(file.tag, 'base64'));
    out = decipher.update(Buffer.from(file.ciphertext, 'base64'));
    decipher.final();
  } catch {
    out?.fill(0);
    throw new RootSecretMismatchError(path);
  } finally {
    sealingKey.fill(0);
  }
  if (out.length !== 32) throw new RootConfigInvalidError(`sealed root key at ${path} does not hold a 32-byte key`);
  return { rootKey: out, rootKeyId: file.rootKeyId };
}

function deriveSealingKey(secret: string, salt: Buffer, { N, r, p }: ScryptParams): Buffer {
  return scryptSync(Buffer.from(secret, 'utf8'), salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
}

// Deterministic AAD: fixed field order, so parsing and re-serializing the header cannot change it.
function headerAad(h: { format: string; rootKeyId: string; kdf: { name: string; N: number; r: number; p: number; salt: string } }): Buffer {
  return Buffer.from(JSON.stringify([h.format, h.rootKeyId, h.kdf.name, h.kdf.N, h.kdf.r, h.kdf.p, h.kdf.salt]), 'utf8');
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parseSealedFile(text: string, path: string): SealedRootFile {
  const bad = (why: string) => new RootConfigInvalidError(`sealed root key file ${path} is malformed: ${why}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const f = raw as Partial<SealedRootFile> | null;
  if (typeof f !== 'object' || f === null) throw bad('not an object');
  if (f.format !== SEALED_ROOT_FORMAT) throw bad(`unknown format (expected ${SEALED_ROOT_FORMAT})`);
  if (f.aead !== 'aes-256-gcm') throw bad('unknown aead');
  if (typeof f.rootKeyId !== 'string' || f.rootKeyId.length > 64) throw bad('rootKeyId');
  const k = f.kdf;
  if (!k || k.name !== 'scrypt') throw bad('unknown kdf');
  // Bounds keep a tampered file from making us allocate gigabytes before authentication fails.
  const isPow2 = Number.isInteger(k.N) && k.N >= 1 << 14 && k.N <= 1 << 20 && (k.N & (k.N - 1)) === 0;
  if (!isPow2 || !Number.isInteger(k.r) || k.r < 1 || k.r > 16 || !Number.isInteger(k.p) || k.p < 1 || k.p > 4) throw bad('kdf parameters out of range');
  for (const [name, v] of [['salt', k.salt], ['iv', f.iv], ['ciphertext', f.ciphertext], ['tag', f.tag]] as const) {
    if (typeof v !== 'string' || !B64.test(v)) throw bad(`${name} is not base64`);
  }
  if (Buffer.from(f.iv as string, 'base64').length !== 12 || Buffer.from(f.tag as string, 'base64').length !== 16) throw bad('iv or tag length');
  return f as SealedRootFile;
}

const b64 = (b: Buffer) => b.toString('base64');
