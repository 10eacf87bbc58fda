/**
 * Data-plane operations. Ciphertext blobs are EKM's self-describing blobs (key id and version inside);
 * the encryption context is bound to them as AAD, so Decrypt needs the exact same map (AWS's rule).
 * Responses name keys by ARN: the AWS Encryption SDK compares that ARN with its keyring's.
 */
import { randomBytes } from 'node:crypto';
import { parseBlob } from '@ekm/crypto';
import { EkmError } from '@ekm/client';
import { AwsError, validation } from '../protocol/aws-error';
import { describe } from './key-admin.ops';
import { arnOf, callOpts, keyRefOf, optBlob, optInt, optString, optStringMap, reqBlob, type Body, type OpContext, type Operation } from './op-context';

const MAX_PLAINTEXT = 4096;
const MAX_BLOB = 6144;

function checkAlgorithm(b: Body, field = 'EncryptionAlgorithm'): void {
  const a = optString(b, field);
  if (a !== undefined && a !== 'SYMMETRIC_DEFAULT') throw new AwsError('InvalidKeyUsageException', `${field} ${a} is not supported (SYMMETRIC_DEFAULT)`);
}

function dataKeyBytes(b: Body): number {
  const n = optInt(b, 'NumberOfBytes', 1, 1024);
  const spec = optString(b, 'KeySpec');
  if (n !== undefined && spec !== undefined) throw validation('give NumberOfBytes or KeySpec, not both');
  if (spec === undefined) {
    if (n === undefined) throw validation('NumberOfBytes or KeySpec is required');
    return n;
  }
  if (spec === 'AES_256') return 32;
  if (spec === 'AES_128') return 16;
  throw validation(`KeySpec ${spec} is not AES_256 or AES_128`);
}

/** ARN of the key a result names (its tenant from a describe only when the caller is operator-scope). */
async function resultArn(ctx: OpContext, keyId: string): Promise<string> {
  if (ctx.caller.tenant !== '*') return arnOf(ctx, { keyId, tenant: ctx.caller.tenant });
  return arnOf(ctx, await ctx.keys.describeKey(keyId));
}

