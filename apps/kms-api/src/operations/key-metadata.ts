/** EKM's `KeyInfo` in AWS's `KeyMetadata` shape. */
import type { KeyInfo } from '@ekm/client';
import { accountOf } from '../protocol/key-refs';
import { arnOf, epochSeconds, type OpContext } from './op-context';

const KEY_STATE: Readonly<Record<KeyInfo['status'], string>> = {
  PendingImport: 'PendingImport',
  Enabled: 'Enabled',
  Disabled: 'Disabled',
  PendingDeletion: 'PendingDeletion',
  Destroyed: 'Unavailable',
  // Revoked (compromised) keys never encrypt again; AWS has no such state: shown disabled.
  Compromised: 'Disabled',
};

export function keyMetadata(ctx: OpContext, k: KeyInfo): object {
  const isMac = k.spec === 'HMAC_256';
  return {
    AWSAccountId: accountOf(k.tenant),
    KeyId: k.keyId,
    Arn: arnOf(ctx, k),
    CreationDate: epochSeconds(k.createdAt),
    Enabled: k.status === 'Enabled',
    Description: k.description,
    KeyUsage: k.usage,
    KeyState: KEY_STATE[k.status],
    ...(k.deletionDate !== null ? { DeletionDate: epochSeconds(k.deletionDate) } : {}),
    Origin: k.origin === 'EXTERNAL' ? 'EXTERNAL' : 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: k.spec,
    KeySpec: k.spec,
    ...(isMac ? { MacAlgorithms: ['HMAC_SHA_256'] } : { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
    MultiRegion: false,
  };
}
