#!/usr/bin/env node
// restore-db.js <admin url>: an empty EKM database for pg_restore, with the service login roles the
// dump's grants name (roles are per server, not in a database dump). Refuses a database with EKM schemas.
'use strict';
const { Client } = require('pg');

const ROLES = ['ekm_keys', 'ekm_policy', 'ekm_rotation', 'ekm_audit'];
const quoteIdent = (n) => `"${n.replace(/"/g, '""')}"`;

async function main() {
  const url = new URL(process.argv[2]);
  const db = decodeURIComponent(url.pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const c = new Client({ connectionString: maintenance.toString() });
  await c.connect();
  try {
    const exists = (await c.query('select 1 from pg_database where datname = $1', [db])).rowCount;
    if (exists) {
      const t = new Client({ connectionString: url.toString() });
      await t.connect();
      const schemas = (await t.query("select nspname from pg_namespace where nspname like 'ekm\\_%'")).rows;
      await t.end();
      if (schemas.length) throw new Error(`database ${db} already holds EKM schemas (${schemas.map((r) => r.nspname).join(', ')}): restore needs an empty one`);
      await c.query(`DROP DATABASE ${quoteIdent(db)} WITH (FORCE)`);
    }
    await c.query(`CREATE DATABASE ${quoteIdent(db)}`);
    for (const r of ROLES) {
      const has = (await c.query('select 1 from pg_roles where rolname = $1', [r])).rowCount;
      if (!has) await c.query(`CREATE ROLE ${quoteIdent(r)} LOGIN`);
    }
  } finally {
    await c.end();
  }
}

main().catch((err) => {
  process.stderr.write(`restore: ${err.message}\n`);
  process.exit(1);
});
