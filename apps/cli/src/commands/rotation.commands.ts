/** `ekm rotation status [--json]` and `ekm rotation rewrap --key K [--version N]`: the scheduler and re-wrap progress from a shell. */
import { Command } from 'commander';
import { RotationClient, type Ekm, type RewrapProgress, type RotationStatus } from '@ekm/client';
import { parseIntBetween } from '../args';
import type { CliContext, EkmApi } from '../cli-context';
import { withExamples } from '../help';
import { renderTable } from '../table';
import type { TerminalView } from '../terminal';

function rotationOf(api: EkmApi): EkmApi['rotation'] {
  return api.rotation;
}

const pct = (p: RewrapProgress): string => `${p.onPrimary}/${p.totalAssets} (${Math.round(p.rewrappedShare * 100)}%)`;

export function statusText(s: RotationStatus, view?: TerminalView): string {
  const out: string[] = [`clock ${s.schedule.now}   tracked keys ${s.schedule.trackedKeys}`];
  const section = (title: string, head: string[], rows: (string | number)[][]): void => {
    if (rows.length === 0) return void out.push(`${title}: none`);
    out.push(`${title}:\n${renderTable(head, rows, view)}`);
  };
  const sc = s.schedule;
  section('next rotations', ['key', 'due', 'period (days)'], sc.nextRotations.map((r) => [r.keyId, r.nextRotationAt, r.periodDays]));
  section('overdue', ['kind', 'key', 'due'], sc.overdue.map((r) => [r.kind, r.keyId, r.dueAt]));
  section('failures', ['kind', 'key', 'attempts', 'next retry', 'last error'], sc.failures.map((r) => [r.kind, r.keyId, r.attempts, r.retryAt ?? '-', r.lastError]));
  section('pending deletions', ['key', 'due', 'live assets'], sc.pendingDeletions.map((r) => [r.keyId, r.deletionDueAt, r.liveAssets]));
  section('re-wrap progress', ['key', 'primary', 'on primary'], sc.rewrap.map((r) => [r.keyId, r.primaryVersion ?? '-', pct(r)]));
  section('budget rotations', ['key', 'count', 'last'], sc.budgetRotations.map((r) => [r.keyId, r.count, r.lastAt]));
  return `${out.join('\n')}\n`;
}

export function rotationCommand(ctx: CliContext): Command {
  const rotation = withExamples(new Command('rotation').description('scheduled rotation, deletion and re-wrap tracking'), 'ekm rotation status', 'ekm rotation rewrap --key alias/acme-docs --version 1 --json');
  rotation.command('status').description('next rotations, overdue items, failures and re-wrap progress per key')
    .option('--limit <n>', 'rows per list (1-1000, default 50)', (v) => parseIntBetween('--limit', v, 1, 1000))
    .action(async (o: { limit?: number }, self: Command) => {
      const s = await rotationOf(await ctx.api(self)).status(o.limit !== undefined ? { limit: o.limit } : {});
      ctx.print(self, s, (view) => statusText(s, view));
    });
  rotation.command('rewrap').description('re-wrap progress of a key; with --version, the assets still under it')
    .requiredOption('--key <key>', 'key id or alias/NAME')
    .option('--version <n>', 'list the assets still under this version', (v) => parseIntBetween('--version', v, 1, 2 ** 31 - 1))
    .option('--limit <n>', 'assets listed (1-1000, default 100)', (v) => parseIntBetween('--limit', v, 1, 1000))
    .action(async (o: { key: string; version?: number; limit?: number }, self: Command) => {
      const keyId = await ctx.keyIdOf(self, o.key);
      const r = await rotationOf(await ctx.api(self)).rewrapStatus({ keyId, ...(o.version !== undefined ? { version: o.version } : {}), ...(o.limit !== undefined ? { limit: o.limit } : {}) });
      ctx.print(self, r, () => {
        const lines = [`key ${r.keyId}   primary v${r.primaryVersion ?? '-'}   re-wrapped ${pct(r)}`, ...r.byVersion.map((v) => `  v${v.version}: ${v.assets} asset(s)`)];
        if (r.version) lines.push(`under v${r.version.version} (${r.version.total}):`, ...r.version.assets.map((a) => `  ${a.tenant}/${a.collection}/${a.asset}  ${a.wrappedAt}`));
        return `${lines.join('\n')}\n`;
      });
    });
  return rotation;
}
