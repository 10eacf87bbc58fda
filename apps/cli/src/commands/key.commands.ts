/** `ekm key create|describe|list|versions|rotate|enable|disable|revoke|compromise-version|schedule-deletion|cancel-deletion|destroy|receipt`. */
import { Command, Option } from 'commander';
import type { KeyInfo, KeySpec, KeyOrigin, KeyStatus, ListKeysInput } from '@ekm/client';
import { collect, parseIntBetween, parseKeyValue, toStringMap } from '../args';
import type { CliContext, EkmApi } from '../cli-context';
import { withExamples } from '../help';
import { keyListTable, keyTable, versionsTable } from '../output';
import { keyReceiptCommand } from './receipt.commands';

const KEY_STATUSES: KeyStatus[] = ['PendingImport', 'Enabled', 'Disabled', 'PendingDeletion', 'Destroyed', 'Compromised'];

interface CreateOptions { tenant: string; collection?: string; description?: string; spec: KeySpec; origin: KeyOrigin; tag?: string[]; require?: string[] }

/** `--collection C` is shorthand for the purpose binding `collection=C`; `--require k=v` adds others. */
export function requiredContextOf(o: Pick<CreateOptions, 'collection' | 'require'>): Record<string, string> | undefined {
  const map = toStringMap('--require', o.require) ?? {};
  if (o.collection !== undefined) map.collection = o.collection;
  return Object.keys(map).length === 0 ? undefined : map;
}

/** A lifecycle command `ekm key <name> <key>` whose reply is the key's new description. */
function lifecycle(ctx: CliContext, name: string, summary: string, example: string, run: (api: EkmApi, keyId: string, opts: Record<string, unknown>) => Promise<KeyInfo>): Command {
  const cmd = new Command(name).description(summary).argument('<key>', 'key id or alias/NAME');
  withExamples(cmd, example);
  return cmd.action(async (keyId: string, opts: Record<string, unknown>, self: Command) => {
    const key = await run(await ctx.api(self), keyId, opts);
    ctx.print(self, key, (view) => keyTable(key, view));
  });
}

