/** BYOK: GetParametersForImport and ImportKeyMaterial for EXTERNAL keys. */
import type { WrappingAlgorithm, WrappingKeySpec } from '@ekm/client';
import { AwsError } from '../protocol/aws-error';
import { arnOf, callOpts, epochSeconds, keyRefOf, optString, reqBlob, reqString, type Operation } from './op-context';

const ALGORITHMS: ReadonlySet<string> = new Set<WrappingAlgorithm>(['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256']);
const SPECS: ReadonlySet<string> = new Set<WrappingKeySpec>(['RSA_3072', 'RSA_4096']);

export const getParametersForImport: Operation = async (ctx, b) => {
  const algorithm = reqString(b, 'WrappingAlgorithm');
  const spec = reqString(b, 'WrappingKeySpec');
  if (!ALGORITHMS.has(algorithm)) throw new AwsError('UnsupportedOperationException', `WrappingAlgorithm ${algorithm} is not supported by EKM (RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_256)`);
  if (!SPECS.has(spec)) throw new AwsError('UnsupportedOperationException', `WrappingKeySpec ${spec} is not supported by EKM (RSA_3072, RSA_4096)`);
  const p = await ctx.keys.getParametersForImport(keyRefOf(ctx, b, 'KeyId', false), algorithm as WrappingAlgorithm, spec as WrappingKeySpec, callOpts(ctx));
  return {
    KeyId: arnOf(ctx, { keyId: p.keyId, tenant: ctx.caller.tenant === '*' ? (await ctx.keys.describeKey(p.keyId)).tenant : ctx.caller.tenant }),
    ImportToken: p.importToken.toString('base64'), PublicKey: p.publicKey.toString('base64'), ParametersValidTo: epochSeconds(p.parametersValidTo),
  };
};

export const importKeyMaterial: Operation = async (ctx, b) => {
  const model = optString(b, 'ExpirationModel') ?? 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  if (model !== 'KEY_MATERIAL_DOES_NOT_EXPIRE') throw new AwsError('UnsupportedOperationException', 'EKM imports material that does not expire (ExpirationModel KEY_MATERIAL_DOES_NOT_EXPIRE)');
  if (b.ImportType !== undefined && b.ImportType !== 'NEW_KEY_MATERIAL') throw new AwsError('UnsupportedOperationException', 'ImportType must be NEW_KEY_MATERIAL');
  await ctx.keys.importKeyMaterial(keyRefOf(ctx, b, 'KeyId', false), reqBlob(b, 'ImportToken', 8192), reqBlob(b, 'EncryptedKeyMaterial', 8192), callOpts(ctx));
  return {};
};
