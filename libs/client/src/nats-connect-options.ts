/**
 * How the SDK and the CLI log in to NATS: a NATS credentials file (user, password, inbox prefix), or
 * user/password given directly or inside the URL, and TLS files. One place, so every EKM client
 * connects the same way.
 */
import type { Authenticator } from '@nats-io/transport-node';
import { natsLoginOptions, readNatsCredentials, splitNatsUrl } from '@ekm/auth/client';

/** TLS to NATS: the CA to trust, and a client certificate when the server asks for one. */
export interface NatsTlsFiles {
  readonly caFile: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** What {@link natsConnectOptions} reads. */
export interface NatsLoginOptions {
  readonly servers?: string | string[];
  readonly user?: string;
  readonly pass?: string;
  readonly inboxPrefix?: string;
  readonly natsCredentials?: string;
  readonly tls?: NatsTlsFiles;
}

/** The connect() options for `o`: servers (userinfo removed), user, pass, inboxPrefix, tls. Env defaults: EKM_NATS_URL, EKM_NATS_CREDENTIALS, EKM_NATS_TLS_*. */
export function natsConnectOptions(o: NatsLoginOptions, env: NodeJS.ProcessEnv = process.env): {
  servers: string[]; user?: string; pass?: string; authenticator?: Authenticator; inboxPrefix?: string; tls?: { caFile: string; certFile?: string; keyFile?: string };
} {
  const given = o.servers ?? env.EKM_NATS_URL ?? 'nats://127.0.0.1:4222';
  const split = (Array.isArray(given) ? given : given.split(',')).map((s) => s.trim()).filter((s) => s.length > 0).map(splitNatsUrl);
  const credsPath = o.natsCredentials ?? (o.user === undefined ? env.EKM_NATS_CREDENTIALS || undefined : undefined);
  const creds = credsPath !== undefined ? natsLoginOptions(readNatsCredentials(credsPath)) : undefined;
  const fromUrl = split.find((s) => s.user !== undefined);
  const user = o.user ?? creds?.user ?? (creds?.authenticator ? undefined : fromUrl?.user);
  const pass = o.user !== undefined ? (o.pass ?? '') : creds?.pass ?? fromUrl?.password;
  const inboxPrefix = o.inboxPrefix ?? creds?.inboxPrefix;
  const ca = o.tls?.caFile ?? (env.EKM_NATS_TLS_CA || undefined);
  const cert = o.tls?.certFile ?? (env.EKM_NATS_TLS_CERT || undefined);
  const key = o.tls?.keyFile ?? (env.EKM_NATS_TLS_KEY || undefined);
  return {
    servers: split.map((s) => s.server),
    ...(user !== undefined ? { user, pass: pass ?? '' } : o.user === undefined && creds?.authenticator ? { authenticator: creds.authenticator } : {}),
    ...(inboxPrefix ? { inboxPrefix } : {}),
    ...(ca !== undefined ? { tls: { caFile: ca, ...(cert !== undefined ? { certFile: cert } : {}), ...(key !== undefined ? { keyFile: key } : {}) } } : {}),
  };
}
