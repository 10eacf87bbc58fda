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
import { waitFor } from '../support/wait-for';
import { USAGE_RECORDS } from '../support/usage-records';

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

  it('accepts key id, key ARN, alias name and alias ARN; aliases are created, listed, moved and deleted', async () => {
    const a = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const b = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const alias = `alias/kms-e2e-${randomBytes(4).toString('hex')}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: a.Arn }));
    const aliasArn = `arn:aws:kms:us-east-1:${a.AWSAccountId}:${alias}`;
    for (const ref of [a.KeyId!, a.Arn!, alias, aliasArn]) {
      expect((await kms.send(new DescribeKeyCommand({ KeyId: ref }))).KeyMetadata!.KeyId).toBe(a.KeyId);
      const c = await kms.send(new EncryptCommand({ KeyId: ref, Plaintext: Buffer.from('hello') }));
      expect(c.KeyId).toBe(a.Arn);
    }
    const listed = await kms.send(new ListAliasesCommand({ KeyId: a.KeyId }));
    expect(listed.Aliases).toEqual([{ AliasName: alias, AliasArn: aliasArn, TargetKeyId: a.KeyId }]);
    expect(await refusal(kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: b.KeyId })))).toMatchObject({ name: 'AlreadyExistsException', status: 400 });
    await kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: b.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: alias }))).KeyMetadata!.KeyId).toBe(b.KeyId);
    await kms.send(new DeleteAliasCommand({ AliasName: alias }));
    expect(await refusal(kms.send(new DescribeKeyCommand({ KeyId: alias })))).toMatchObject({ name: 'NotFoundException', status: 400 });
    expect(await refusal(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/mine', TargetKeyId: b.KeyId })))).toMatchObject({ name: 'InvalidAliasNameException' });
    expect(await refusal(kms.send(new DescribeKeyCommand({ KeyId: 'arn:aws:kms:us-east-1:123:key/x' })))).toMatchObject({ name: 'InvalidArnException' });
    expect(await refusal(kms.send(new DescribeKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })))).toMatchObject({ name: 'NotFoundException' });
  }, 60_000);

  it('pages ListKeys, ListAliases and ListResourceTags with Limit, Marker and Truncated', async () => {
    const k = (await kms.send(new CreateKeyCommand({ Tags: [{ TagKey: 't1', TagValue: 'v1' }, { TagKey: 't2', TagValue: 'v2' }, { TagKey: 't3', TagValue: 'v3' }] }))).KeyMetadata!;
    for (let i = 0; i < 3; i++) await kms.send(new CreateAliasCommand({ AliasName: `alias/page-${i}-${randomBytes(3).toString('hex')}`, TargetKeyId: k.KeyId }));
    for (let i = 0; i < 2; i++) await kms.send(new CreateKeyCommand({})); // at least 3 keys: more than one page of 2
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const p = await kms.send(new ListKeysCommand({ Limit: 2, ...(marker ? { Marker: marker } : {}) }));
      expect(p.Keys!.length).toBeLessThanOrEqual(2);
      seen.push(...p.Keys!.map((x) => x.KeyId!));
      for (const x of p.Keys!) expect(x.KeyArn).toMatch(new RegExp(`:key/${x.KeyId}$`));
      expect(p.Truncated).toBe(p.NextMarker !== undefined);
      marker = p.NextMarker;
      pages++;
    } while (marker);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(k.KeyId);
    const a1 = await kms.send(new ListAliasesCommand({ KeyId: k.KeyId, Limit: 2 }));
    expect(a1).toMatchObject({ Truncated: true });
    const a2 = await kms.send(new ListAliasesCommand({ KeyId: k.KeyId, Limit: 2, Marker: a1.NextMarker }));
    expect([...a1.Aliases!, ...a2.Aliases!]).toHaveLength(3);
    expect(a2.Truncated).toBe(false);
    const t1 = await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId, Limit: 2 }));
    const t2 = await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId, Limit: 2, Marker: t1.NextMarker }));
    expect([...t1.Tags!, ...t2.Tags!]).toEqual([{ TagKey: 't1', TagValue: 'v1' }, { TagKey: 't2', TagValue: 'v2' }, { TagKey: 't3', TagValue: 'v3' }]);
    expect(await refusal(kms.send(new ListAliasesCommand({ Marker: 'bogus' })))).toMatchObject({ name: 'InvalidMarkerException' });
  }, 60_000);

  it('tags, untags, enables, disables (DisabledException), rotates and lists rotations', async () => {
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kms.send(new TagResourceCommand({ KeyId: k.KeyId, Tags: [{ TagKey: 'env', TagValue: 'prod' }, { TagKey: 'x', TagValue: 'y' }] }));
    await kms.send(new UntagResourceCommand({ KeyId: k.KeyId, TagKeys: ['x'] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }))).Tags).toEqual([{ TagKey: 'env', TagValue: 'prod' }]);
    await kms.send(new DisableKeyCommand({ KeyId: k.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    expect(await refusal(kms.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: Buffer.from('x') })))).toMatchObject({ name: 'DisabledException', status: 400 });
    await kms.send(new EnableKeyCommand({ KeyId: k.KeyId }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: k.KeyId })))).toMatchObject({ KeyRotationEnabled: false });
    await kms.send(new EnableKeyRotationCommand({ KeyId: k.KeyId, RotationPeriodInDays: 180 }));
    const st = await kms.send(new GetKeyRotationStatusCommand({ KeyId: k.KeyId }));
    expect(st).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 180, KeyId: k.Arn });
    expect(st.NextRotationDate).toBeInstanceOf(Date);
    await kms.send(new DisableKeyRotationCommand({ KeyId: k.KeyId }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: k.KeyId })))).toMatchObject({ KeyRotationEnabled: false });
    const before = await kms.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: Buffer.from('old') }));
    expect((await kms.send(new RotateKeyOnDemandCommand({ KeyId: k.KeyId }))).KeyId).toBe(k.KeyId);
    const rotations = await kms.send(new ListKeyRotationsCommand({ KeyId: k.KeyId }));
    expect(rotations.Rotations).toHaveLength(1);
    expect(rotations.Rotations![0]).toMatchObject({ KeyId: k.KeyId, RotationType: 'ON_DEMAND' });
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext!).toString()).toBe('old');
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: k.KeyId, Description: 'new description' }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata!.Description).toBe('new description');
  }, 60_000);

  it('schedules and cancels deletion (KMSInvalidStateException while pending)', async () => {
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const s = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.Arn, PendingWindowInDays: 7 }));
    expect(s).toMatchObject({ KeyId: k.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(s.DeletionDate!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(await refusal(kms.send(new EncryptCommand({ KeyId: k.KeyId, Plaintext: Buffer.from('x') })))).toMatchObject({ name: 'KMSInvalidStateException', status: 400 });
    expect((await kms.send(new CancelKeyDeletionCommand({ KeyId: k.KeyId }))).KeyId).toBe(k.Arn);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata!.KeyState).toBe('Disabled');
    expect(await refusal(kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.KeyId, PendingWindowInDays: 3 })))).toMatchObject({ name: 'ValidationException' });
  }, 60_000);

  it('Encrypt/Decrypt/ReEncrypt with contexts; a KeyId that is not the blob\'s is IncorrectKeyException', async () => {
    const a = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const b = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const c = await kms.send(new EncryptCommand({ KeyId: a.KeyId, Plaintext: Buffer.from('secret'), EncryptionContext: { asset: 'x' } }));
    expect(c).toMatchObject({ KeyId: a.Arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(await refusal(kms.send(new DecryptCommand({ CiphertextBlob: c.CiphertextBlob, EncryptionContext: { asset: 'x' }, KeyId: b.KeyId }))))
      .toMatchObject({ name: 'IncorrectKeyException', status: 400 });
    const d = await kms.send(new DecryptCommand({ CiphertextBlob: c.CiphertextBlob, EncryptionContext: { asset: 'x' }, KeyId: a.Arn }));
    expect(Buffer.from(d.Plaintext!).toString()).toBe('secret');
    const r = await kms.send(new ReEncryptCommand({ CiphertextBlob: c.CiphertextBlob, SourceEncryptionContext: { asset: 'x' }, DestinationKeyId: b.KeyId, DestinationEncryptionContext: { asset: 'y' } }));
    expect(r).toMatchObject({ SourceKeyId: a.Arn, KeyId: b.Arn });
    expect(await refusal(kms.send(new DecryptCommand({ CiphertextBlob: r.CiphertextBlob, EncryptionContext: { asset: 'x' } })))).toMatchObject({ name: 'InvalidCiphertextException' });
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: r.CiphertextBlob, EncryptionContext: { asset: 'y' } }))).Plaintext!).toString()).toBe('secret');
    expect(await refusal(kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from('not a blob at all, definitely not') })))).toMatchObject({ name: 'InvalidCiphertextException' });
    const w = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: a.KeyId, NumberOfBytes: 16 }));
    expect(Object.keys(w)).not.toContain('Plaintext');
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: w.CiphertextBlob }))).Plaintext).toHaveLength(16);
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 24 }))).Plaintext).toHaveLength(24);
  }, 60_000);

  it('HMAC_256 keys: GenerateMac and VerifyMac (a wrong MAC is KMSInvalidMacException)', async () => {
    const k = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!;
    expect(k).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MacAlgorithms: ['HMAC_SHA_256'] });
    const m = await kms.send(new GenerateMacCommand({ KeyId: k.KeyId, Message: Buffer.from('msg'), MacAlgorithm: 'HMAC_SHA_256' }));
    expect(m.Mac).toHaveLength(32);
    expect(await kms.send(new VerifyMacCommand({ KeyId: k.Arn, Message: Buffer.from('msg'), Mac: m.Mac, MacAlgorithm: 'HMAC_SHA_256' }))).toMatchObject({ MacValid: true, KeyId: k.Arn });
    expect(await refusal(kms.send(new VerifyMacCommand({ KeyId: k.KeyId, Message: Buffer.from('other'), Mac: m.Mac, MacAlgorithm: 'HMAC_SHA_256' })))).toMatchObject({ name: 'KMSInvalidMacException' });
    expect(await refusal(kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })))).toMatchObject({ name: 'UnsupportedOperationException' });
  }, 60_000);

  it('EXTERNAL keys: GetParametersForImport and ImportKeyMaterial', async () => {
    const k = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!;
    expect(k).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport' });
    const p = await kms.send(new GetParametersForImportCommand({ KeyId: k.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_3072' }));
    expect(p.KeyId).toBe(k.Arn);
    const wrapped = wrapKeyMaterial(Buffer.from(p.PublicKey!), 'RSAES_OAEP_SHA_256', randomBytes(32));
    await kms.send(new ImportKeyMaterialCommand({ KeyId: k.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata!.KeyState).toBe('Enabled');
    expect(await refusal(kms.send(new ImportKeyMaterialCommand({ KeyId: k.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }))))
      .toMatchObject({ name: 'InvalidImportTokenException' });
  }, 60_000);

  it('answers operations EKM does not support with UnsupportedOperationException', async () => {
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(await refusal(kms.send(new CreateGrantCommand({ KeyId: k.KeyId, GranteePrincipal: 'x', Operations: ['Decrypt'] }))))
      .toMatchObject({ name: 'UnsupportedOperationException', status: 400 });
  });

  it('a principal of tenant B cannot see or use tenant A\'s keys, by id, ARN or alias', async () => {
    const a = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const alias = `alias/iso-${randomBytes(4).toString('hex')}`;
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: a.KeyId }));
    const blob = (await kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId, NumberOfBytes: 32 }))).CiphertextBlob;
    const listedByB = [];
    let marker: string | undefined;
    do {
      const p = await kmsB.send(new ListKeysCommand({ ...(marker ? { Marker: marker } : {}) }));
      listedByB.push(...p.Keys!.map((x) => x.KeyId));
      marker = p.NextMarker;
    } while (marker);
    expect(listedByB).not.toContain(a.KeyId);
    expect((await kmsB.send(new ListAliasesCommand({}))).Aliases!.map((x) => x.AliasName)).not.toContain(alias);
    for (const ref of [a.KeyId!, a.Arn!, alias]) {
      const r = await refusal(kmsB.send(new DescribeKeyCommand({ KeyId: ref })));
      expect(['NotFoundException', 'AccessDeniedException']).toContain(r.name);
      const e = await refusal(kmsB.send(new EncryptCommand({ KeyId: ref, Plaintext: Buffer.from('x') })));
      expect(['NotFoundException', 'AccessDeniedException']).toContain(e.name);
    }
    expect(['NotFoundException', 'AccessDeniedException', 'InvalidCiphertextException']).toContain((await refusal(kmsB.send(new DecryptCommand({ CiphertextBlob: blob })))).name);
    expect(['NotFoundException', 'AccessDeniedException']).toContain((await refusal(kmsB.send(new DisableKeyCommand({ KeyId: a.KeyId })))).name);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: a.KeyId }))).KeyMetadata!.KeyState).toBe('Enabled');
  }, 60_000);

  it('records usage through this API with via kms-api in the keys log and in the audit trail', async () => {
    const k = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kms.send(new GenerateDataKeyCommand({ KeyId: k.KeyId, NumberOfBytes: 32 }));
    const usage = await stack.keysDb.query<{ data: { via?: string; operation: string } }>(`SELECT data FROM ${USAGE_RECORDS} WHERE data->>'keyId' = $1`, [k.KeyId]);
    expect(usage.rows.map((r) => r.data)).toEqual(expect.arrayContaining([expect.objectContaining({ via: 'kms-api' })]));
    const created = await stack.keysDb.query<{ metadata: { via?: string } }>(`SELECT metadata FROM ekm_keys.events WHERE data->>'keyId' = $1 AND event_type = 'KeyCreated'`, [k.KeyId]);
    expect(created.rows[0]?.metadata.via).toBe('kms-api');
    await waitFor(async () => {
      const t = await stack.auditDb.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_audit.trail WHERE key_id = $1 AND (entry::jsonb)->'actor'->>'via' = 'kms-api'`, [k.KeyId]);
      return Number(t.rows[0]!.n) >= 2;
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'kms-api entries for the key in the audit trail' });
  }, 60_000);
});
