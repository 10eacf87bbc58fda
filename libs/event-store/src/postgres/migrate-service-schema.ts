/**
 * Creates or upgrades a service's schema: login role, schema, then TypeORM migrations, all under an
 * advisory lock so concurrent runners (replicas starting together, parallel test suites) serialise.
 */
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { bindService, eventStoreMigrations, type ServiceMigrationClass } from './migrations/event-store.migrations';
import { quoteIdent, serviceRole, serviceSchema } from './service-schema';

export interface MigrateServiceSchemaOptions {
  /** Owner/admin URL (EKM_DATABASE_ADMIN_URL); the app role never runs migrations. */
  readonly adminUrl: string;
  readonly service: string;
  /** Sets the login role's password; without it the role has none (trust/peer/cert auth). */
  readonly appRolePassword?: string;
  /** The service's own tables, as later migrations of the same schema (run after the event store's, in order). */
  readonly extraMigrations?: readonly ServiceMigrationClass[];
}

export interface MigrateServiceSchemaResult {
  readonly schema: string;
  readonly role: string;
  /** Names of the migrations run now (empty when the schema was up to date). */
  readonly applied: readonly string[];
}

// SQLSTATEs of a concurrent CREATE ROLE / ALTER ROLE in another database: the role is cluster-wide,
// while advisory locks are per database, so these races are tolerated instead of locked out.
const ROLE_RACE_CODES = new Set(['42710', '23505', 'XX000', '40001']);

async function ensureRole(client: Client, role: string, password: string | undefined): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (rowCount === 0) await client.query(`CREATE ROLE ${quoteIdent(role)} LOGIN`);
      if (password !== undefined) {
        // Utility statements take no bind parameters: quote the literal (format %L) server-side.
        const { rows } = await client.query<{ sql: string }>(`SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text) AS sql`, [role, password]);
        await client.query(rows[0].sql);
      }
      return;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!ROLE_RACE_CODES.has(code) || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

export async function migrateServiceSchema(options: MigrateServiceSchemaOptions): Promise<MigrateServiceSchemaResult> {
  const schema = serviceSchema(options.service);
  const role = serviceRole(options.service);
  const migrations = [...eventStoreMigrations(options.service), ...(options.extraMigrations ?? []).map((cls) => bindService(cls, options.service))];
  const lock = new Client({ connectionString: options.adminUrl });
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [`ekm:migrate:${schema}`]);
    await ensureRole(lock, role, options.appRolePassword);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    const ds = new DataSource({
      type: 'postgres',
      url: options.adminUrl,
      schema,
      migrationsTableName: 'schema_migrations',
      migrations,
      migrationsTransactionMode: 'all',
      logging: false,
      extra: { max: 1 },
    });
    await ds.initialize();
    try {
      const ran = await ds.runMigrations({ transaction: 'all' });
      return { schema, role, applied: ran.map((m) => m.name) };
    } finally {
      await ds.destroy();
    }
  } finally {
    // Ending the session releases the advisory lock even if the unlock is never sent.
    await lock.end();
  }
}
