/**
 * Where the CLI finds the stack: `--nats URL`, else `EKM_NATS_URL`, else the `natsUrl` of the nearest
 * `.ekm/stack.json` (written by `npm run up`) walking up from the working directory, else the default.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Which rule chose the URL (shown by `ekm --verbose`-style diagnostics and in connect errors). */
export type NatsUrlSource = 'flag' | 'env' | 'stack.json' | 'default';

/** `natsUrl` of the first `.ekm/stack.json` found from `cwd` upwards, with the file it came from. */
export function findStackNatsUrl(cwd: string): { url: string; file: string } | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const file = join(dir, '.ekm', 'stack.json');
    if (existsSync(file)) {
      try {
        const url = (JSON.parse(readFileSync(file, 'utf8')) as { natsUrl?: unknown }).natsUrl;
        if (typeof url === 'string' && url !== '') return { url, file };
      } catch {
        // A half-written or foreign stack.json is skipped, like a missing one.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Applies the lookup order above. */
export function resolveNatsUrl(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): { url: string; source: NatsUrlSource } {
  if (flag) return { url: flag, source: 'flag' };
  if (env.EKM_NATS_URL) return { url: env.EKM_NATS_URL, source: 'env' };
  const stack = findStackNatsUrl(cwd);
  if (stack) return { url: stack.url, source: 'stack.json' };
  return { url: DEFAULT_NATS_URL, source: 'default' };
}
