/**
 * `ekm audit tail`: the newest N trail entries the caller may read, exactly N in every format, then new
 * ones with --follow. It reads through `ekm.v1.audit.query` (signed, confined to the caller's tenant), not
 * the SIEM stream EKM_AUDIT: that stream carries every tenant's entries and is for the SIEM's own NATS
 * identity. The query route returns entries only (checkpoints are not entries), newest first, so a page of
 * N is exactly the newest N.
 */
import type { Command } from 'commander';
import { toCef, type AuditEntry } from '@ekm/client';
import type { CliContext } from '../cli-context';
import { usageError } from '../cli-error';
import { yamlDocument } from '../output-format';
import { renderTable } from '../table';
import type { TerminalView } from '../terminal';

export const TAIL_FORMATS = ['table', 'json', 'cef', 'yaml'] as const;
export type TailFormat = (typeof TAIL_FORMATS)[number];
/** How often --follow asks for entries after the last one printed. */
const FOLLOW_POLL_MS = 1000;

export function entryTable(entries: readonly AuditEntry[], view?: TerminalView): string {
  return `${renderTable(['leaf', 'time', 'action', 'outcome', 'principal', 'key', 'ver', 'tenant', 'reason'],
    entries.map((e) => [e.leafIndex, e.time, e.action, e.outcome, e.actor.principal, e.keyId ?? '-', e.keyVersion ?? '-', e.tenant ?? '-', e.reason ?? e.errorCode ?? '']), view)}\n`;
}

/** One entry as a line (json, cef), a YAML document, or a tab-separated line (table while following). */
export function entryLine(format: TailFormat, e: AuditEntry): string {
  if (format === 'cef') return `${toCef(e)}\n`;
  if (format === 'json') return `${JSON.stringify(e)}\n`;
  if (format === 'yaml') return `---\n${yamlDocument(e)}`;
  return `${[e.leafIndex, e.time, e.action, e.outcome, e.actor.principal, e.keyId ?? '-', e.keyVersion ?? '-', e.tenant ?? '-', e.reason ?? e.errorCode ?? ''].join('\t')}\n`;
}

export async function runTail(ctx: CliContext, cmd: Command, o: { lines?: number; follow?: boolean; format?: string }): Promise<void> {
  const output = ctx.format(cmd);
  const format = (o.format ?? output) as TailFormat;
  if (!(TAIL_FORMATS as readonly string[]).includes(format)) throw usageError(`--format ${format}: must be one of ${TAIL_FORMATS.join(', ')}`);
  const client = (await ctx.api(cmd)).audit;
  const newest = await client.query({ limit: o.lines ?? 20, order: 'desc' });
  const entries = [...newest.entries].reverse();
  if (format === 'table' && !o.follow) ctx.deps.io.stdout(entryTable(entries, ctx.view));
  else for (const e of entries) ctx.deps.io.stdout(entryLine(format, e));
  let cursor = entries.length > 0 ? entries[entries.length - 1]!.leafIndex : undefined;
  while (o.follow) {
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    const page = await client.query({ ...(cursor !== undefined ? { cursor } : {}), limit: 1000, order: 'asc' });
    for (const e of page.entries) ctx.deps.io.stdout(entryLine(format, e));
    if (page.entries.length > 0) cursor = page.entries[page.entries.length - 1]!.leafIndex;
  }
}
