/** Key lifecycle operations: CreateKey, DescribeKey, ListKeys, Enable/DisableKey, deletion, description. */
import type { KeyInfo, KeySpec } from '@ekm/client';
import { AwsError, validation } from '../protocol/aws-error';
import { keyMetadata } from './key-metadata';
import { arnOf, callOpts, epochSeconds, keyRefOf, optInt, optString, optTags, type Operation } from './op-context';

const SPECS: Readonly<Record<string, { spec: KeySpec; usage: string }>> = {
  SYMMETRIC_DEFAULT: { spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT' },
  HMAC_256: { spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' },
};
/** Tag that chooses the tenant of a key created by an operator-scope caller (else EKM_KMS_DEFAULT_TENANT). */
export const TENANT_TAG = 'ekm:tenant';

export const createKey: Operation = async (ctx, b) => {
  const specName = optString(b, 'KeySpec') ?? optString(b, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
  const spec = SPECS[specName];
  if (!spec) throw new AwsError('UnsupportedOperationException', `KeySpec ${specName} is not supported by EKM (SYMMETRIC_DEFAULT, HMAC_256)`);
  const usage = optString(b, 'KeyUsage') ?? spec.usage;
  if (usage !== spec.usage) throw validation(`KeyUsage ${usage} is not valid for KeySpec ${specName} (use ${spec.usage})`);
  const origin = optString(b, 'Origin') ?? 'AWS_KMS';
  if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') throw new AwsError('UnsupportedOperationException', `Origin ${origin} is not supported by EKM (AWS_KMS, EXTERNAL)`);
  if (origin === 'EXTERNAL' && spec.spec !== 'SYMMETRIC_DEFAULT') throw new AwsError('UnsupportedOperationException', 'EXTERNAL keys must be SYMMETRIC_DEFAULT');
  if (b.MultiRegion === true) throw new AwsError('UnsupportedOperationException', 'multi-Region keys are not supported by EKM');
  if (b.CustomKeyStoreId !== undefined || b.XksKeyId !== undefined) throw new AwsError('UnsupportedOperationException', 'custom key stores are not supported by EKM');
  const description = optString(b, 'Description', 8192);
  const tags = { ...(optTags(b) ?? {}) };
  const tenant = ctx.caller.tenant === '*' ? (tags[TENANT_TAG] ?? ctx.defaultTenant) : ctx.caller.tenant;
  delete tags[TENANT_TAG];
  const k = await ctx.keys.createKey({
    tenant, spec: spec.spec, origin: origin === 'EXTERNAL' ? 'EXTERNAL' : 'EKM',
    ...(description !== undefined ? { description } : {}), ...(Object.keys(tags).length > 0 ? { tags } : {}),
  }, callOpts(ctx));
  return { KeyMetadata: keyMetadata(ctx, k) };
};

/** The key behind `KeyId`; a destroyed key is gone, as in AWS. */
export async function describe(ctx: Parameters<Operation>[0], ref: string): Promise<KeyInfo> {
  const k = await ctx.keys.describeKey(ref);
  if (k.status === 'Destroyed') throw new AwsError('NotFoundException', `Key '${arnOf(ctx, k)}' does not exist`);
  return k;
}

export const describeKey: Operation = async (ctx, b) => ({ KeyMetadata: keyMetadata(ctx, await describe(ctx, keyRefOf(ctx, b))) });

export const listKeys: Operation = async (ctx, b) => {
  // EKM pages hold at most 100 keys: a larger Limit gets 100 and a marker, which AWS allows.
  const limit = Math.min(optInt(b, 'Limit', 1, 1000) ?? 100, 100);
  const marker = optString(b, 'Marker', 2048);
  const p = await ctx.keys.listKeys({ ...(ctx.caller.tenant !== '*' ? { tenant: ctx.caller.tenant } : {}), limit, ...(marker !== undefined ? { cursor: marker } : {}) })
    .catch((err: unknown) => {
      if (marker !== undefined && (err as { code?: string }).code === 'EKM_VALIDATION') throw new AwsError('InvalidMarkerException', 'Marker is not one this API returned');
      throw err;
    });
  const keys = p.keys.filter((k) => k.status !== 'Destroyed');
  return { Keys: keys.map((k) => ({ KeyId: k.keyId, KeyArn: arnOf(ctx, k) })), Truncated: p.nextCursor !== null, ...(p.nextCursor !== null ? { NextMarker: p.nextCursor } : {}) };
};

export const enableKey: Operation = async (ctx, b) => {
  await ctx.keys.enableKey(keyRefOf(ctx, b, 'KeyId', false), callOpts(ctx));
  return {};
};

export const disableKey: Operation = async (ctx, b) => {
  await ctx.keys.disableKey(keyRefOf(ctx, b, 'KeyId', false), callOpts(ctx));
  return {};
};

export const scheduleKeyDeletion: Operation = async (ctx, b) => {
  const days = optInt(b, 'PendingWindowInDays', 7, 30);
  const k = await ctx.keys.scheduleKeyDeletion(keyRefOf(ctx, b, 'KeyId', false), days, callOpts(ctx));
  return { KeyId: arnOf(ctx, k), KeyState: 'PendingDeletion', PendingWindowInDays: days ?? 30, ...(k.deletionDate !== null ? { DeletionDate: epochSeconds(k.deletionDate) } : {}) };
};

export const updateKeyDescription: Operation = async (ctx, b) => {
  const description = optString(b, 'Description', 8192);
  if (description === undefined) throw validation('Description is required');
  await ctx.keys.updateKeyDescription(keyRefOf(ctx, b, 'KeyId', false), description, callOpts(ctx));
  return {};
};

export const cancelKeyDeletion: Operation = async (ctx, b) => {
  const k = await ctx.keys.cancelKeyDeletion(keyRefOf(ctx, b, 'KeyId', false), callOpts(ctx));
  return { KeyId: arnOf(ctx, k) };
};
