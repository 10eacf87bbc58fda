/**
 * How every bench process connects to NATS: as the SDK does (`natsConnectOptions` of @ekm/client), with
 * an nkey identity file (`npm run up`'s `.ekm/nats-auth/<id>.json`: its own inbox prefix) and the
 * stack's TLS CA when given; plain `connect` to an anonymous private server otherwise.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsConnectOptions } from '@ekm/client';

/** NATS login of one bench process (all optional: a private bench server is anonymous and plaintext). */
export interface BenchNatsLogin {
  /** nkey (or user/password) identity file. */
  readonly credentialsFile?: string;
  /** CA of the server's TLS certificate: TLS is used when set. */
  readonly tlsCaFile?: string;
}

export async function benchConnect(url: string, login: BenchNatsLogin | undefined, name: string): Promise<NatsConnection> {
  if (!login || (login.credentialsFile === undefined && login.tlsCaFile === undefined)) return connect({ servers: url, name });
  // Explicit options only: the bench never picks up a login from its own environment by accident.
  const o = natsConnectOptions({
    servers: url,
    ...(login.credentialsFile !== undefined ? { natsCredentials: login.credentialsFile } : {}),
    ...(login.tlsCaFile !== undefined ? { tls: { caFile: login.tlsCaFile } } : {}),
  }, {});
  return connect({ ...o, name });
}
