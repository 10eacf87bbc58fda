/** `ekm key alias create|delete`, `ekm key tag|untag`, `ekm key rotation enable|disable|status` (added under `ekm key`). */
import { Command } from 'commander';
import { collect, parseIntBetween, toStringMap } from '../args';
import type { CliContext } from '../cli-context';
import { withExamples } from '../help';
import { fieldLines, formatRotation, keyTable } from '../output';

export function addKeySettingsCommands(ctx: CliContext, key: Command): void {
  const alias = withExamples(key.command('alias').description('manage key aliases (alias/NAME)'), 'ekm key alias create <key-id> alias/acme-docs');
  withExamples(alias.command('create').description('give a key an alias').argument('<key>', 'key id or alias/NAME').argument('<alias>', 'alias/NAME or NAME'),
    'ekm key alias create 3f2504e0-4f89-41d3-9a0c-0305e82c3301 alias/acme-docs')
    .action(async (id: string, name: string, _o: unknown, self: Command) => {
      const k = await (await ctx.api(self)).keys.createAlias(id, name);
      ctx.print(self, k, (view) => keyTable(k, view));
    });
  withExamples(alias.command('delete').description('remove an alias from a key').argument('<key>', 'key id or alias/NAME').argument('<alias>', 'alias/NAME or NAME'),
    'ekm key alias delete 3f2504e0-4f89-41d3-9a0c-0305e82c3301 alias/acme-docs')
    .action(async (id: string, name: string, _o: unknown, self: Command) => {
      const k = await (await ctx.api(self)).keys.deleteAlias(id, name);
      ctx.print(self, k, (view) => keyTable(k, view));
    });

  withExamples(key.command('tag').description('set tags on a key (existing tag keys are overwritten)').argument('<key>', 'key id or alias/NAME')
    .requiredOption('--tag <k=v>', 'tag (repeatable)', collect), 'ekm key tag alias/acme-docs --tag env=prod --tag owner=search')
    .action(async (id: string, o: { tag: string[] }, self: Command) => {
      const k = await (await ctx.api(self)).keys.tagKey(id, toStringMap('--tag', o.tag) ?? {});
      ctx.print(self, k, (view) => keyTable(k, view));
    });
  withExamples(key.command('untag').description('remove tags from a key').argument('<key>', 'key id or alias/NAME').argument('<tagKeys...>', 'tag keys to remove'),
    'ekm key untag alias/acme-docs env owner')
    .action(async (id: string, tagKeys: string[], _o: unknown, self: Command) => {
      const k = await (await ctx.api(self)).keys.untagKey(id, tagKeys);
      ctx.print(self, k, (view) => keyTable(k, view));
    });

  const rotation = withExamples(key.command('rotation').description('automatic rotation settings'), 'ekm key rotation enable alias/acme-docs --days 90');
  withExamples(rotation.command('enable').description('rotate automatically every N days').argument('<key>', 'key id or alias/NAME')
    .option('--days <n>', 'rotation period in whole days (1-2560, default 365)', (v) => parseIntBetween('--days', v, 1, 2560)),
  'ekm key rotation enable alias/acme-docs --days 90')
    .action(async (id: string, o: { days?: number }, self: Command) => {
      const k = await (await ctx.api(self)).keys.enableKeyRotation(id, o.days);
      ctx.print(self, k, (view) => keyTable(k, view));
    });
  withExamples(rotation.command('disable').description('stop automatic rotation').argument('<key>', 'key id or alias/NAME'), 'ekm key rotation disable alias/acme-docs')
    .action(async (id: string, _o: unknown, self: Command) => {
      const k = await (await ctx.api(self)).keys.disableKeyRotation(id);
      ctx.print(self, k, (view) => keyTable(k, view));
    });
  withExamples(rotation.command('status').description('show rotation settings').argument('<key>', 'key id or alias/NAME'), 'ekm key rotation status alias/acme-docs --json')
    .action(async (id: string, _o: unknown, self: Command) => {
      const s = await (await ctx.api(self)).keys.getKeyRotationStatus(id);
      ctx.print(self, s, () => fieldLines({ keyId: s.keyId, rotation: formatRotation(s.rotation), lastRotatedAt: s.lastRotatedAt }));
    });
}