export const encrypt: Operation = async (ctx, b) => {
  checkAlgorithm(b);
  const context = optStringMap(b, 'EncryptionContext');
  const r = await ctx.crypto.encrypt({ keyId: keyRefOf(ctx, b), plaintext: reqBlob(b, 'Plaintext', MAX_PLAINTEXT), ...(context ? { encryptionContext: context } : {}) }, callOpts(ctx));
  return { CiphertextBlob: r.ciphertextBlob.toString('base64'), KeyId: await resultArn(ctx, r.keyId), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
};

/** The blob's key id, or undefined when the bytes are not an EKM blob. */
function blobKeyId(blob: Buffer): string | undefined {
  try {
    return parseBlob(blob).keyId;
  } catch {
    return undefined;
  }
}

/** AWS answers IncorrectKeyException when the named key is not the blob's. */
async function assertBlobKey(ctx: OpContext, blob: Buffer, ref: string | undefined, err: unknown): Promise<never> {
  if (ref !== undefined && err instanceof EkmError && err.code === 'EKM_INVALID_CIPHERTEXT') {
    const owner = blobKeyId(blob);
    const named = await describe(ctx, ref).catch(() => undefined);
    if (owner !== undefined && named !== undefined && named.keyId !== owner) {
      throw new AwsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
  }
  throw err;
}

export const decrypt: Operation = async (ctx, b) => {
  checkAlgorithm(b);
  const blob = reqBlob(b, 'CiphertextBlob', MAX_BLOB);
  const context = optStringMap(b, 'EncryptionContext');
  const ref = b.KeyId !== undefined ? keyRefOf(ctx, b) : undefined;
  const r = await ctx.crypto.decrypt({ ciphertextBlob: blob, ...(context ? { encryptionContext: context } : {}), ...(ref !== undefined ? { keyId: ref } : {}) }, callOpts(ctx))
    .catch((err: unknown) => assertBlobKey(ctx, blob, ref, err));
  try {
    return { KeyId: await resultArn(ctx, r.keyId), Plaintext: r.plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  } finally {
    r.plaintext.fill(0);
  }
};

export const reEncrypt: Operation = async (ctx, b) => {
  checkAlgorithm(b, 'SourceEncryptionAlgorithm');
  checkAlgorithm(b, 'DestinationEncryptionAlgorithm');
  const blob = reqBlob(b, 'CiphertextBlob', MAX_BLOB);
  const sourceContext = optStringMap(b, 'SourceEncryptionContext');
  const destinationContext = optStringMap(b, 'DestinationEncryptionContext');
  const sourceRef = b.SourceKeyId !== undefined ? keyRefOf(ctx, b, 'SourceKeyId') : undefined;
  const r = await ctx.crypto.reEncrypt({
    ciphertextBlob: blob, destinationKeyId: keyRefOf(ctx, b, 'DestinationKeyId'),
    ...(sourceContext ? { sourceEncryptionContext: sourceContext } : {}), ...(destinationContext ? { destinationEncryptionContext: destinationContext } : {}),
    ...(sourceRef !== undefined ? { sourceKeyId: sourceRef } : {}),
  }, callOpts(ctx)).catch((err: unknown) => assertBlobKey(ctx, blob, sourceRef, err));
  return {
    CiphertextBlob: r.ciphertextBlob.toString('base64'), SourceKeyId: await resultArn(ctx, r.sourceKeyId), KeyId: await resultArn(ctx, r.keyId),
    SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
  };
};

export const generateDataKey: Operation = async (ctx, b) => {
  const context = optStringMap(b, 'EncryptionContext');
  const r = await ctx.crypto.generateDataKey({ keyId: keyRefOf(ctx, b), numberOfBytes: dataKeyBytes(b), ...(context ? { encryptionContext: context } : {}) }, callOpts(ctx));
  try {
    return { CiphertextBlob: r.ciphertextBlob.toString('base64'), Plaintext: r.plaintext.toString('base64'), KeyId: await resultArn(ctx, r.keyId) };
  } finally {
    r.plaintext.fill(0);
  }
};

export const generateDataKeyWithoutPlaintext: Operation = async (ctx, b) => {
  const context = optStringMap(b, 'EncryptionContext');
  const r = await ctx.crypto.generateDataKeyWithoutPlaintext({ keyId: keyRefOf(ctx, b), numberOfBytes: dataKeyBytes(b), ...(context ? { encryptionContext: context } : {}) }, callOpts(ctx));
  return { CiphertextBlob: r.ciphertextBlob.toString('base64'), KeyId: await resultArn(ctx, r.keyId) };
};

/** Random bytes from this process's CSPRNG (no key involved, so nothing for the keys service to decide or record). */
export const generateRandom: Operation = async (_ctx, b) => {
  if (b.CustomKeyStoreId !== undefined) throw new AwsError('UnsupportedOperationException', 'custom key stores are not supported by EKM');
  const n = optInt(b, 'NumberOfBytes', 1, 1024) ?? 32;
  const bytes = randomBytes(n);
  try {
    return Promise.resolve({ Plaintext: bytes.toString('base64') });
  } finally {
    bytes.fill(0);
  }
};

function checkMacAlgorithm(b: Body): void {
  const a = optString(b, 'MacAlgorithm');
  if (a === undefined) throw validation('MacAlgorithm is required');
  if (a !== 'HMAC_SHA_256') throw new AwsError('InvalidKeyUsageException', `MacAlgorithm ${a} is not valid for this key (HMAC_SHA_256)`);
}

export const generateMac: Operation = async (ctx, b) => {
  checkMacAlgorithm(b);
  const r = await ctx.crypto.generateMac({ keyId: keyRefOf(ctx, b), message: reqBlob(b, 'Message', MAX_PLAINTEXT) }, callOpts(ctx));
  return { Mac: r.mac.toString('base64'), MacAlgorithm: 'HMAC_SHA_256', KeyId: await resultArn(ctx, r.keyId) };
};

export const verifyMac: Operation = async (ctx, b) => {
  checkMacAlgorithm(b);
  const mac = optBlob(b, 'Mac', 64);
  if (mac === undefined) throw validation('Mac is required');
  const r = await ctx.crypto.verifyMac({ keyId: keyRefOf(ctx, b), message: reqBlob(b, 'Message', MAX_PLAINTEXT), mac }, callOpts(ctx));
  if (!r.macValid) throw new AwsError('KMSInvalidMacException', 'The MAC does not verify with this key and message.');
  return { KeyId: await resultArn(ctx, r.keyId), MacValid: true, MacAlgorithm: 'HMAC_SHA_256' };
};
