#!/usr/bin/env node
// Probes for infra/scripts/*.sh, in Node so they need no psql, curl or nats CLI on the machine.
//   probe.js pg <url>     0 = connects and runs a query; 1 = nothing answers; 3 = answers but refuses us
//   probe.js nats <url>   0 = connects and JetStream is enabled; 1 = nothing answers; 3 = no JetStream
//                         (logs in with EKM_NATS_CREDENTIALS and trusts EKM_NATS_TLS_CA when set)
//   probe.js ready <url>  0 = HTTP 200; 1 = anything else
//   probe.js port <port>  0 = something listens on 127.0.0.1:<port>; 1 = free
'use strict';
const net = require('node:net');

const NOT_ANSWERING = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT']);

async function pg(url) {
  const { Client } = require('pg');
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return 0;
  } catch (err) {
    if (NOT_ANSWERING.has(err.code) || /timeout/i.test(String(err.message))) return 1;
    process.stderr.write(`postgres at ${redact(url)} answers but refuses: ${err.message}\n`);
    return 3;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function nats(url) {
  const { connect } = require('@nats-io/transport-node');
  const { jetstreamManager } = require('@nats-io/jetstream');
  let nc;
  const login = {};
  if (process.env.EKM_NATS_CREDENTIALS) {
    const c = JSON.parse(require('node:fs').readFileSync(process.env.EKM_NATS_CREDENTIALS, 'utf8'));
    const auth = c.nkeySeed ? { authenticator: require('@nats-io/transport-node').nkeyAuthenticator(new TextEncoder().encode(c.nkeySeed)) } : { user: c.user, pass: c.password };
    Object.assign(login, auth, { inboxPrefix: c.inboxPrefix });
  }
  if (process.env.EKM_NATS_TLS_CA) login.tls = { caFile: process.env.EKM_NATS_TLS_CA };
  try {
    nc = await connect({ servers: url, timeout: 3000, reconnect: false, ...login });
  } catch {
    return 1;
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: 3000 });
    await jsm.getAccountInfo();
    return 0;
  } catch (err) {
    process.stderr.write(`nats at ${url} answers but JetStream is not usable: ${err.message}\n`);
    return 3;
  } finally {
    await nc.close().catch(() => undefined);
  }
}

async function ready(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}

function port(p) {
  return new Promise((resolve) => {
    const s = net.connect(Number(p), '127.0.0.1');
    s.setTimeout(1000);
    s.once('connect', () => { s.destroy(); resolve(0); });
    s.once('timeout', () => { s.destroy(); resolve(1); });
    s.once('error', () => resolve(1));
  });
}

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

const probes = { pg, nats, ready, port };
const [kind, arg] = process.argv.slice(2);
if (!probes[kind] || !arg) {
  process.stderr.write('usage: probe.js pg|nats|ready|port <url-or-port>\n');
  process.exit(2);
}
probes[kind](arg).then((code) => process.exit(code), (err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(2);
});
