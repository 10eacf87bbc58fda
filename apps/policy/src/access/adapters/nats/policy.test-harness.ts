/**
 * TEST ONLY: starts the policy service in-process (fresh database; NATS given or a private
 * nats-server, so no other suite's policy instances share the ekm-policy queue group) and calls it.
 * Every success reply is parsed with its subject's reply schema (strict: an unknown field fails too), so
 * each spec on this harness also checks that the handlers' real replies match the contract.
 */
import { randomUUID } from 'node:crypto';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { loadConfig } from '@ekm/config';
import { subject, type Operation, type Reply } from '@ekm/contracts';
import { ACCESS_REFUSALS, startServiceApp, type AccessRefusals, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { REPLY_SCHEMAS } from '../../../../../../infra/bus-api/bus-api.replies';
import { createTestDatabase, urlFor } from '../../../../../../test/support/pg';
import { startNats, stopServer, type ServerHandle } from '../../../../../../test/support/servers';
import { PolicyModule } from '../../../policy.module';

export interface PolicyHarness {
  readonly svc: ServiceApp;
  readonly nc: NatsConnection;
  readonly db: Client;
  readonly natsUrl: string;
  readonly dbUrl: string;
  /** Throws when a success reply does not parse with the operation's reply schema. */
  call<T = unknown>(op: Operation<'policy'>, body: unknown, opts?: { requestId?: string; principal?: string }): Promise<Reply<T>>;
  /** The operations whose success replies have been parsed with their reply schema so far. */
  readonly checkedReplies: ReadonlySet<Operation<'policy'>>;
  /** Rows in the policy event log (principal and policy streams; refusal records not counted). */
  events(): Promise<number>;
  /** The AccessDenied / AuthenticationFailed records committed so far (pending ones flushed first). */
  refusals(type?: 'AccessDenied' | 'AuthenticationFailed'): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startPolicyHarness(opts: { natsUrl?: string; env?: Record<string, string> } = {}): Promise<PolicyHarness> {
  const nats = opts.natsUrl === undefined ? await startNats() : undefined;
  const natsUrl = opts.natsUrl ?? nats!.url;
  const database = await createTestDatabase('ekm_policy');
  let svc: ServiceApp | undefined;
  let nc: NatsConnection | undefined;
  let db: Client | undefined;
  const stop = async (): Promise<void> => {
    await svc?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await db?.end().catch(() => undefined);
    if (nats) await stopServer(nats as ServerHandle);
  };
  try {
    const config = loadConfig('policy', { EKM_NATS_URL: natsUrl, EKM_DATABASE_ADMIN_URL: database.url, EKM_DATABASE_URL: urlFor(database.name, 'ekm_policy'), EKM_HTTP_PORT: '0', EKM_AUTH: 'disabled', ...opts.env });
    svc = await startServiceApp({ config, module: PolicyModule, logger: createLogger('policy', { level: 'silent' }) });
    nc = await connect({ servers: natsUrl });
    db = new Client({ connectionString: database.url });
    await db.connect();
  } catch (err) {
    await stop();
    throw err;
  }
  const conn = nc;
  const client = db;
  const app = svc;
  const checkedReplies = new Set<Operation<'policy'>>();
  return {
    svc, nc: conn, db: client, natsUrl, dbUrl: database.url, checkedReplies,
    async call<T>(op: Operation<'policy'>, body: unknown, o: { requestId?: string; principal?: string } = {}): Promise<Reply<T>> {
      const h = headers();
      h.set('Ekm-Request-Id', o.requestId ?? randomUUID());
      if (o.principal !== undefined) h.set('Ekm-Principal', o.principal);
      const m = await conn.request(subject('policy', op), JSON.stringify(body), { timeout: 20_000, headers: h });
      const reply = m.json<Reply<T>>();
      if (reply.ok) {
        // Paths and rules only (the issues never quote values: a reply may carry a private key).
        const parsed = REPLY_SCHEMAS.policy[op].safeParse(reply.data);
        if (!parsed.success) throw new Error(`${op}: the reply breaks its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.code} ${i.message}`).join('; ')}`);
        checkedReplies.add(op);
      }
      return reply;
    },
    async events(): Promise<number> {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ekm_policy.events WHERE event_type NOT IN ('AccessDenied', 'AuthenticationFailed')`);
      return Number(rows[0].n);
    },
    async refusals(type: 'AccessDenied' | 'AuthenticationFailed' = 'AccessDenied'): Promise<Record<string, unknown>[]> {
      await app.app.get<symbol, AccessRefusals>(ACCESS_REFUSALS, { strict: false }).flush();
      const { rows } = await client.query<{ data: Record<string, unknown> }>(`SELECT data FROM ekm_policy.events WHERE event_type = $1 ORDER BY global_position`, [type]);
      return rows.map((r) => r.data);
    },
    close: stop,
  };
}

export function dataOf<T>(r: Reply<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.data;
}
