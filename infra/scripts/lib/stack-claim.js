#!/usr/bin/env node
// stack-claim.js: which stack of `npm run up` owns a database or a NATS server that up reuses (one it
// did not start), so a second checkout on the same servers stops before it starts anything instead
// of mixing its data, subjects and streams with the first one's.
//   stack-claim.js pg <admin url of the EKM database> <stack home>     claim (creating the database)
//   stack-claim.js nats <url> <stack home>                             claim
//   stack-claim.js check-nats <url> <stack home>                       owner, without claiming
//   stack-claim.js release-pg <admin url> <stack home>                 drop the database if ours
//   stack-claim.js release-nats <url> <stack home>                     delete the EKM streams if ours
// Exit 0 = ours (now); 4 = claimed by another stack (its home on stdout); 1 = error.
// Env: EKM_CLAIM_ADOPT=1 lets restore take over a database whose claim names the backed-up stack.
'use strict';

const CLAIM_STREAM = 'EKM_STACK_OWNER';
const CLAIM_SUBJECT = 'ekm.stack.owner';
const quoteIdent = (n) => `"${n.replace(/"/g, '""')}"`;

function dbOf(url) {
  const u = new URL(url);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  u.pathname = '/postgres';
  return { db, maintenance: u.toString() };
}

async function withClient(url, fn) {
  const { Client } = require('pg');
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function claimPg(url, home) {
  const { db, maintenance } = dbOf(url);
  await withClient(maintenance, async (c) => {
    const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [db]);
    if (!rowCount) await c.query(`CREATE DATABASE ${quoteIdent(db)}`).catch((e) => { if (e.code !== '42P04') throw e; });
  });
  return withClient(url, async (c) => {
    await c.query('CREATE TABLE IF NOT EXISTS public.ekm_stack_owner (id boolean PRIMARY KEY DEFAULT true CHECK (id), home text NOT NULL, claimed_at timestamptz NOT NULL DEFAULT now())');
    if (process.env.EKM_CLAIM_ADOPT === '1') await c.query('DELETE FROM public.ekm_stack_owner');
    await c.query('INSERT INTO public.ekm_stack_owner (home) VALUES ($1) ON CONFLICT (id) DO NOTHING', [home]);
    const { rows } = await c.query('SELECT home FROM public.ekm_stack_owner');
    return rows[0].home;
  });
}

async function releasePg(url, home) {
  const { db, maintenance } = dbOf(url);
  const owner = await withClient(maintenance, (c) => c.query('select 1 from pg_database where datname = $1', [db])).then(async (r) => {
    if (!r.rowCount) return null;
    return withClient(url, async (c) => {
      const t = await c.query("select to_regclass('public.ekm_stack_owner') as t");
      if (!t.rows[0].t) return '(no claim)';
      return (await c.query('SELECT home FROM public.ekm_stack_owner')).rows[0]?.home ?? '(no claim)';
    });
  });
  if (owner === null) return home; // already gone
  if (owner !== home) return owner;
  await withClient(maintenance, (c) => c.query(`DROP DATABASE ${quoteIdent(db)} WITH (FORCE)`));
  process.stdout.write(`dropped database ${db}\n`);
  return home;
}

async function withJsm(url, fn) {
  const { connect } = require('@nats-io/transport-node');
  const { jetstreamManager } = require('@nats-io/jetstream');
  const nc = await connect({ servers: url, timeout: 5000, reconnect: false });
  try {
    return await fn(await jetstreamManager(nc), nc);
  } finally {
    await nc.close();
  }
}

async function natsOwner(jsm) {
  try {
    const m = await jsm.streams.getMessage(CLAIM_STREAM, { last_by_subj: CLAIM_SUBJECT });
    return m ? m.json().home : undefined;
  } catch {
    return undefined; // no claim stream, or no message in it
  }
}

async function claimNats(url, home) {
  return withJsm(url, async (jsm, nc) => {
    const owner = await natsOwner(jsm);
    if (owner) return owner;
    await jsm.streams.add({ name: CLAIM_STREAM, subjects: [CLAIM_SUBJECT], max_msgs_per_subject: 1 }).catch(() => undefined);
    const { jetstream } = require('@nats-io/jetstream');
    await jetstream(nc).publish(CLAIM_SUBJECT, JSON.stringify({ home, claimedAt: new Date().toISOString() }));
    return (await natsOwner(jsm)) ?? home;
  });
}

async function checkNats(url, home) {
  return withJsm(url, async (jsm) => (await natsOwner(jsm)) ?? home);
}

async function releaseNats(url, home) {
  return withJsm(url, async (jsm) => {
    const owner = await natsOwner(jsm);
    if (owner && owner !== home) return owner;
    // The claim makes every EKM_* stream on this server ours (a second stack is refused beside it).
    for await (const si of jsm.streams.list()) {
      if (!si.config.name.startsWith('EKM_')) continue;
      await jsm.streams.delete(si.config.name);
      process.stdout.write(`deleted stream ${si.config.name}\n`);
    }
    return home;
  });
}

async function main() {
  const [cmd, url, home] = process.argv.slice(2);
  const fn = { pg: claimPg, nats: claimNats, 'check-nats': checkNats, 'release-pg': releasePg, 'release-nats': releaseNats }[cmd];
  if (!fn || !url || !home) throw new Error('usage: stack-claim.js pg|nats|release-pg|release-nats <url> <stack home>');
  const owner = await fn(url, home);
  if (owner !== home) {
    process.stdout.write(`${owner}\n`);
    process.exit(4);
  }
}

main().catch((err) => {
  process.stderr.write(`stack-claim: ${err.message}\n`);
  process.exit(1);
});
