/** Rotation and tag operations. */
import { AwsError } from '../protocol/aws-error';
import { describe } from './key-admin.ops';
import { arnOf, callOpts, epochSeconds, keyRefOf, optInt, optTags, type Operation } from './op-context';
import { page } from './paging';

export const enableKeyRotation: Operation = async (ctx, b) => {
  const days = optInt(b, 'RotationPeriodInDays', 90, 2560);
  await ctx.keys.enableKeyRotation(keyRefOf(ctx, b, 'KeyId', false), days ?? 365, callOpts(ctx));
  return {};
};

export const disableKeyRotation: Operation = async (ctx, b) => {
  await ctx.keys.disableKeyRotation(keyRefOf(ctx, b, 'KeyId', false), callOpts(ctx));
  return {};
};

export const getKeyRotationStatus: Operation = async (ctx, b) => {
  const k = await describe(ctx, keyRefOf(ctx, b));
  const r = k.rotation;
  return {
    KeyId: arnOf(ctx, k), KeyRotationEnabled: r.enabled,
    ...(r.enabled ? { RotationPeriodInDays: r.periodDays, NextRotationDate: epochSeconds(r.nextRotationAt) } : {}),
  };
};

export const rotateKeyOnDemand: Operation = async (ctx, b) => {
  const k = await ctx.keys.rotateKey(keyRefOf(ctx, b, 'KeyId', false), callOpts(ctx));
  return { KeyId: k.keyId };
};

/** Every version after the first is one rotation. EKM does not record whether a rotation was scheduled or asked for. */
export const listKeyRotations: Operation = async (ctx, b) => {
  const k = await describe(ctx, keyRefOf(ctx, b, 'KeyId', false));
  const rotations = [...k.versions].sort((x, y) => x.version - y.version).slice(1)
    .map((v) => ({ KeyId: k.keyId, RotationDate: epochSeconds(v.createdAt), RotationType: k.rotation.enabled ? 'AUTOMATIC' : 'ON_DEMAND' }));
  const p = page(rotations, b, 100, 1000);
  return { Rotations: p.items, Truncated: p.Truncated, ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}) };
};

export const tagResource: Operation = async (ctx, b) => {
  const tags = optTags(b);
  if (tags === undefined || Object.keys(tags).length === 0) throw new AwsError('TagException', 'Tags must hold at least one tag');
  await ctx.keys.tagKey(keyRefOf(ctx, b, 'KeyId', false), tags, callOpts(ctx));
  return {};
};

export const untagResource: Operation = async (ctx, b) => {
  const keys = b.TagKeys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 50 || !keys.every((k) => typeof k === 'string' && k.length >= 1 && k.length <= 128)) {
    throw new AwsError('TagException', 'TagKeys must be a list of 1..50 tag keys');
  }
  await ctx.keys.untagKey(keyRefOf(ctx, b, 'KeyId', false), keys as string[], callOpts(ctx));
  return {};
};

export const listResourceTags: Operation = async (ctx, b) => {
  const k = await describe(ctx, keyRefOf(ctx, b, 'KeyId', false));
  const tags = Object.entries(k.tags).sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
  const p = page(tags, b, 50, 50);
  return { Tags: p.items, Truncated: p.Truncated, ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}) };
};
