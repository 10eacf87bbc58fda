/**
 * `ekm audit tail`: the newest N entries of the SIEM stream EKM_AUDIT, exactly N in every format.
 * Signed checkpoints share the stream with the entries, so "the last N messages" is not "the last N
 * entries": the window is read backwards, doubling, until it holds N entries or reaches the start.
 */
import type { Command } from 'commander';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { toCef, type AuditEntry } from '@ekm/client';
import type { CliContext } from '../cli-context';
import { usageError } from '../cli-error';
import { yamlDocument } from '../output-format';
import { renderTable } from '../table';
import type { TerminalView } from '../terminal';

export const AUDIT_STREAM = 'EKM_AUDIT';
const CHECKPOINT_SUBJECT = 'ekm.audit.v1.checkpoint';
export const TAIL_FORMATS = ['table', 'json', 'cef', 'yaml'] as const;
export type TailFormat = (typeof TAIL_FORMATS)[number];

/** Reads the entries (checkpoints left out) with stream sequence in `[from, to]`, in order. */
export type ReadRange = (from: number, to: number) => Promise<AuditEntry[]>;

/**
 * The newest `n` entries among stream sequences `[first, last]`: windows of 2n, 4n, ... sequences,
 * read from the end backwards (each sequence once), until `n` entries or the first sequence.
 */
export async function newestEntries(n: number, first: number, last: number, read: ReadRange): Promise<AuditEntry[]> {
  let got: AuditEntry[] = [];
  let to = last;
  let window = Math.max(2 * n, 16);
  while (got.length < n && to >= first && to > 0) {
    const from = Math.max(first, to - window + 1, 1);
    got = [...(await read(from, to)), ...got];
    to = from - 1;
    window *= 2;
  }
  return got.slice(-n);
}

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

function rangeReader(js: JetStreamClient): ReadRange {
  return async (from, to) => {
    const consumer = await js.consumers.get(AUDIT_STREAM, { opt_start_seq: from, deliver_policy: DeliverPolicy.StartSequence });
    const out: AuditEntry[] = [];
    const msgs = await consumer.consume();
    try {
      for await (const m of msgs) {
        if (m.seq <= to && m.subject !== CHECKPOINT_SUBJECT) out.push(m.json<AuditEntry>());
        if (m.seq >= to) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return out;
  };
}

export async function runTail(ctx: CliContext, cmd: Command, o: { lines?: number; follow?: boolean; format?: string }): Promise<void> {
  const output = ctx.format(cmd);
  const format = (o.format ?? output) as TailFormat;
  if (!(TAIL_FORMATS as readonly string[]).includes(format)) throw usageError(`--format ${format}: must be one of ${TAIL_FORMATS.join(', ')}`);
  const n = o.lines ?? 20;
  const nc = await ctx.nats(cmd, 'ekm-cli-audit');
  try {
    const info = await (await jetstreamManager(nc)).streams.info(AUDIT_STREAM);
    const js = jetstream(nc);
    const last = info.state.last_seq;
    const entries = await newestEntries(n, info.state.first_seq, last, rangeReader(js));
    if (format === 'table' && !o.follow) ctx.deps.io.stdout(entryTable(entries, ctx.view));
    else for (const e of entries) ctx.deps.io.stdout(entryLine(format, e));
    if (!o.follow) return;
    const consumer = await js.consumers.get(AUDIT_STREAM, last > 0 ? { opt_start_seq: last + 1, deliver_policy: DeliverPolicy.StartSequence } : { deliver_policy: DeliverPolicy.New });
    for await (const m of await consumer.consume()) {
      if (m.subject !== CHECKPOINT_SUBJECT) ctx.deps.io.stdout(entryLine(format, m.json<AuditEntry>()));
    }
  } finally {
    await nc.close();
  }
}
