/**
 * Everything the CLI needs to connect, resolved before any byte is sent: the NATS URL (nats-url.ts),
 * the NATS login (user/password and inbox prefix, for servers with per-user permissions) and the EKM
 * credential file requests are signed with. Every file is read and checked here, so a missing, broken
 * or world-readable file is a configuration error (exit 4) rather than a failed connection (exit 3).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { CredentialFileError, readCredentialFile, type CredentialFile } from '@ekm/auth';
import { CliError, configError } from './cli-error';
import { resolveNatsUrl, type NatsUrlSource } from './nats-url';
import { findStackFile, type StackNatsCredentials } from './stack-file';
import { cliNatsLogin } from './nats-login';

/** Global options that shape the connection (`--nats`, `--credentials`, `--nats-creds`, `--inbox-prefix`). */
export interface ConnectionFlags {
  readonly nats?: string;
  readonly credentials?: string;
  readonly natsCreds?: string;
  readonly inboxPrefix?: string;
}

/** A resolved connection: where, as which NATS user, signed with which credential. */
export interface ConnectionSettings {
  readonly url: string;
  readonly source: NatsUrlSource;
  readonly credentials?: CredentialFile;
  readonly credentialsFile?: string;
  readonly user?: string;
  readonly pass?: string;
  readonly inboxPrefix?: string;
  /** An nkey identity file (`npm run up`'s `.ekm/nats-auth/<id>.json`): the SDK reads and uses it itself. */
  readonly natsCredentials?: string;
  /** CA of the stack's NATS TLS, and the service identity to pin (nats-login.ts). */
  readonly tls?: { readonly caFile: string };
  readonly serviceKey?: string;
}

/**
 * The credential file requests are signed with: `--credentials FILE`, else `EKM_CREDENTIALS`, else the
 * nearest `.ekm/admin.credentials` from `cwd` upwards (written by `npm run up`) when it exists; none =
 * unsigned requests (only services with EKM_AUTH=disabled accept them).
 */
export function credentialsFile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (flag !== undefined) return flag;
  if (env.EKM_CREDENTIALS) return env.EKM_CREDENTIALS;
  for (let dir = cwd; ; dir = dirname(dir)) {
    const local = join(dir, '.ekm', 'admin.credentials');
    if (existsSync(local)) return local;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Reads and checks a credential file (mode 0600, valid JSON, an Ed25519 key). @throws CliError EKM_CLI_CONFIG */
export function loadCredentials(path: string): CredentialFile {
  try {
    return readCredentialFile(path);
  } catch (e) {
    if (e instanceof CredentialFileError) throw configError(`credential file: ${e.message}`);
    throw e;
  }
}

interface NatsLogin { readonly user: string; readonly pass: string; readonly inboxPrefix?: string; readonly nkeyFile?: string }

/** Reads a NATS login file: JSON `{"user", "password", "inboxPrefix"?}`, mode 0600 (it holds a password). */
export function readNatsLoginFile(path: string): NatsLogin {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) throw configError(`NATS credential file ${path} has mode 0${mode.toString(8)}; it must be 0600 (run: chmod 600 ${path})`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw configError(`cannot read NATS credential file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let json: { user?: unknown; password?: unknown; inboxPrefix?: unknown; nkeySeed?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw configError(`NATS credential file ${path} is not valid JSON (expected {"user": "...", "password": "..."})`);
  }
  if (typeof json.user !== 'string' || json.user === '' || (json.password !== undefined && typeof json.password !== 'string')) {
    throw configError(`NATS credential file ${path}: expected {"user": "...", "password": "..."}`);
  }
  // An nkey identity (up's own NATS): the seed stays in the file, the SDK signs the server's nonce with it.
  if (typeof json.nkeySeed === 'string') return { user: json.user, pass: '', nkeyFile: path, ...(typeof json.inboxPrefix === 'string' ? { inboxPrefix: json.inboxPrefix } : {}) };
  return { user: json.user, pass: (json.password as string | undefined) ?? '', ...(typeof json.inboxPrefix === 'string' ? { inboxPrefix: json.inboxPrefix } : {}) };
}

function stackLogin(creds: StackNatsCredentials, stackFile: string): NatsLogin {
  if (typeof creds === 'string') return readNatsLoginFile(isAbsolute(creds) ? creds : join(dirname(stackFile), creds));
  return { user: creds.user, pass: creds.password ?? '', ...(creds.inboxPrefix ? { inboxPrefix: creds.inboxPrefix } : {}) };
}

/**
 * Resolves the connection. The NATS login comes from `--nats-creds FILE` / `EKM_NATS_CREDS`, else from
 * `EKM_NATS_USER` / `EKM_NATS_PASSWORD` (compose's users), else from
 * the stack.json the URL came from (never from a stack the URL did not come from). The inbox prefix is
 * `--inbox-prefix` / `EKM_NATS_INBOX_PREFIX`, else the login's, else `_INBOX_<user>` (the permission
 * layout of docs/auth.md gives each user only its own inbox).
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv, cwd: string): ConnectionSettings {
  const credPath = credentialsFile(flags.credentials, env, cwd);
  const credentials = credPath !== undefined ? loadCredentials(credPath) : undefined;
  const { url, source, stackFile } = resolveNatsUrl(flags.nats, env, cwd, credentials?.natsUrl);
  const loginFile = flags.natsCreds ?? (env.EKM_NATS_CREDS || undefined);
  let login: NatsLogin | undefined;
  if (loginFile !== undefined) login = readNatsLoginFile(loginFile);
  // A NATS user of infra/nats/accounts.conf (compose), as the services read it.
  else if (env.EKM_NATS_USER) login = { user: env.EKM_NATS_USER, pass: env.EKM_NATS_PASSWORD ?? '' };
  else if (source === 'stack.json' && stackFile) {
    const stackCreds = findStackFile(dirname(dirname(stackFile)))?.natsCredentials;
    if (stackCreds !== undefined) login = stackLogin(stackCreds, stackFile);
  }
  // EKM_NATS_CREDENTIALS, TLS CA and service key: env, else the stack.json of this very URL (nats-login.ts).
  const stackLogin_ = cliNatsLogin(env, cwd, url);
  const nkeyFile = login?.nkeyFile ?? (login === undefined ? stackLogin_.natsCredentials : undefined);
  const inboxPrefix = flags.inboxPrefix ?? (env.EKM_NATS_INBOX_PREFIX || undefined) ?? login?.inboxPrefix ?? (login && !login.nkeyFile ? `_INBOX_${login.user}` : undefined);
  return {
    url, source,
    ...(credentials ? { credentials, credentialsFile: credPath } : {}),
    ...(login && !login.nkeyFile ? { user: login.user, pass: login.pass } : {}),
    ...(inboxPrefix !== undefined ? { inboxPrefix } : {}),
    ...(nkeyFile !== undefined ? { natsCredentials: nkeyFile } : {}),
    ...(stackLogin_.tls ? { tls: stackLogin_.tls } : {}),
    ...(stackLogin_.serviceKey ? { serviceKey: stackLogin_.serviceKey } : {}),
  };
}
