import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Pool, type Notification } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createTestDatabase } from '../../../../test/support/pg';
import { quietPeriod, waitFor } from '../../../../test/support/wait-for';
import { InvalidServiceNameError } from '../errors';
import { ExpectedVersion } from '../event-store.port';
import { migrateServiceSchema } from './migrate-service-schema';
import { PostgresEventStore } from './postgres-event-store';

const asUser = (url: string, user: string): string => {
  const u = new URL(url);
  u.username = user;
  return u.toString();
};

class WidgetsTable1767300000000 implements MigrationInterface {
  readonly name = 'TestWidgets1767300000000';
  constructor(private readonly service: string) {}
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ekm_${this.service}.widgets (id text PRIMARY KEY, n int NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ekm_${this.service}.widgets`);
  }
}

describe('migrateServiceSchema', () => {
  let adminUrl: string;
  let service: string;
  let admin: Client;
  let app: Client;
  const pools: Pool[] = [];
  const appStore = (): PostgresEventStore => {
    const pool = new Pool({ connectionString: asUser(adminUrl, `ekm_${service}`), max: 1 });
    pools.push(pool);
    return new PostgresEventStore(pool, { service });
  };

  beforeAll(async () => {
    adminUrl = (await createTestDatabase()).url;
    service = `t_${randomBytes(4).toString('hex')}`;
    // Concurrent runners on one database must serialise (advisory lock), not fail.
    const runs = await Promise.all(Array.from({ length: 4 }, () => migrateServiceSchema({ adminUrl, service, extraMigrations: [WidgetsTable1767300000000] })));
    expect(runs.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, 2]);
    admin = new Client({ connectionString: adminUrl });
    app = new Client({ connectionString: asUser(adminUrl, `ekm_${service}`) });
    await Promise.all([admin.connect(), app.connect()]);
    await appStore().appendToStream('s-1', [{ type: 'A', data: { n: 1 }, meta: { actor: 't' } }], { expectedVersion: ExpectedVersion.noStream });
  });
  afterAll(() => Promise.all([admin?.end(), app?.end(), ...pools.map((p) => p.end())]));

  it('is idempotent and creates the schema, the login role and the tables', async () => {
    const again = await migrateServiceSchema({ adminUrl, service, extraMigrations: [WidgetsTable1767300000000] });
    expect(again).toEqual({ schema: `ekm_${service}`, role: `ekm_${service}`, applied: [] });
    const { rows } = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [`ekm_${service}`]);
    expect(rows.map((r) => r.table_name)).toEqual(['dead_letters', 'events', 'projection_checkpoints', 'schema_migrations', 'streams', 'widgets']);
    const role = await admin.query(`SELECT rolcanlogin, rolsuper, rolpassword IS NULL AS no_password FROM pg_authid WHERE rolname = $1`, [`ekm_${service}`]);
    expect(role.rows).toEqual([{ rolcanlogin: true, rolsuper: false, no_password: true }]);
  });

  it('survives the same service migrating in several databases at once (the role is cluster-wide)', async () => {
    const shared = `t_${randomBytes(4).toString('hex')}`;
    const dbs = await Promise.all([1, 2, 3].map(() => createTestDatabase()));
    const runs = await Promise.all(dbs.map((db) => migrateServiceSchema({ adminUrl: db.url, service: shared, appRolePassword: 'pw-not-a-secret' })));
    expect(runs.every((r) => r.applied.length === 1)).toBe(true);
    const { rows } = await admin.query(`SELECT rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = $1`, [`ekm_${shared}`]);
    expect(rows).toEqual([{ has_password: true }]);
  });

  it('rejects service names that are not plain identifiers', async () => {
    for (const bad of ['', 'Keys', 'k-eys', 'a"; drop table x; --', '1keys', 'x'.repeat(41)])
      await expect(migrateServiceSchema({ adminUrl, service: bad })).rejects.toBeInstanceOf(InvalidServiceNameError);
  });

  it.each([
    ['UPDATE', (s: string) => `UPDATE ekm_${s}.events SET data = '{}'`],
    ['DELETE', (s: string) => `DELETE FROM ekm_${s}.events`],
    ['TRUNCATE', (s: string) => `TRUNCATE ekm_${s}.events`],
  ])('refuses %s on events for the app role and for the owner (superuser)', async (_op, sql) => {
    await expect(app.query(sql(service))).rejects.toMatchObject({ code: '42501' });
    await expect(admin.query(sql(service))).rejects.toThrow(/events are immutable/);
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ekm_${service}.events`);
    expect(rows[0].n).toBe(1);
  });

  it('grants the app role only what it needs', async () => {
    await expect(app.query(`ALTER TABLE ekm_${service}.events DISABLE TRIGGER ALL`)).rejects.toMatchObject({ code: '42501' });
    await expect(app.query(`DELETE FROM ekm_${service}.streams`)).rejects.toMatchObject({ code: '42501' });
    await expect(app.query(`SELECT * FROM ekm_${service}.schema_migrations`)).rejects.toMatchObject({ code: '42501' });
    // A service's own tables (later migrations) get plain DML through default privileges.
    await app.query(`INSERT INTO ekm_${service}.widgets VALUES ('w', 1)`);
    await app.query(`UPDATE ekm_${service}.widgets SET n = 2`);
    await app.query(`DELETE FROM ekm_${service}.widgets`);
    await app.query(`INSERT INTO ekm_${service}.dead_letters (consumer, subject, stream_seq, error) VALUES ('c', 's', 1, 'boom')`);
  });

  it('notifies ekm_events_<service> once per appending transaction, after commit', async () => {
    const listener = new Client({ connectionString: adminUrl });
    await listener.connect();
    const got: Notification[] = [];
    listener.on('notification', (n) => got.push(n));
    await listener.query(`LISTEN ekm_events_${service}`);
    await appStore().appendToStream(`n-${randomUUID()}`, [1, 2, 3].map((n) => ({ type: 'A', data: { n }, meta: { actor: 't' } })), { expectedVersion: ExpectedVersion.noStream });
    await waitFor(() => got.length > 0, { what: 'the NOTIFY of the append' });
    await quietPeriod(50); // a second notification for the same transaction would arrive by now
    await listener.end();
    expect(got.map((n) => n.channel)).toEqual([`ekm_events_${service}`]);
  });
});
