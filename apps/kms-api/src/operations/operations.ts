/**
 * The `X-Amz-Target: TrentService.<Operation>` table. Operations EKM does not answer (grants, custom key
 * stores, asymmetric keys, key policies, ...) get UnsupportedOperationException.
 */
import { createAlias, deleteAlias, listAliases, updateAlias } from './alias.ops';
import { decrypt, encrypt, generateDataKey, generateDataKeyWithoutPlaintext, generateMac, generateRandom, reEncrypt, verifyMac } from './crypto.ops';
import { getParametersForImport, importKeyMaterial } from './import.ops';
import { cancelKeyDeletion, createKey, describeKey, disableKey, enableKey, listKeys, scheduleKeyDeletion, updateKeyDescription } from './key-admin.ops';
import type { Operation } from './op-context';
import { disableKeyRotation, enableKeyRotation, getKeyRotationStatus, listKeyRotations, listResourceTags, rotateKeyOnDemand, tagResource, untagResource } from './rotation-tags.ops';

export const OPERATIONS = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  ListKeys: listKeys,
  ListAliases: listAliases,
  CreateAlias: createAlias,
  UpdateAlias: updateAlias,
  DeleteAlias: deleteAlias,
  EnableKey: enableKey,
  DisableKey: disableKey,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  EnableKeyRotation: enableKeyRotation,
  DisableKeyRotation: disableKeyRotation,
  GetKeyRotationStatus: getKeyRotationStatus,
  RotateKeyOnDemand: rotateKeyOnDemand,
  ListKeyRotations: listKeyRotations,
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
  GenerateDataKey: generateDataKey,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
  GenerateRandom: generateRandom,
  GenerateMac: generateMac,
  VerifyMac: verifyMac,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListResourceTags: listResourceTags,
  UpdateKeyDescription: updateKeyDescription,
  GetParametersForImport: getParametersForImport,
  ImportKeyMaterial: importKeyMaterial,
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}
