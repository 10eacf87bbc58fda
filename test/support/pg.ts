/**
 * Per-test-file databases on the run's private Postgres (EKM_TEST_PG_URL, set by global-setup).
 * A fresh database per suite isolates schemas, roles' grants and triggers without truncating anything.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export function testServerUrl(): string {
  const url = process.env.EKM_TEST_PG_URL;
  if (!url) throw new Error('EKM_TEST_PG_URL is not set: run through jest (test/support/global-setup.ts)');
  return url;
}

/** URL of `db` on the test server, as superuser `postgres` (or as `user` when given). */
export function urlFor(db: string, user = 'postgres'): string {
  const u = new URL(testServerUrl());
  u.pathname = `/${db}`;
  u.username = user;
  return u.toString();
}

/** Creates an empty database with a unique name and returns its superuser URL. */
export async function createTestDatabase(prefix = 'ekm_t'): Promise<{ name: string; url: string }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const c = new Client({ connectionString: testServerUrl() });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return { name, url: urlFor(name) };
}
