/**
 * NATS credentials files: one per NATS identity (`npm run up` writes `.ekm/nats-auth/<identity>.json`,
 * mode 0600). JSON `{ "user": "cli", "nkeySeed": "SU…", "inboxPrefix": "_INBOX_cli" }` (an nkey: the
 * server holds only its public key), or `password` instead of `nkeySeed` for a password user. Seed and
 * password are SECRET: never logged; errors name the path and the rule only.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { nkeyAuthenticator, type Authenticator } from '@nats-io/transport-node';

/** A NATS identity: user, password and the only inbox prefix its permissions let it read. */
export type NatsCredentials = {
  readonly user: string;
  readonly inboxPrefix: string;
} & ({ readonly password: string; readonly nkeySeed?: undefined } | { readonly nkeySeed: string; readonly password?: undefined });

const Schema = z.union([
  z.strictObject({ user: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), password: z.string().min(16), inboxPrefix: z.string().regex(/^_INBOX_[A-Za-z0-9_-]{1,64}$/) }),
  z.strictObject({ user: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), nkeySeed: z.string().regex(/^SU[A-Z2-7]{56}$/, 'must be an nkey user seed (SU…)'), inboxPrefix: z.string().regex(/^_INBOX_[A-Za-z0-9_-]{1,64}$/) }),
]);

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
  if (!r.success) throw new NatsCredentialsError(`${path}: not a NATS credentials file ({user, nkeySeed | password, inboxPrefix})`);
  return r.data as NatsCredentials;
}

/** The connect() options of one identity: an nkey authenticator, or user and password; its inbox prefix. */
export function natsLoginOptions(c: NatsCredentials): { user?: string; pass?: string; authenticator?: Authenticator; inboxPrefix: string } {
  if (c.nkeySeed !== undefined) return { authenticator: nkeyAuthenticator(new TextEncoder().encode(c.nkeySeed)), inboxPrefix: c.inboxPrefix };
  return { user: c.user, pass: c.password, inboxPrefix: c.inboxPrefix };
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
