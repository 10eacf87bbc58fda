import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { rootFingerprint, SoftwareRootOfTrust } from '@ekm/crypto';
import { migrateServiceSchema } from '@ekm/event-store';
import { Pkcs11RootOfTrust } from '../../../crypto/src/pkcs11/pkcs11-root-of-trust';
import { createSoftHsmToken, type SoftHsmToken } from '../../../crypto/src/pkcs11/testing/softhsm-token';
import { createTestDatabase } from '../../../../test/support/pg';
import { bindRootOfTrust, RootBindingMismatchError } from './root-binding';
import { RootBindingMigration } from './root-binding.migration';

const scrypt = { N: 1 << 14, r: 8, p: 1 };
const dirs: string[] = [];
const softRoot = (secret = 'a development secret 0123', dir = mkdtempSync(join(tmpdir(), 'ekm-bind-'))) => {
  dirs.push(dir);
  return SoftwareRootOfTrust.open({ dataDir: dir, secret, env: 'production', scrypt });
};

let pool: Pool;
let dbName: string;
let dbUrl: string;
const service = `t_${randomBytes(4).toString('hex')}`;
let token: SoftHsmToken;

beforeAll(async () => {
  const db = await createTestDatabase();
  dbName = db.name;
  await migrateServiceSchema({ adminUrl: db.url, service, extraMigrations: [RootBindingMigration] });
  const app = new URL(db.url);
  app.username = `ekm_${service}`;
  dbUrl = app.toString();
  pool = new Pool({ connectionString: dbUrl, max: 2 });
  token = createSoftHsmToken();
});
afterAll(async () => {
  await pool?.end();
  token?.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('root fingerprint', () => {
  it('is stable for one root key, differs for another, and never contains key bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekm-bind-'));
    const a = softRoot('secret number one, long', dir);
    const again = softRoot('secret number one, long', dir);
    const other = softRoot('secret number one, long');
    const fp = await rootFingerprint(a);
    expect(fp).toMatch(/^kcv1:[0-9a-f]{32}$/);
    expect(await rootFingerprint(again)).toBe(fp);
    expect(await rootFingerprint(other)).not.toBe(fp);
  });

  it('is the same through C_WrapKey on every open of one token key', async () => {
    const keyLabel = `root-${randomBytes(4).toString('hex')}`;
    const open = () => Pkcs11RootOfTrust.open({ library: token.library, tokenLabel: token.tokenLabel, pin: token.pin, keyLabel, sessions: 1 });
    const first = await open();
    const fp = await rootFingerprint(first);
    await first.close();
    const second = await open();
    expect(await rootFingerprint(second)).toBe(fp);
    await second.close();
  });
});

describe('bindRootOfTrust', () => {
  it('records the first root, accepts it again, and refuses another naming the database, both fingerprints and the way out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekm-bind-'));
    const first = softRoot('the root that sealed it', dir);
    const bound = await bindRootOfTrust({ pool, service, root: first, databaseUrl: dbUrl });
    expect(bound).toEqual({ kind: 'software', fingerprint: await rootFingerprint(first) });
    await expect(bindRootOfTrust({ pool, service, root: softRoot('the root that sealed it', dir), databaseUrl: dbUrl })).resolves.toEqual(bound);

    const intruder = softRoot('a brand new root secret');
    const err = await bindRootOfTrust({ pool, service, root: intruder, databaseUrl: dbUrl }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RootBindingMismatchError);
    const msg = (err as Error).message;
    expect(msg).toContain(`database ${dbName}`);
    expect(msg).toContain(bound.fingerprint);
    expect(msg).toContain(await rootFingerprint(intruder));
    expect(msg).toMatch(/npm run reset/);
    expect(msg).not.toContain('a brand new root secret');
    // the binding is unchanged, and the app role cannot rewrite it
    const { rows } = await pool.query('SELECT fingerprint FROM ' + `ekm_${service}` + '.root_binding');
    expect(rows).toEqual([{ fingerprint: bound.fingerprint }]);
    await expect(pool.query(`UPDATE ekm_${service}.root_binding SET fingerprint = 'x'`)).rejects.toThrow(/permission denied/);
    await expect(pool.query(`DELETE FROM ekm_${service}.root_binding`)).rejects.toThrow(/permission denied/);
  });
});