export function keyCommand(ctx: CliContext): Command {
  const key = withExamples(new Command('key').description('create and manage keys'), 'ekm key create --tenant acme --collection docs', 'ekm key list --tenant acme');

  withExamples(
    key.command('create').description('create a key (origin EKM: Enabled with version 1; EXTERNAL: PendingImport)')
      .requiredOption('--tenant <tenant>', 'owning tenant')
      .option('--collection <name>', 'purpose binding: require encryption context collection=<name>')
      .option('--require <k=v>', 'another required encryption-context entry (repeatable)', collect)
      .option('--description <text>', 'free-text description')
      .addOption(new Option('--spec <spec>', 'key spec').choices(['SYMMETRIC_DEFAULT', 'HMAC_256']).default('SYMMETRIC_DEFAULT'))
      .addOption(new Option('--origin <origin>', 'who makes the material').choices(['EKM', 'EXTERNAL']).default('EKM'))
      .option('--tag <k=v>', 'tag (repeatable)', collect),
    'ekm key create --tenant acme --collection docs --description "acme docs" --tag env=prod',
    'ekm key create --tenant acme --spec HMAC_256 --json',
  ).action(async (o: CreateOptions, self: Command) => {
    const input = {
      tenant: o.tenant, spec: o.spec, origin: o.origin,
      ...(o.description !== undefined ? { description: o.description } : {}),
      ...(o.tag ? { tags: toStringMap('--tag', o.tag) } : {}),
      ...(requiredContextOf(o) ? { requiredContext: requiredContextOf(o) } : {}),
    };
    const created = await (await ctx.api(self)).keys.createKey(input);
    ctx.print(self, created, (view) => keyTable(created, view));
  });

  key.addCommand(lifecycle(ctx, 'describe', 'show a key (never its material)', 'ekm key describe alias/acme-docs', (api, id) => api.keys.describeKey(id)));

  withExamples(
    key.command('list').description('list keys matching the filters (follows every page with --all)')
      .option('--tenant <tenant>', 'only this tenant')
      .addOption(new Option('--status <status>', 'only keys in this state').choices(KEY_STATUSES))
      .option('--tag <k=v>', 'only keys with this tag')
      .option('--alias <alias>', 'only the key with this alias')
      .option('--limit <n>', 'page size (1-100, default 50)', (v) => parseIntBetween('--limit', v, 1, 100))
      .option('--cursor <cursor>', 'continue after a previous page')
      .option('--all', 'fetch every page'),
    'ekm key list --tenant acme --status Enabled',
    'ekm key list --tag env=prod --all --json',
  ).action(async (o: { tenant?: string; status?: KeyStatus; tag?: string; alias?: string; limit?: number; cursor?: string; all?: boolean }, self: Command) => {
    const api = await ctx.api(self);
    const [tagKey, tagValue] = o.tag !== undefined ? parseKeyValue('--tag', o.tag) : [];
    const base: ListKeysInput = {
      ...(o.tenant !== undefined ? { tenant: o.tenant } : {}), ...(o.status ? { status: o.status } : {}),
      ...(tagKey !== undefined ? { tag: { key: tagKey, value: tagValue ?? '' } } : {}), ...(o.alias !== undefined ? { alias: o.alias } : {}),
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
    };
    const keys: KeyInfo[] = [];
    let cursor = o.cursor ?? null;
    do {
      const page = await api.keys.listKeys(cursor === null ? base : { ...base, cursor });
      keys.push(...page.keys);
      cursor = page.nextCursor;
    } while (o.all && cursor !== null);
    ctx.print(self, { keys, nextCursor: cursor }, (view) => keyListTable(keys, view) + (cursor ? `more: --cursor ${cursor}\n` : ''));
  });

  withExamples(key.command('versions').description('list the versions of a key').argument('<key>', 'key id or alias/NAME'), 'ekm key versions alias/acme-docs')
    .action(async (id: string, _o: unknown, self: Command) => {
      const versions = await (await ctx.api(self)).keys.listKeyVersions(id);
      ctx.print(self, { keyId: id, versions }, (view) => versionsTable(versions, view));
    });

  key.addCommand(lifecycle(ctx, 'rotate', 'add a new primary version now (old versions still decrypt)', 'ekm key rotate alias/acme-docs', (api, id) => api.keys.rotateKey(id)));
  key.addCommand(lifecycle(ctx, 'enable', 'enable a Disabled key', 'ekm key enable 3f2504e0-4f89-41d3-9a0c-0305e82c3301', (api, id) => api.keys.enableKey(id)));
  key.addCommand(lifecycle(ctx, 'disable', 'disable a key: every replica refuses it within 1 s', 'ekm key disable alias/acme-docs', (api, id) => api.keys.disableKey(id)));
  key.addCommand(lifecycle(ctx, 'revoke', 'mark a key Compromised: it never encrypts again (irreversible)', 'ekm key revoke alias/acme-docs --reason "leaked in incident 42"',
    (api, id, o) => api.keys.revokeKey(id, o.reason as string)).requiredOption('--reason <text>', 'why (kept in the audit trail)'));
  withExamples(
    key.command('compromise-version').description('mark one non-primary version Compromised: it never encrypts again and decrypts only with keys:DecryptCompromised (irreversible; save its data with re-encrypt)')
      .argument('<key>', 'key id or alias/NAME').argument('<version>', 'version number', (v) => parseIntBetween('<version>', v, 1, 2 ** 31 - 1))
      .option('--reason <text>', 'why (kept in the audit trail)', ''),
    'ekm key compromise-version alias/acme-docs 1 --reason "v1 material found in a log"',
  ).action(async (id: string, version: number, o: { reason: string }, self: Command) => {
    const info = await (await ctx.api(self)).keys.markKeyVersionCompromised(id, version, { reason: o.reason });
    ctx.print(self, info, () => keyTable(info));
  });
  key.addCommand(lifecycle(ctx, 'schedule-deletion', 'schedule destruction after a waiting period', 'ekm key schedule-deletion alias/acme-docs --days 7',
    (api, id, o) => api.keys.scheduleKeyDeletion(id, o.days as number | undefined))
    .option('--days <n>', 'waiting period in whole days (7-30, default 30)', (v) => parseIntBetween('--days', v, 1, 3650)));
  key.addCommand(lifecycle(ctx, 'cancel-deletion', 'cancel a scheduled deletion (the key becomes Disabled)', 'ekm key cancel-deletion alias/acme-docs', (api, id) => api.keys.cancelKeyDeletion(id)));
  key.addCommand(lifecycle(ctx, 'destroy', 'crypto-shred a key whose deletion date has passed', 'ekm key destroy 3f2504e0-4f89-41d3-9a0c-0305e82c3301', (api, id) => api.keys.destroyKey(id)));
  key.addCommand(keyReceiptCommand(ctx));
  return key;
}
