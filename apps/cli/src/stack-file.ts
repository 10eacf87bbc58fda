/** `.ekm/stack.json` (written by `npm run up`, removed by `npm run down`): where a local stack's services, NATS and Postgres are. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** NATS login of a stack: a user and password, or the path of a file holding them (relative to the `.ekm` dir). */
export type StackNatsCredentials = string | { readonly user: string; readonly password?: string; readonly inboxPrefix?: string };

/** The parts of stack.json the CLI reads. */
export interface StackFile {
  readonly file: string;
  readonly natsUrl?: string;
  readonly natsCredentials?: StackNatsCredentials;
  /** Admin URL of the EKM database, without password. */
  readonly postgresUrl?: string;
  readonly services: Readonly<Record<string, { readonly ready?: string; readonly health?: string }>>;
}

const isNatsCredentials = (v: unknown): v is StackNatsCredentials =>
  (typeof v === 'string' && v !== '') || (typeof v === 'object' && v !== null && typeof (v as { user?: unknown }).user === 'string');

/** The nearest `.ekm/stack.json` from `cwd` upwards, or undefined (none, or a half-written or foreign one). */
export function findStackFile(cwd: string): StackFile | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const file = join(dir, '.ekm', 'stack.json');
    if (existsSync(file)) {
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<keyof StackFile, unknown>>;
        return {
          file, services: (raw.services ?? {}) as StackFile['services'],
          ...(typeof raw.natsUrl === 'string' && raw.natsUrl !== '' ? { natsUrl: raw.natsUrl } : {}),
          ...(isNatsCredentials(raw.natsCredentials) ? { natsCredentials: raw.natsCredentials } : {}),
          ...(typeof raw.postgresUrl === 'string' && raw.postgresUrl !== '' ? { postgresUrl: raw.postgresUrl } : {}),
        };
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
