import { constants, createPrivateKey, generateKeyPair, privateDecrypt, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { kwpUnwrap } from '../envelope/aes-kwp';
import { ImportMaterialInvalidError } from '../errors';
import { KeyMaterial } from '../key-material';

const generateKeyPairAsync = promisify(generateKeyPair);

export type ImportWrappingKeySpec = 'RSA_3072' | 'RSA_4096';
export type ImportWrappingAlgorithm = 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_256';
/** Key specs that accept imported material, and the exact material length each needs. */
export const IMPORT_MATERIAL_LENGTH = { SYMMETRIC_DEFAULT: 32, HMAC_256: 32 } as const;
export type ImportableKeySpec = keyof typeof IMPORT_MATERIAL_LENGTH;

const MODULUS_BITS: Record<ImportWrappingKeySpec, number> = { RSA_3072: 3072, RSA_4096: 4096 };

export type ImportWrappingKeyPair = {
  spec: ImportWrappingKeySpec;
  /** DER SubjectPublicKeyInfo, base64: what GetParametersForImport returns. */
  publicKey: string;
  /** PKCS#8 DER. Wrap it under the root of trust to store it; dispose after. */
  privateKey: KeyMaterial;
};

/**
 * A fresh RSA key pair for one import (GetParametersForImport). Generated off the event loop
 * (RSA-4096 takes seconds). OpenSSL's own copy of the private key is freed, not zeroed, by Node.
 */
export async function generateImportWrappingKeyPair(spec: ImportWrappingKeySpec): Promise<ImportWrappingKeyPair> {
  const modulusLength = MODULUS_BITS[spec];
  if (modulusLength === undefined) throw new ImportMaterialInvalidError(`unsupported wrapping key spec ${String(spec)}; use RSA_3072 or RSA_4096`);
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { spec, publicKey: publicKey.toString('base64'), privateKey: KeyMaterial.adopt(privateKey) };
}

export type UnwrapImportedMaterialInput = {
  algorithm: ImportWrappingAlgorithm;
  /** The PKCS#8 DER private key from generateImportWrappingKeyPair (unwrapped from the root). Not disposed here. */
  privateKey: KeyMaterial;
  encryptedMaterial: Buffer;
  /** Required material length; default 32 (SYMMETRIC_DEFAULT and HMAC_256). */
  expectedLength?: number;
};

/**
 * Decrypts customer key material (ImportKeyMaterial).
 * - RSAES_OAEP_SHA_256: the material encrypted with RSA-OAEP (SHA-256, MGF1-SHA-256).
 * - RSA_AES_KEY_WRAP_SHA_256 (AWS): RSA-OAEP-SHA-256(ephemeral AES-256 key) || RFC 5649 KWP(material).
 * Throws ImportMaterialInvalidError for wrong sizes, garbage or a different wrapping key; its messages
 * name only lengths. The caller owns (and disposes) the returned material.
 */
export function unwrapImportedMaterial(input: UnwrapImportedMaterialInput): KeyMaterial {
  const { algorithm, encryptedMaterial } = input;
  const expectedLength = input.expectedLength ?? 32;
  const rsa = privateKeyObject(input.privateKey);
  const modulusBytes = (rsa.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  let material: Buffer;
  switch (algorithm) {
    case 'RSAES_OAEP_SHA_256':
      if (encryptedMaterial.length !== modulusBytes) {
        throw new ImportMaterialInvalidError(`encrypted key material must be ${modulusBytes} bytes for this wrapping key, got ${encryptedMaterial.length}`);
      }
      material = oaepDecrypt(rsa, encryptedMaterial);
      break;
    case 'RSA_AES_KEY_WRAP_SHA_256': {
      if (encryptedMaterial.length < modulusBytes + 16) {
        throw new ImportMaterialInvalidError(`encrypted key material must be more than ${modulusBytes + 16} bytes for RSA_AES_KEY_WRAP_SHA_256, got ${encryptedMaterial.length}`);
      }
      const aesKey = oaepDecrypt(rsa, encryptedMaterial.subarray(0, modulusBytes));
      try {
        if (aesKey.length !== 32) throw new ImportMaterialInvalidError('the ephemeral AES key must be 32 bytes');
        material = kwpUnwrap(aesKey, encryptedMaterial.subarray(modulusBytes));
      } catch (e) {
        if (e instanceof ImportMaterialInvalidError) throw e;
        throw new ImportMaterialInvalidError('key material could not be unwrapped with the ephemeral AES key');
      } finally {
        aesKey.fill(0);
      }
      break;
    }
    default:
      throw new ImportMaterialInvalidError(`unsupported wrapping algorithm ${String(algorithm)}; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256`);
  }
  if (material.length !== expectedLength) {
    const got = material.length;
    material.fill(0);
    throw new ImportMaterialInvalidError(`imported key material must be ${expectedLength} bytes, got ${got}`);
  }
  return KeyMaterial.adopt(material);
}

function privateKeyObject(privateKey: KeyMaterial): KeyObject {
  try {
    const key = privateKey.use((der) => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not rsa');
    return key;
  } catch {
    throw new ImportMaterialInvalidError('the import wrapping private key is not an RSA PKCS#8 key');
  }
}

function oaepDecrypt(key: KeyObject, data: Buffer): Buffer {
  try {
    return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
  } catch {
    throw new ImportMaterialInvalidError('encrypted key material could not be decrypted with the import wrapping key');
  }
}
