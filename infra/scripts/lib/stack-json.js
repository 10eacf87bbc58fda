#!/usr/bin/env node
// stack-json.js <file> <name>=<port>@<pid> ...   (env: NATS_URL, PG_URL, ROOT_OF_TRUST, PG_OWNED, NATS_OWNED,
// PG_PID, NATS_PID, LOG_DIR, NATS_CREDENTIALS, NATS_SIEM_CREDENTIALS, NATS_TLS_CA, ADMIN_CREDENTIALS).
// Credentials are named by path only (natsCredentials: the CLI's and SDK's NATS identity); serviceKey is
// the public service identity clients pin (from the bootstrap admin's credential file). Writes .ekm/stack.json for tools and e2e tests. The Postgres URL has any
// password removed: the file says where things are, it holds no secret.
'use strict';
const { existsSync, readFileSync, writeFileSync, renameSync } = require('node:fs');

const [file, ...specs] = process.argv.slice(2);
const env = process.env;
const withoutPassword = (url) => { const u = new URL(url); u.password = ''; return u.toString(); };
const server = (owned, pid) => (owned === '1' ? { startedByUp: true, pid: Number(pid) } : { startedByUp: false });

const services = {};
for (const spec of specs) {
  const [, name, port, pid] = /^([^=]+)=(\d+)@(\d+)$/.exec(spec);
  const base = `http://127.0.0.1:${port}`;
  services[name] = {
    health: `${base}/health/live`,
    ready: `${base}/health/ready`,
    metrics: `${base}/metrics`,
    pid: Number(pid),
    log: `${env.LOG_DIR}/${name}.log`,
  };
}

let serviceKey;
try {
  if (env.ADMIN_CREDENTIALS && existsSync(env.ADMIN_CREDENTIALS)) serviceKey = JSON.parse(readFileSync(env.ADMIN_CREDENTIALS, 'utf8')).serviceKey;
} catch {
  serviceKey = undefined;
}

const stack = {
  natsUrl: env.NATS_URL,
  ...(env.NATS_CREDENTIALS ? { natsCredentials: env.NATS_CREDENTIALS } : {}),
  ...(env.NATS_SIEM_CREDENTIALS ? { natsSiemCredentials: env.NATS_SIEM_CREDENTIALS } : {}),
  ...(env.NATS_TLS_CA ? { natsTlsCa: env.NATS_TLS_CA } : {}),
  ...(typeof serviceKey === 'string' ? { serviceKey } : {}),
  postgresUrl: withoutPassword(env.PG_URL),
  services,
  rootOfTrust: env.ROOT_OF_TRUST,
  servers: { postgres: server(env.PG_OWNED, env.PG_PID), nats: server(env.NATS_OWNED, env.NATS_PID) },
  ...(env.KMS_ENDPOINT ? { kmsEndpoint: env.KMS_ENDPOINT, ...(env.KMS_CA ? { kmsCaBundle: env.KMS_CA } : {}) } : {}),
  writtenAt: new Date().toISOString(),
};
writeFileSync(`${file}.tmp`, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
renameSync(`${file}.tmp`, file);
