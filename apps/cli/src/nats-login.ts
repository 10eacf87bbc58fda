/**
 * How the CLI logs in to NATS and whom it trusts, when not given explicitly: `EKM_NATS_CREDENTIALS` /
 * `EKM_NATS_TLS_CA` / `EKM_SERVICE_KEY`, else the nearest `.ekm/stack.json` written by `npm run up`
 * (`natsCredentials`: the CLI's own NATS identity, 0600; `natsTlsCa`; `serviceKey`: the service
 * identity to pin when the credential file names none), but only when the CLI talks to that stack's
 * NATS (`url` equals its `natsUrl`): a stale stack.json never lends its identity to another server.
 * `siem` picks the SIEM reader identity (`ekm audit tail`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface CliNatsLogin {
  readonly natsCredentials?: string;
  readonly tls?: { readonly caFile: string };
  readonly serviceKey?: string;
}

interface StackLogin { natsUrl?: unknown; natsCredentials?: unknown; natsSiemCredentials?: unknown; natsTlsCa?: unknown; serviceKey?: unknown }

function nearestStack(cwd: string): StackLogin | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const file = join(dir, '.ekm', 'stack.json');
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as StackLogin;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The NATS login of this CLI run (see the module comment for the order). */
export function cliNatsLogin(env: NodeJS.ProcessEnv, cwd: string, url: string, identity: 'cli' | 'siem' = 'cli'): CliNatsLogin {
  const found = nearestStack(cwd);
  const stack = found !== undefined && found.natsUrl === url ? found : undefined;
  const creds = identity === 'siem' ? str(env.EKM_NATS_SIEM_CREDENTIALS) ?? str(stack?.natsSiemCredentials) : str(env.EKM_NATS_CREDENTIALS) ?? str(stack?.natsCredentials);
  const ca = str(env.EKM_NATS_TLS_CA) ?? str(stack?.natsTlsCa);
  const serviceKey = str(env.EKM_SERVICE_KEY) ?? str(stack?.serviceKey);
  return { ...(creds !== undefined ? { natsCredentials: creds } : {}), ...(ca !== undefined ? { tls: { caFile: ca } } : {}), ...(serviceKey !== undefined ? { serviceKey } : {}) };
}
