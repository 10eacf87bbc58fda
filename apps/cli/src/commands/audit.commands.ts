/** `ekm audit tail|query|report|verify`: the audit trail from a shell (tables for people, --json for scripts). */
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { AuditClient, natsConnectOptions, toCef, type AuditEntry, type Ekm } from '@ekm/client';
import { parseIntBetween } from '../args';
import type { CliContext, EkmApi } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';
import { resolveNatsUrl } from '../nats-url';
import { cliNatsLogin } from '../nats-login';

const iso = (option: string, v: string): string => {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw usageError(`${option} ${v}: must be an ISO-8601 time, e.g. 2026-01-31T00:00:00Z`);
  return new Date(t).toISOString();
};

/** The audit client on the CLI's connection (the SDK facade exposes its low-level client). */
function auditOf(api: EkmApi): AuditClient {
  const withAudit = api as EkmApi & { audit?: AuditClient };
  if (withAudit.audit) return withAudit.audit;
  return new AuditClient((api as unknown as Ekm).client);
}

export function entryTable(entries: readonly AuditEntry[]): string {
  const t = new Table({ head: ['leaf', 'time', 'action', 'outcome', 'principal', 'key', 'ver', 'tenant', 'reason'] });
  for (const e of entries) t.push([e.leafIndex, e.time, e.action, e.outcome, e.actor.principal, e.keyId ?? '-', e.keyVersion ?? '-', e.tenant ?? '-', e.reason ?? e.errorCode ?? '']);
  return `${t.toString()}\n`;
}

async function natsOf(ctx: CliContext, cmd: Command, identity: 'cli' | 'siem' = 'cli'): Promise<NatsConnection> {
  const { url } = resolveNatsUrl(ctx.globals(cmd).nats, ctx.deps.env, ctx.deps.cwd);
  const login = cliNatsLogin(ctx.deps.env, ctx.deps.cwd, url, identity);
  return connect({ name: 'ekm-cli-audit', ...natsConnectOptions({ servers: url, ...login }, {}) });
}

