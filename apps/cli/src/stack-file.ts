/** `.ekm/stack.json` (written by `npm run up`): where the services, NATS and Postgres of a local stack are. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The parts of stack.json the CLI reads. */
export interface StackFile {
  readonly file: string;
  readonly natsUrl?: string;
  /** Admin URL of the EKM database, without password. */
  readonly postgresUrl?: string;
  readonly services: Readonly<Record<string, { readonly ready?: string; readonly health?: string }>>;
}

/** The nearest `.ekm/stack.json` from `cwd` upwards, or undefined (missing or unreadable). */
export function findStackFile(cwd: string): StackFile | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const file = join(dir, '.ekm', 'stack.json');
    if (existsSync(file)) {
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<StackFile>;
        return { file, services: raw.services ?? {}, ...(raw.natsUrl ? { natsUrl: raw.natsUrl } : {}), ...(raw.postgresUrl ? { postgresUrl: raw.postgresUrl } : {}) };
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
