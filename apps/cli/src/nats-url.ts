/**
 * Where the CLI finds NATS: `--nats URL`, else `EKM_NATS_URL`, else the `natsUrl` of the nearest
 * `.ekm/stack.json` (written by `npm run up`, removed by `npm run down`) walking up from the working
 * directory, else the `natsUrl` of the credential file in use. There is no built-in default: a guessed
 * URL could be someone else's server, and the first request would send it a signed login proof.
 */
import { configError } from './cli-error';
import { findStackFile } from './stack-file';

/** Which rule chose the URL (shown in connect errors). */
export type NatsUrlSource = 'flag' | 'env' | 'stack.json' | 'credentials';

export const NO_NATS_URL = 'no NATS URL: pass --nats URL, set EKM_NATS_URL, run `npm run up` in the checkout (it writes .ekm/stack.json), '
  + 'or use a credential file that names its natsUrl; the CLI never guesses a server';

/** Applies the lookup order above. @throws CliError EKM_CLI_CONFIG when no rule gives a URL. */
export function resolveNatsUrl(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string, credentialsNatsUrl?: string): { url: string; source: NatsUrlSource; stackFile?: string } {
  if (flag) return { url: flag, source: 'flag' };
  if (env.EKM_NATS_URL) return { url: env.EKM_NATS_URL, source: 'env' };
  const stack = findStackFile(cwd);
  if (stack?.natsUrl) return { url: stack.natsUrl, source: 'stack.json', stackFile: stack.file };
  if (credentialsNatsUrl) return { url: credentialsNatsUrl, source: 'credentials' };
  throw configError(NO_NATS_URL);
}