export function auditCommand(ctx: CliContext): Command {
  const audit = withExamples(new Command('audit').description('the tamper-evident audit trail'), 'ekm audit verify', 'ekm audit query --key alias/acme-docs --outcome denied');

  withExamples(audit.command('query').description('trail entries by key, principal, tenant, action, outcome and time (one page)')
    .option('--key <id>', 'key id').option('--principal <p>', 'principal').option('--tenant <t>', 'tenant')
    .option('--action <a>', 'action, e.g. GenerateDataKey or KeyCreated').option('--outcome <o>', 'success | denied | failure')
    .option('--from <iso>', 'from this time (inclusive)').option('--to <iso>', 'until this time (exclusive)')
    .option('--cursor <leaf>', 'continue after this leaf index (the previous nextCursor)', (v) => parseIntBetween('--cursor', v, 0, Number.MAX_SAFE_INTEGER))
    .option('--limit <n>', 'entries per page (1-1000, default 100)', (v) => parseIntBetween('--limit', v, 1, 1000))
    .option('--desc', 'newest first'),
  'ekm audit query --tenant acme --from 2026-01-01T00:00:00Z --json')
    .action(async (o: { key?: string; principal?: string; tenant?: string; action?: string; outcome?: string; from?: string; to?: string; cursor?: number; limit?: number; desc?: boolean }, self: Command) => {
      if (o.outcome !== undefined && !['success', 'denied', 'failure'].includes(o.outcome)) throw usageError(`--outcome ${o.outcome}: must be success, denied or failure`);
      const page = await auditOf(await ctx.api(self)).query({
        ...(o.key ? { keyId: o.key } : {}), ...(o.principal ? { principal: o.principal } : {}), ...(o.tenant ? { tenant: o.tenant } : {}),
        ...(o.action ? { action: o.action } : {}), ...(o.outcome ? { outcome: o.outcome as 'success' } : {}),
        ...(o.from ? { from: iso('--from', o.from) } : {}), ...(o.to ? { to: iso('--to', o.to) } : {}),
        ...(o.cursor !== undefined ? { cursor: o.cursor } : {}), ...(o.limit !== undefined ? { limit: o.limit } : {}), order: o.desc ? 'desc' : 'asc',
      });
      ctx.print(self, page, () => `${entryTable(page.entries)}${page.nextCursor !== null ? `next page: --cursor ${page.nextCursor}\n` : ''}`);
    });

  withExamples(audit.command('verify').description('recompute the hash chain and check every signed checkpoint; exit 1 when tampered'), 'ekm audit verify --json')
    .action(async (_o: unknown, self: Command) => {
      const json = ctx.globals(self).json === true;
      const showBar = !json && process.stderr.isTTY === true;
      const nc = showBar ? await natsOf(ctx, self) : null;
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
        ctx.print(self, { ok: r.ok, entries: r.entries, firstBadIndex: r.firstBadIndex, reason: r.reason }, () =>
          r.ok ? `OK: ${r.entries} entries; ${r.reason}\n` : `TAMPERED: first bad entry ${r.firstBadIndex} of ${r.entries}: ${r.reason}\n`);
      } finally {
        bar?.stop();
        await nc?.close();
      }
    });

  withExamples(audit.command('report').description('signed report: which keys and versions protected which data assets in a window')
    .requiredOption('--from <iso>', 'window start (inclusive)').requiredOption('--to <iso>', 'window end (exclusive)')
    .option('--tenant <t>', 'only this tenant').option('--key <id>', 'only this key'),
  'ekm audit report --from 2026-01-01T00:00:00Z --to 2026-02-01T00:00:00Z --tenant acme --json')
    .action(async (o: { from: string; to: string; tenant?: string; key?: string }, self: Command) => {
      const r = await auditOf(await ctx.api(self)).report({ from: iso('--from', o.from), to: iso('--to', o.to), ...(o.tenant ? { tenant: o.tenant } : {}), ...(o.key ? { keyId: o.key } : {}) });
      ctx.print(self, r, () => {
        const t = new Table({ head: ['key', 'ver', 'tenant', 'collection', 'asset', 'ops', 'first', 'last'] });
        for (const x of r.report.rows) t.push([x.keyId, x.keyVersion ?? '-', x.tenant ?? '-', x.collection ?? '-', x.asset ?? '-', x.operations, x.firstAt, x.lastAt]);
        return `${t.toString()}\ntrail: ${r.report.trail.treeSize} entries, root ${r.report.trail.root}\nsigned (Ed25519, key ${r.keyId}): ${r.signature}\n`;
      });
    });

  withExamples(audit.command('tail').description('the newest entries of the SIEM stream EKM_AUDIT (and new ones with --follow)')
    .option('-n, --lines <n>', 'how many of the newest entries (default 20)', (v) => parseIntBetween('--lines', v, 1, 100_000))
    .option('--follow', 'keep printing new entries until interrupted')
    .option('--format <f>', 'json | cef | table (default table; json with --json)'),
  'ekm audit tail -n 50 --format cef', 'ekm audit tail --follow --format json')
    .action(async (o: { lines?: number; follow?: boolean; format?: string }, self: Command) => {
      const format = o.format ?? (ctx.globals(self).json ? 'json' : 'table');
      if (!['json', 'cef', 'table'].includes(format)) throw usageError(`--format ${format}: must be json, cef or table`);
      const nc = await natsOf(ctx, self, 'siem');
      try {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.info('EKM_AUDIT');
        const last = info.state.last_seq;
        const start = Math.max(info.state.first_seq, last - (o.lines ?? 20) * 2 + 1); // checkpoints share the stream
        const consumer = await jetstream(nc).consumers.get('EKM_AUDIT', { opt_start_seq: start, deliver_policy: DeliverPolicy.StartSequence });
        const rows: AuditEntry[] = [];
        const emit = (e: AuditEntry): void => {
          if (format === 'cef') ctx.deps.io.stdout(`${toCef(e)}\n`);
          else if (format === 'json') ctx.deps.io.stdout(`${JSON.stringify(e)}\n`);
          else rows.push(e);
        };
        if (last >= start) {
          const msgs = await consumer.consume();
          for await (const m of msgs) {
            if (m.subject !== 'ekm.audit.v1.checkpoint') emit(m.json<AuditEntry>());
            if (!o.follow && m.seq >= last) break;
          }
        }
        if (format === 'table') ctx.deps.io.stdout(entryTable(rows.slice(-(o.lines ?? 20))));
      } finally {
        await nc.close();
      }
    });
  return audit;
}
