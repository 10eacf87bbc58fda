/**
 * NATS credentials files: one per NATS identity (`npm run up` writes `.ekm/nats/<identity>.json`, mode
 * 0600). JSON `{ "user": "cli", "password": "…", "inboxPrefix": "_INBOX_cli" }`. The password is SECRET:
 * never logged; errors name the path and the rule only.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

/** A NATS identity: user, password and the only inbox prefix its permissions let it read. */
export interface NatsCredentials {
  readonly user: string;
  readonly password: string;
  readonly inboxPrefix: string;
}

const Schema = z.strictObject({
  user: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  password: z.string().min(16),
  inboxPrefix: z.string().regex(/^_INBOX_[A-Za-z0-9_-]{1,64}$/),
});

/** The file is unreadable, readable by others, or malformed. */
export class NatsCredentialsError extends Error {
  override readonly name = 'NatsCredentialsError';
}

/** Reads a NATS credentials file; refuses one others can read (like ssh). @throws NatsCredentialsError */
export function readNatsCredentials(path: string): NatsCredentials {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new NatsCredentialsError(`${path} has mode 0${mode.toString(8)}; it must be 0600 (run: chmod 600 ${path})`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof NatsCredentialsError) throw e;
    throw new NatsCredentialsError(`cannot read NATS credentials file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new NatsCredentialsError(`${path} is not valid JSON`);
  }
  const r = Schema.safeParse(json);
  if (!r.success) throw new NatsCredentialsError(`${path}: ${r.error.issues.map((i) => `${i.path.join('.') || '(file)'} ${i.message}`).join('; ')}`);
  return r.data;
}

/** `nats://user:pass@host:port` → the URL without userinfo, plus user and password (URL-decoded). */
export function splitNatsUrl(raw: string): { readonly server: string; readonly user?: string; readonly password?: string } {
  let u: URL;
  try {
    u = new URL(raw.includes('://') ? raw : `nats://${raw}`);
  } catch {
    return { server: raw };
  }
  if (u.username === '') return { server: raw };
  return { server: `${u.protocol}//${u.host}`, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}
