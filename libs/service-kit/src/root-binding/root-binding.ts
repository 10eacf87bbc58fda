/**
 * Binds a service's data to the root of trust that sealed it. Without this, a new root (a deleted
 * `.ekm`, another checkout, a switch to the HSM) meets data wrapped under the old one and fails later
 * with a bare "unwrap failed"; with it, the service refuses at start and says which root it expected.
 */
import type { Pool } from 'pg';
import { rootFingerprint, type RootOfTrust } from '@ekm/crypto';
import { quoteIdent, serviceSchema } from '@ekm/event-store';

/** Recorded binding of one schema. */
export interface RootBinding {
  readonly kind: string;
  readonly fingerprint: string;
}

/** The service opened a root of trust other than the one that sealed its database. Not retriable. */
export class RootBindingMismatchError extends Error {
  override readonly name = 'RootBindingMismatchError';
  readonly code = 'ROOT_BINDING_MISMATCH';
  constructor(readonly database: string, readonly schema: string, readonly recorded: RootBinding, readonly opened: RootBinding) {
    super(
      `database ${database} (schema ${schema}) was sealed by the ${recorded.kind} root of trust ${recorded.fingerprint}, ` +
        `but this service opened the ${opened.kind} root ${opened.fingerprint}. ` +
        'Start it with the root that sealed the data (restore the data dir with root-key.sealed and its EKM_ROOT_SECRET, ' +
        'or the PKCS#11 token and EKM_PKCS11_* settings), or delete this data for a fresh start (`npm run reset` ' +
        'for a stack of `npm run up`, or drop the database / point EKM_PG_DATABASE at another one).',
    );
  }
}

/** Database name of a Postgres URL, for messages. */
export function databaseNameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || '(default)';
  } catch {
    return '(unknown)';
  }
}

/**
 * Records the binding on first use, or checks it: resolves with the binding when `root` is the root
 * that sealed `service`'s schema, throws RootBindingMismatchError otherwise. Concurrent first starts
 * of replicas converge (insert-if-absent, then compare with what won).
 */
export async function bindRootOfTrust(opts: { pool: Pool; service: string; root: RootOfTrust; databaseUrl: string }): Promise<RootBinding> {
  const schema = serviceSchema(opts.service);
  const table = `${quoteIdent(schema)}.root_binding`;
  const opened: RootBinding = { kind: opts.root.describe().kind, fingerprint: await rootFingerprint(opts.root) };
  await opts.pool.query(`INSERT INTO ${table} (id, kind, fingerprint) VALUES (true, $1, $2) ON CONFLICT (id) DO NOTHING`, [opened.kind, opened.fingerprint]);
  const { rows } = await opts.pool.query<RootBinding>(`SELECT kind, fingerprint FROM ${table} WHERE id`);
  const recorded = rows[0];
  if (!recorded) throw new Error(`${table} has no row after insert`);
  if (recorded.fingerprint !== opened.fingerprint) throw new RootBindingMismatchError(databaseNameOf(opts.databaseUrl), schema, recorded, opened);
  return recorded;
}
