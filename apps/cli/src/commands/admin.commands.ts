/**
 * `ekm admin projections rebuild` and `ekm admin relay status`: operator maintenance.
 *
 * The rebuild runs directly against Postgres with the admin URL rather than as a keys-service request:
 * it needs the schema owner's rights anyway (it rewrites projection tables), it holds back every append
 * while it runs (a heavy, locking job that should not be reachable by any bus caller), and so the
 * right to run it is exactly the right to hold the database admin URL. See keys-projection-rebuild.ts.
 */
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { SERVICES, type ServiceName } from '@ekm/contracts';
import type { CliContext } from '../cli-context';
import { CliError, configError } from '../cli-error';
import { ExitCode } from '../exit-codes';
import { withExamples } from '../help';
import { findStackFile } from '../stack-file';
import { renderTable } from '../table';
import type { TerminalView } from '../terminal';
import { rebuildKeysProjection } from '../admin/keys-projection-rebuild';
import { BusErrorCode } from '@ekm/contracts';

/** Relay part of a service's `status` reply (libs/service-kit ServiceStatus). */
export interface RelayRow {
  readonly service: string;
  readonly instance?: string;
  readonly relay: null | { error: string } | { holder: string | null; checkpoint: unknown; lag: number; published: number; isActive: boolean; heartbeatAt: string | null; lastError: string | null };
  readonly error?: { code: string; message: string };
}

/** `--admin-url`, else `EKM_DATABASE_ADMIN_URL`, else `postgresUrl` of .ekm/stack.json. */
export function adminUrl(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const url = flag ?? env.EKM_DATABASE_ADMIN_URL ?? findStackFile(cwd)?.postgresUrl;
  if (!url) throw configError('no database admin URL: pass --admin-url, set EKM_DATABASE_ADMIN_URL, or run `npm run up` (.ekm/stack.json)');
  return url;
}

const checkpointText = (c: unknown): string => {
  if (c && typeof c === 'object' && 'globalPosition' in c && 'transactionId' in c) return `${String(c.transactionId)}/${String(c.globalPosition)}`;
  return c === null || c === undefined ? '-' : JSON.stringify(c);
};

export function relayTable(rows: readonly RelayRow[], view?: TerminalView): string {
  const cells = rows.map((r) => {
    if (r.error) return ([r.service, '-', '-', '-', '-', '-', '-', `${r.error.code}: ${r.error.message}`]);
    if (r.relay === null) return [r.service, r.instance ?? '-', '-', '-', '-', '-', '-', 'no event log'];
    if ('error' in r.relay) return [r.service, r.instance ?? '-', '-', '-', '-', '-', '-', r.relay.error];
    return [r.service, r.instance ?? '-', r.relay.holder ?? '-', r.relay.isActive ? 'yes' : 'no', checkpointText(r.relay.checkpoint), String(r.relay.lag), String(r.relay.published), r.relay.lastError ?? ''];
  });
  return `${renderTable(['service', 'instance', 'holder', 'active', 'checkpoint (xid/pos)', 'lag', 'published', 'last error'], cells, view)}\n`;
}

export function adminCommand(ctx: CliContext): Command {
  const admin = withExamples(new Command('admin').description('operator maintenance: projection rebuilds, outbox relay state'),
    'ekm admin relay status', 'ekm admin projections rebuild --service keys');

  const projections = withExamples(admin.command('projections').description('read models rebuilt from the event log'), 'ekm admin projections rebuild');
  withExamples(projections.command('rebuild').description('rebuild a service\'s projection from its event log in one transaction (appends wait meanwhile; readers see the old rows until commit)')
    .addOption(new Option('--service <name>', 'whose projection').choices(['keys']).default('keys'))
    .option('--admin-url <url>', 'database admin URL (default: $EKM_DATABASE_ADMIN_URL, then postgresUrl of .ekm/stack.json)'),
  'ekm admin projections rebuild', 'ekm admin projections rebuild --service keys --admin-url postgres://postgres@127.0.0.1:5432/ekm --json')
    .action(async (o: { service: 'keys'; adminUrl?: string }, self: Command) => {
      const url = adminUrl(o.adminUrl, ctx.deps.env, ctx.deps.cwd);
      const bar = !ctx.isMachine(self) && process.stderr.isTTY === true
        ? new SingleBar({ stream: process.stderr, format: 'rebuilding keys projection {bar} {value}/{total} events' }, Presets.shades_classic) : null;
      bar?.start(1, 0);
      try {
        const r = await rebuildKeysProjection(url, (done, total) => { bar?.setTotal(Math.max(total, 1)); bar?.update(done); });
        bar?.stop();
        ctx.print(self, r, () => `rebuilt ${r.projection}: ${r.events} events replayed, ${r.keys} keys, checkpoint ${checkpointText(r.checkpoint)}, ${r.durationMs} ms\n`);
      } catch (e) {
        bar?.stop();
        if (e instanceof CliError) throw e;
        const text = e instanceof Error ? e.message : String(e);
        // pg connection failures carry a code like ECONNREFUSED: the database is unavailable, exit 3.
        const conn = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|connect/i.test(`${(e as { code?: string }).code ?? ''} ${text}`);
        throw new CliError(conn ? BusErrorCode.Unavailable : BusErrorCode.Internal, `projection rebuild failed, nothing changed: ${text}`);
      }
    });

  const relay = withExamples(admin.command('relay').description('the outbox relays that publish each service\'s events to JetStream'), 'ekm admin relay status');
  withExamples(relay.command('status').description('each service\'s relay: lease holder, checkpoint, lag (unpublished events); exit 3 when a service does not answer')
    .addOption(new Option('--service <name>', 'only this service').choices([...SERVICES])),
  'ekm admin relay status', 'ekm admin relay status --service keys --json')
    .action(async (o: { service?: ServiceName }, self: Command) => {
      const api = await ctx.api(self);
      const services = o.service ? [o.service] : [...SERVICES];
      const rows: RelayRow[] = await Promise.all(services.map(async (service): Promise<RelayRow> => {
        try {
          const s = await api.client.call<{ instance: string; relay: RelayRow['relay'] }>(service, 'status', {}, { maxAttempts: 1 });
          return { service, instance: s.instance, relay: s.relay };
        } catch (e) {
          const err = e as { code?: string; message?: string };
          return { service, relay: null, error: { code: err.code ?? BusErrorCode.Internal, message: err.message ?? String(e) } };
        }
      }));
      if (rows.some((r) => r.error)) ctx.setExitCode(ExitCode.Unavailable);
      ctx.print(self, { services: rows }, (view) => relayTable(rows, view));
    });
  return admin;
}
