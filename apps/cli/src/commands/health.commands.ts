/**
 * `ekm health`: is the local stack up? Reads `.ekm/stack.json` (from `npm run up`), probes every
 * service's `/health/ready` and its `ekm.v1.<service>.status` subject. Exit 0 when all answer, 3 otherwise.
 */
import { Command } from 'commander';
import { BusErrorCode, SERVICES } from '@ekm/contracts';
import type { CliContext, EkmApi } from '../cli-context';
import { ExitCode } from '../exit-codes';
import { withExamples } from '../help';
import { findStackFile } from '../stack-file';
import { renderTable } from '../table';
import type { TerminalView } from '../terminal';

/** HTTP ports of `npm run up` when there is no stack.json (docs/development.md). */
const DEFAULT_HTTP_PORT: Readonly<Record<string, number>> = { keys: 7101, policy: 7102, rotation: 7103, audit: 7104 };

/** One service's health as `ekm health --json` prints it. */
export interface ServiceHealth {
  readonly service: string;
  readonly ready: { readonly url: string; readonly ok: boolean; readonly status: number | null; readonly detail: string };
  readonly bus: { readonly ok: boolean; readonly detail: string; readonly version?: string; readonly uptimeSeconds?: number; readonly relayLag?: number | null; readonly trail?: TrailStatus };
  readonly ok: boolean;
}

/** The audit service's trail health (its status reply): quarantined entries, lag, signer trust. */
interface TrailStatus {
  readonly head?: number;
  readonly quarantined?: number;
  readonly unappended?: number;
  readonly oldestUnappendedAgeMs?: number | null;
  readonly signing?: { readonly trusted: boolean; readonly reason: string | null };
  readonly error?: string;
}

/** One line on the trail under the table (`ekm health` shows more than "up" for the audit service). */
export function trailLine(t: TrailStatus | undefined): string {
  if (!t) return '';
  if (t.error) return `audit trail: ${t.error}\n`;
  const age = t.oldestUnappendedAgeMs;
  return `audit trail: ${t.head ?? 0} entries, ${t.quarantined ?? 0} quarantined, ${t.unappended ?? 0} record(s) waiting${age !== null && age !== undefined ? ` (oldest ${Math.round(age / 1000)} s)` : ''}`
    + `${t.signing && !t.signing.trusted ? `; SIGNING STOPPED: ${t.signing.reason ?? 'unknown'}` : ''}\n`;
}

async function probeReady(url: string, timeoutMs: number): Promise<ServiceHealth['ready']> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    let detail = res.ok ? 'ready' : `HTTP ${res.status}`;
    if (!res.ok) {
      try {
        const j = JSON.parse(body) as { checks?: Record<string, unknown>; failing?: unknown };
        detail = `HTTP ${res.status} ${JSON.stringify(j.failing ?? j.checks ?? j)}`.slice(0, 200);
      } catch { /* not JSON: keep the status */ }
    }
    return { url, ok: res.ok, status: res.status, detail };
  } catch (e) {
    return { url, ok: false, status: null, detail: `unreachable (${e instanceof Error ? (e.cause as { code?: string } | undefined)?.code ?? e.name : String(e)})` };
  }
}

export function healthTable(rows: readonly ServiceHealth[], view?: TerminalView): string {
  return `${renderTable(['service', 'health', '/health/ready', 'status subject', 'version', 'uptime s', 'relay lag'],
    rows.map((r) => [r.service, r.ok ? 'UP' : 'DOWN', r.ready.detail, r.bus.ok ? 'ok' : r.bus.detail, r.bus.version ?? '-', r.bus.uptimeSeconds ?? '-', r.bus.relayLag ?? '-']), view)}\n`;
}

export function healthCommand(ctx: CliContext): Command {
  return withExamples(new Command('health').description('probe every service of the local stack (.ekm/stack.json): /health/ready over HTTP and the status subject over NATS; exit 3 when anything is down'),
    'ekm health', 'ekm health --json | jq \'.services[] | select(.ok | not)\'')
    .action(async (_o: unknown, self: Command) => {
      const stack = findStackFile(ctx.deps.cwd);
      const timeoutMs = Math.min(ctx.globals(self).timeout ?? 3000, 10_000);
      let api: EkmApi | undefined;
      let busDown: string | undefined;
      try {
        api = await ctx.api(self);
      } catch (e) {
        // A configuration error (no NATS URL, bad credential file) keeps its own code: retrying will not help.
        busDown = `${(e as { code?: string }).code ?? BusErrorCode.Unavailable}: ${e instanceof Error ? e.message : String(e)}`;
      }
      const rows = await Promise.all(SERVICES.map(async (service): Promise<ServiceHealth> => {
        const url = stack?.services[service]?.ready ?? `http://127.0.0.1:${DEFAULT_HTTP_PORT[service]}/health/ready`;
        const [ready, bus] = await Promise.all([probeReady(url, timeoutMs), (async (): Promise<ServiceHealth['bus']> => {
          if (!api) return { ok: false, detail: busDown ?? `${BusErrorCode.Unavailable}: no connection` };
          try {
            const s = await api.client.call<{ version: string; uptimeSeconds: number; relay: null | { lag?: number }; trail?: TrailStatus }>(service, 'status', {}, { maxAttempts: 1, timeoutMs });
            return { ok: true, detail: 'ok', version: s.version, uptimeSeconds: s.uptimeSeconds, relayLag: s.relay && 'lag' in s.relay ? s.relay.lag ?? null : null, ...(s.trail ? { trail: s.trail } : {}) };
          } catch (e) {
            const err = e as { code?: string; message?: string };
            return { ok: false, detail: `${err.code ?? BusErrorCode.Internal}: ${err.message ?? String(e)}` };
          }
        })()]);
        return { service, ready, bus, ok: ready.ok && bus.ok };
      }));
      const ok = rows.every((r) => r.ok);
      if (!ok) ctx.setExitCode(ExitCode.Unavailable);
      ctx.print(self, { ok, stackFile: stack?.file ?? null, services: rows }, (view) =>
        `${healthTable(rows, view)}${rows.map((r) => trailLine(r.bus.trail)).join('')}${ok ? 'all services up' : 'DOWN: ' + rows.filter((r) => !r.ok).map((r) => r.service).join(', ')}${stack ? '' : ' (no .ekm/stack.json: default ports probed)'}\n`);
    });
}
