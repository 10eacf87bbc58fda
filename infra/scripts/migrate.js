#!/usr/bin/env node
// `npm run migrate`: creates the EKM database if it is missing, then migrates each service's schema
// (schema + login role `ekm_<service>`, event log and outbox-relay tables) with @ekm/event-store, as the
// admin URL. The same migrations a service runs at start when it gets EKM_DATABASE_ADMIN_URL (see
// libs/service-kit event-log.module.ts); a service's own extra tables are migrated by the service itself.
//
//   EKM_DATABASE_ADMIN_URL   admin/owner URL of the EKM database (required), e.g. postgres://postgres@127.0.0.1:5432/ekm
//   EKM_DB_ROLE_PASSWORD     optional password given to the ekm_<service> roles (unset: roles log in by trust/peer)
//   EKM_MIGRATE_SERVICES     optional comma-separated subset (default: keys,policy,rotation,audit)
//
// Runs the compiled code in dist/ (run `npm run build` first; `npm run up` does).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const ALL_SERVICES = ['keys', 'policy', 'rotation', 'audit'];

function fail(msg) {
  process.stderr.write(`migrate: ${msg}\n`);
  process.exit(1);
}

function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;

/** CREATE DATABASE runs outside the target database: connect to the server's `postgres` database. */
async function ensureDatabase(adminUrl) {
  const { Client } = require('pg');
  const target = new URL(adminUrl);
  const db = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!db) fail('EKM_DATABASE_ADMIN_URL names no database (expected .../ekm)');
  const maintenance = new URL(adminUrl);
  maintenance.pathname = `/${process.env.EKM_PG_MAINTENANCE_DB ?? 'postgres'}`;
  const c = new Client({ connectionString: maintenance.toString() });
  await c.connect();
  try {
    const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [db]);
    if (rowCount) return false;
    try {
      await c.query(`CREATE DATABASE ${quoteIdent(db)}`);
    } catch (err) {
      if (err.code !== '42P04') throw err; // created meanwhile by a concurrent run: fine
      return false;
    }
    return true;
  } finally {
    await c.end();
  }
}

async function main() {
  const adminUrl = process.env.EKM_DATABASE_ADMIN_URL;
  if (!adminUrl) fail('EKM_DATABASE_ADMIN_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/ekm)');
  try {
    new URL(adminUrl);
  } catch {
    fail('EKM_DATABASE_ADMIN_URL is not a valid URL');
  }
  const services = (process.env.EKM_MIGRATE_SERVICES ?? ALL_SERVICES.join(','))
    .split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = services.filter((s) => !ALL_SERVICES.includes(s));
  if (unknown.length) fail(`EKM_MIGRATE_SERVICES names unknown service(s): ${unknown.join(', ')}`);

  const entry = join(ROOT, 'dist', 'libs', 'event-store', 'src', 'index.js');
  if (!existsSync(entry)) fail(`${entry} is missing: run \`npm run build\` first`);
  const eventStore = require(entry);
  if (typeof eventStore.migrateServiceSchema !== 'function') fail('@ekm/event-store exports no migrateServiceSchema');

  if (await ensureDatabase(adminUrl)) process.stdout.write(`created database ${new URL(adminUrl).pathname.slice(1)}\n`);
  const appRolePassword = process.env.EKM_DB_ROLE_PASSWORD || undefined;
  // As EventLogModule does: the relay's lease table unless the event store already lists it.
  const { EVENT_STORE_MIGRATIONS = [], OutboxRelayMigration } = eventStore;
  const extraMigrations = OutboxRelayMigration && !EVENT_STORE_MIGRATIONS.includes(OutboxRelayMigration) ? [OutboxRelayMigration] : [];
  for (const service of services) {
    await eventStore.migrateServiceSchema({ adminUrl, service, appRolePassword, extraMigrations });
    process.stdout.write(`migrated schema ekm_${service} on ${redact(adminUrl)}\n`);
  }
}

main().catch((err) => fail(err.stack ?? String(err)));
