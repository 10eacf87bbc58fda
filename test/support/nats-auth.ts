/**
 * nats-server configs for tests, from the one source of EKM's NATS identities (infra/nats/nats-accounts.js):
 * - `harnessNatsConfig()`: a server with one all-permissions `harness` user (the global test server:
 *   anonymous connections refused, every spec still connects with EKM_TEST_NATS_URL);
 * - `ekmNatsConfig()`: the per-identity config `npm run up` generates, plus the harness user, for the
 *   confinement tests (each service and client connects as itself).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeyAuthenticator, type Authenticator } from '@nats-io/transport-node';

// From the source tree (jest) or from dist/test/support (bench, chaos: infra/ is not copied into dist).
const generator = [join(__dirname, '..', '..', 'infra', 'nats', 'nats-accounts.js'), join(__dirname, '..', '..', '..', 'infra', 'nats', 'nats-accounts.js')].find((p) => existsSync(p))!;
const accounts = require(generator) as {
  IDENTITIES: readonly string[];
  renderLocal(dir: string, opts: { port?: number; extraUsers?: { user: string; password: string }[]; tlsCert?: string; tlsKey?: string }): Record<string, NatsIdentity>;
};

/** One identity's credentials file contents (plus its public nkey, which the server config holds). */
export interface NatsIdentity {
  readonly user: string;
  readonly nkeySeed: string;
  readonly nkey: string;
  readonly inboxPrefix: string;
}

/** connect() options that log in as `id` (nkey authenticator and its own inbox prefix). */
export function loginAs(id: NatsIdentity): { authenticator: Authenticator; inboxPrefix: string } {
  return { authenticator: nkeyAuthenticator(new TextEncoder().encode(id.nkeySeed)), inboxPrefix: id.inboxPrefix };
}

export interface HarnessNatsConfig {
  readonly config: string;
  readonly user: string;
  readonly password: string;
  urlFor(port: number): string;
}

export function harnessNatsConfig(): HarnessNatsConfig {
  const dir = mkdtempSync(join(tmpdir(), 'ekm-nats-conf-'));
  const password = randomBytes(18).toString('base64url');
  const config = join(dir, 'server.conf');
  writeFileSync(config, `accounts {\n  EKM {\n    jetstream: enabled\n    users: [ { user: harness, password: ${JSON.stringify(password)} } ]\n  }\n}\n`, { mode: 0o600 });
  return { config, user: 'harness', password, urlFor: (port) => `nats://harness:${password}@127.0.0.1:${port}` };
}

export interface EkmNatsConfig {
  /** The server config (pass to startNats; its own `listen` is overridden by startNats' -p). */
  readonly config: string;
  /** Directory with `<identity>.json` credentials files (0600). */
  readonly dir: string;
  readonly identities: Readonly<Record<string, NatsIdentity>>;
  readonly harness: { readonly user: string; readonly password: string };
  credentialsFile(identity: string): string;
}

export function ekmNatsConfig(opts: { tlsCert?: string; tlsKey?: string } = {}): EkmNatsConfig {
  const dir = mkdtempSync(join(tmpdir(), 'ekm-nats-ids-'));
  const harness = { user: 'harness', password: randomBytes(18).toString('base64url') };
  const identities = accounts.renderLocal(dir, { extraUsers: [harness], ...opts });
  return { config: join(dir, 'nats-server.conf'), dir, identities, harness, credentialsFile: (id) => join(dir, `${id}.json`) };
}
