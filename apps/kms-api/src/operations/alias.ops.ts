/** Alias operations. EKM keeps aliases on the key; ListAliases walks the caller's keys. */
import type { KeyInfo } from '@ekm/client';
import { AwsError } from '../protocol/aws-error';
import { aliasArn, parseAliasName } from '../protocol/key-refs';
import { describe } from './key-admin.ops';
import { callOpts, keyRefOf, type OpContext, type Operation } from './op-context';
import { page } from './paging';

export const createAlias: Operation = async (ctx, b) => {
  const alias = parseAliasName(b.AliasName);
  const target = await describe(ctx, keyRefOf(ctx, b, 'TargetKeyId', false));
  await ctx.keys.createAlias(target.keyId, alias, callOpts(ctx));
  return {};
};

/** Moves the alias: removed from its current key, then added to the target (two bus calls; not atomic). */
export const updateAlias: Operation = async (ctx, b) => {
  const alias = parseAliasName(b.AliasName);
  const target = await describe(ctx, keyRefOf(ctx, b, 'TargetKeyId', false));
  const current = await describe(ctx, alias);
  if (current.keyId === target.keyId) return {};
  if (current.spec !== target.spec) throw new AwsError('ValidationException', 'the new target key must have the same KeySpec and KeyUsage as the current one');
  await ctx.keys.deleteAlias(current.keyId, alias, callOpts(ctx, ':d'));
  await ctx.keys.createAlias(target.keyId, alias, callOpts(ctx, ':c'));
  return {};
};

export const deleteAlias: Operation = async (ctx, b) => {
  const alias = parseAliasName(b.AliasName);
  const current = await describe(ctx, alias);
  await ctx.keys.deleteAlias(current.keyId, alias, callOpts(ctx));
  return {};
};

async function allKeys(ctx: OpContext): Promise<KeyInfo[]> {
  const out: KeyInfo[] = [];
  let cursor: string | null = null;
  do {
    const p = await ctx.keys.listKeys({ ...(ctx.caller.tenant !== '*' ? { tenant: ctx.caller.tenant } : {}), limit: 100, ...(cursor !== null ? { cursor } : {}) });
    out.push(...p.keys);
    cursor = p.nextCursor;
  } while (cursor !== null && out.length < 100_000);
  return out;
}

export const listAliases: Operation = async (ctx, b) => {
  const keys = b.KeyId !== undefined ? [await describe(ctx, keyRefOf(ctx, b, 'KeyId', false))] : (await allKeys(ctx)).filter((k) => k.status !== 'Destroyed');
  const aliases = keys.flatMap((k) => k.aliases.map((a) => ({ AliasName: a, AliasArn: aliasArn(ctx.caller.region, k.tenant, a), TargetKeyId: k.keyId })))
    .sort((x, y) => (x.AliasName < y.AliasName ? -1 : x.AliasName > y.AliasName ? 1 : 0));
  const p = page(aliases, b, 50, 100);
  return { Aliases: p.items, Truncated: p.Truncated, ...(p.NextMarker !== undefined ? { NextMarker: p.NextMarker } : {}) };
};
