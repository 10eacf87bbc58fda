/** `ekm audit tail|query|report|verify`: the audit trail from a shell (tables for people, --json for scripts). */
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createInbox } from '@nats-io/transport-node';
import { AUDIT_CATEGORIES } from '@ekm/contracts';
import type { AuditCategory } from '@ekm/client';
import { parseIntBetween } from '../args';
import type { CliContext, EkmApi } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';
import { renderTable } from '../table';
import { entryTable, runTail, TAIL_FORMATS } from './audit-tail';

export { entryTable } from './audit-tail';

const iso = (option: string, v: string): string => {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw usageError(`${option} ${v}: must be an ISO-8601 time, e.g. 2026-01-31T00:00:00Z`);
  return new Date(t).toISOString();
};

const isCategory = (c: string): c is AuditCategory => (AUDIT_CATEGORIES as readonly string[]).includes(c);

/** The audit client on the CLI's connection (a typed client of the SDK facade). */
function auditOf(api: EkmApi): EkmApi['audit'] {
  return api.audit;
}

export function auditCommand(ctx: CliContext): Command {
  const audit = withExamples(new Command('audit').description('the tamper-evident audit trail'), 'ekm audit verify', 'ekm audit query --key alias/acme-docs --outcome denied', 'ekm audit tail -n 20');

  withExamples(audit.command('query').description('trail entries by key, principal, tenant, action, outcome and time (one page)')
    .option('--key <key>', 'key id or alias/NAME (the key the alias names now)').option('--principal <p>', 'principal').option('--tenant <t>', 'tenant')
    .option('--action <a>', 'action, e.g. GenerateDataKey or KeyCreated').option('--outcome <o>', 'success | denied | failure')
    .option('--category <c>', 'key_usage | key_lifecycle | authentication | policy | rotation | other | quarantine')
    .option('--from <iso>', 'from this time (inclusive)').option('--to <iso>', 'until this time (exclusive)')
    .option('--cursor <leaf>', 'continue after this leaf index (the previous nextCursor)', (v) => parseIntBetween('--cursor', v, 0, Number.MAX_SAFE_INTEGER))
    .option('--limit <n>', 'entries per page (1-1000, default 100): the newest n, newest first', (v) => parseIntBetween('--limit', v, 1, 1000))
    .option('--asc', 'oldest first (the oldest n matching entries; --cursor then continues forwards)')
    .option('--desc', 'newest first (the default)'),
  'ekm audit query --key alias/acme-docs --limit 5', 'ekm audit query --tenant acme --from 2026-01-01T00:00:00Z --asc --json')
    .action(async (o: { key?: string; principal?: string; tenant?: string; action?: string; outcome?: string; category?: string; from?: string; to?: string; cursor?: number; limit?: number; asc?: boolean; desc?: boolean }, self: Command) => {
      if (o.outcome !== undefined && !['success', 'denied', 'failure'].includes(o.outcome)) throw usageError(`--outcome ${o.outcome}: must be success, denied or failure`);
      if (o.category !== undefined && !isCategory(o.category)) throw usageError(`--category ${o.category}: must be one of ${AUDIT_CATEGORIES.join(', ')}`);
      if (o.asc && o.desc) throw usageError('--asc and --desc contradict each other; give one');
      const filters = { from: o.from !== undefined ? iso('--from', o.from) : undefined, to: o.to !== undefined ? iso('--to', o.to) : undefined };
      const keyId = o.key !== undefined ? await ctx.keyIdOf(self, o.key) : undefined;
      const page = await auditOf(await ctx.api(self)).query({
        ...(keyId ? { keyId } : {}), ...(o.principal ? { principal: o.principal } : {}), ...(o.tenant ? { tenant: o.tenant } : {}),
        ...(o.action ? { action: o.action } : {}), ...(o.outcome ? { outcome: o.outcome as 'success' } : {}), ...(o.category !== undefined && isCategory(o.category) ? { category: o.category } : {}),
        ...(filters.from ? { from: filters.from } : {}), ...(filters.to ? { to: filters.to } : {}),
        ...(o.cursor !== undefined ? { cursor: o.cursor } : {}), ...(o.limit !== undefined ? { limit: o.limit } : {}), order: o.asc ? 'asc' : 'desc',
      });
      ctx.print(self, page, (view) => `${entryTable(page.entries, view)}${page.nextCursor !== null ? `next page: --cursor ${page.nextCursor}\n` : ''}`);
    });

  withExamples(audit.command('verify').description('recompute the hash chain and check every signed checkpoint; exit 1 when tampered'), 'ekm audit verify --json')
    .action(async (_o: unknown, self: Command) => {
      const showBar = !ctx.isMachine(self) && process.stderr.isTTY === true;
      const nc = showBar ? await ctx.nats(self, 'ekm-cli-audit') : null;
      const bar = showBar ? new SingleBar({ stream: process.stderr, format: 'verifying {bar} {value}/{total} entries' }, Presets.shades_classic) : null;
      const progressSubject = nc ? createInbox() : undefined;
      if (nc && bar && progressSubject) {
        bar.start(1, 0);
        nc.subscribe(progressSubject, { callback: (_e, m) => {
          const p = m.json<{ done: number; total: number }>();
          bar.setTotal(p.total);
          bar.update(p.done);
        } });
      }
      try {
        const r = await auditOf(await ctx.api(self)).verify(progressSubject ? { progressSubject } : {}, { timeoutMs: Math.max(ctx.globals(self).timeout ?? 0, 600_000) });
        bar?.stop();
        if (!r.ok) ctx.setExitCode(1);
        const extra = { published: r.published ?? null, quarantined: r.quarantined ?? 0, signerDistrust: r.signerDistrust ?? null };
        const notes = `${r.published ? `published checkpoints: ${r.published.checkpoints} (signed through ${r.published.signedThrough})${r.published.rejected > 0 ? `, ${r.published.rejected} message(s) on the checkpoint subject not signed by the audit service (ignored)` : ''}\n` : ''}`
          + `${extra.quarantined > 0 ? `quarantined entries: ${extra.quarantined} (records the trail could not store as is; ekm audit query --category quarantine)\n` : ''}`
          + `${extra.signerDistrust ? `signer stopped signing: ${extra.signerDistrust}\n` : ''}`;
        ctx.print(self, { ok: r.ok, entries: r.entries, firstBadIndex: r.firstBadIndex, reason: r.reason, ...extra }, () =>
          (r.ok ? `OK: ${r.entries} entries; ${r.reason}\n` : `TAMPERED: first bad entry ${r.firstBadIndex} of ${r.entries}: ${r.reason}\n`) + notes);
      } finally {
        bar?.stop();
        await nc?.close();
      }
    });

  withExamples(audit.command('report').description('signed report: which keys and versions protected which data assets in a window')
    .requiredOption('--from <iso>', 'window start (inclusive)').requiredOption('--to <iso>', 'window end (exclusive)')
    .option('--tenant <t>', 'only this tenant').option('--key <key>', 'only this key (id or alias/NAME)'),
  'ekm audit report --from 2026-01-01T00:00:00Z --to 2026-02-01T00:00:00Z --tenant acme --json')
    .action(async (o: { from: string; to: string; tenant?: string; key?: string }, self: Command) => {
      const window = { from: iso('--from', o.from), to: iso('--to', o.to) };
      const keyId = o.key !== undefined ? await ctx.keyIdOf(self, o.key) : undefined;
      const r = await auditOf(await ctx.api(self)).report({ ...window, ...(o.tenant ? { tenant: o.tenant } : {}), ...(keyId ? { keyId } : {}) });
      ctx.print(self, r, (view) => {
        const t = renderTable(['key', 'ver', 'tenant', 'collection', 'asset', 'ops', 'first', 'last'],
          r.report.rows.map((x) => [x.keyId, x.keyVersion ?? '-', x.tenant ?? '-', x.collection ?? '-', x.asset ?? '-', x.operations, x.firstAt, x.lastAt]), view);
        return `${t}\ntrail: ${r.report.trail.treeSize} entries, root ${r.report.trail.root}\nsigned (Ed25519, key ${r.keyId}): ${r.signature}\n`;
      });
    });

  withExamples(audit.command('tail').description('the newest trail entries you may read (and new ones with --follow); a tenant principal sees its tenant only')
    .option('-n, --lines <n>', 'how many of the newest entries (1-1000, default 20)', (v) => parseIntBetween('--lines', v, 1, 1000))
    .option('--follow', 'keep printing new entries until interrupted')
    .option('--format <f>', `${TAIL_FORMATS.join(' | ')} (default: the --output format)`),
  'ekm audit tail -n 50 --format cef', 'ekm audit tail --follow --format json')
    .action((o: { lines?: number; follow?: boolean; format?: string }, self: Command) => runTail(ctx, self, o));
  return audit;
}
