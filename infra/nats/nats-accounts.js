#!/usr/bin/env node
// The one source of EKM's NATS identities and permissions (docs/auth.md §7). Renders
//   - infra/nats/accounts.conf for docker compose (passwords from nats-server's env):
//       node infra/nats/nats-accounts.js compose > infra/nats/accounts.conf
//   - the generated config of `npm run up` (random passwords, one 0600 credentials file per identity;
//     existing credentials files are kept, so a restart keeps every identity's password):
//       node infra/nats/nats-accounts.js local DIR [--port N] [--tls-cert F --tls-key F]
//   - nothing else: tests require() it and render their own.
// nats-server 2.9.10: `accounts` only, never an `authorization` block beside a $SYS-only `accounts`
// block (CVE-2023-47090), and no `no_auth_user`, so an anonymous connection is refused.
'use strict';
const { randomBytes } = require('node:crypto');
const { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const SERVICES = ['keys', 'policy', 'rotation', 'audit'];
/** Calling identities: one per application (each reads only its own inbox). Add one per application. */
const CLIENTS = ['cli', 'client'];
/** Readers of the SIEM stream EKM_AUDIT (a SIEM, `ekm audit tail`): JetStream consumers on it, nothing else. */
const READERS = ['siem'];

const stream = (s) => `EKM_${s.toUpperCase()}_EVENTS`;
// JetStream API of a stream this identity consumes: info, consumers (create/info/delete/next), acks.
// A `?` suffix: ordered consumers only (replays, no acks).
const consumes = (entry) => {
  const s = entry.replace('?', '');
  return [
    `$JS.API.STREAM.INFO.${stream(s)}`,
    `$JS.API.CONSUMER.*.${stream(s)}`, `$JS.API.CONSUMER.*.${stream(s)}.>`, `$JS.API.CONSUMER.*.*.${stream(s)}.>`,
    ...(entry.endsWith('?') ? [] : [`$JS.ACK.${stream(s)}.>`]),
  ];
};
// ...and the one stream it owns (its outbox relay creates and updates it; reconcilers read by sequence).
const owns = (s) => [
  `ekm.events.${s}.>`,
  `$JS.API.STREAM.CREATE.${stream(s)}`, `$JS.API.STREAM.UPDATE.${stream(s)}`, `$JS.API.STREAM.MSG.GET.${stream(s)}`,
  ...consumes(s),
];

/** Requests each service sends to another (service-to-service calls through the SDK). */
const CALLS = {
  keys: ['ekm.v1.policy.decide', 'ekm.v1.rotation.check-version-retirement'],
  policy: [],
  rotation: ['ekm.v1.keys.rotate-key', 'ekm.v1.keys.destroy-key', 'ekm.v1.keys.expire-import-token', 'ekm.v1.keys.describe-key', 'ekm.v1.keys.list-keys'],
  audit: [],
};
/** Event streams each service reads (policy events: revocations, replayed at start by every service). */
const READS = { keys: ['policy'], policy: ['keys'], rotation: ['keys', 'policy?'] };

/** Publish/subscribe allow lists of one identity. Nothing else is allowed (NATS denies by default). */
function permissionsOf(identity) {
  if (CLIENTS.includes(identity)) {
    return { publish: ['ekm.v1.*.*'], subscribe: [`_INBOX_${identity}.>`], allowResponses: false };
  }
  if (READERS.includes(identity)) {
    return {
      publish: ['$JS.API.INFO', '$JS.API.STREAM.INFO.EKM_AUDIT', '$JS.API.CONSUMER.*.EKM_AUDIT', '$JS.API.CONSUMER.*.EKM_AUDIT.>', '$JS.API.CONSUMER.*.*.EKM_AUDIT.>', '$JS.ACK.EKM_AUDIT.>'],
      subscribe: [`_INBOX_${identity}.>`],
      allowResponses: false,
    };
  }
  if (!SERVICES.includes(identity)) throw new Error(`unknown NATS identity ${identity}`);
  if (identity === 'audit') {
    // The audit service reads every service's stream (lifecycle, usage and auth-failure events) and is
    // the only identity that may publish the audit subjects (its SIEM stream EKM_AUDIT).
    return {
      publish: ['ekm.events.audit.>', 'ekm.audit.v1.>', '$JS.API.INFO', '$JS.API.STREAM.INFO.*',
        '$JS.API.STREAM.CREATE.EKM_AUDIT_EVENTS', '$JS.API.STREAM.UPDATE.EKM_AUDIT_EVENTS', '$JS.API.STREAM.CREATE.EKM_AUDIT', '$JS.API.STREAM.UPDATE.EKM_AUDIT',
        '$JS.API.STREAM.MSG.GET.*', '$JS.API.CONSUMER.*.*', '$JS.API.CONSUMER.*.*.>', '$JS.ACK.>'],
      subscribe: ['ekm.v1.audit.>', '_INBOX_audit.>', 'ekm.events.>'],
      allowResponses: true,
    };
  }
  const publish = ['$JS.API.INFO', ...owns(identity), ...CALLS[identity], ...READS[identity].flatMap(consumes)];
  const subscribe = [`ekm.v1.${identity}.>`, `_INBOX_${identity}.>`, `ekm.events.${identity}.>`, ...READS[identity].map((s) => `ekm.events.${s.replace('?', '')}.>`)];
  return { publish, subscribe, allowResponses: true };
}

const IDENTITIES = [...SERVICES, ...CLIENTS, ...READERS];

const q = (s) => JSON.stringify(s);
/** The `accounts` block. `password(identity)` returns the config value (a quoted string or `$VAR`). */
function renderAccounts(password, extraUsers = []) {
  const lines = ['accounts {', '  EKM {', '    jetstream: enabled', '    users: ['];
  for (const id of IDENTITIES) {
    const p = permissionsOf(id);
    lines.push(`      { user: ${id}, password: ${password(id)}, permissions: {`);
    if (p.allowResponses) lines.push('          allow_responses: true');
    lines.push(`          publish: { allow: [${p.publish.map(q).join(', ')}] }`);
    lines.push(`          subscribe: { allow: [${p.subscribe.map(q).join(', ')}] }`);
    lines.push('      } }');
  }
  for (const u of extraUsers) lines.push(`      { user: ${u.user}, password: ${q(u.password)} }`);
  lines.push('    ]', '  }', '}', '');
  return lines.join('\n');
}

const HEADER = `# GENERATED by infra/nats/nats-accounts.js (the one source of EKM's NATS identities): do not edit;
# run \`node infra/nats/nats-accounts.js compose > infra/nats/accounts.conf\`. Included by nats.conf
# (docker compose). \`accounts\` only: no top-level \`authorization\` block (CVE-2023-47090 in 2.9.10)
# and no \`no_auth_user\`, so anonymous connections are refused. Passwords come from nats-server's
# environment ($EKM_NATS_<USER>_PASSWORD; an unset variable stops the server); a bcrypt hash
# ("$2a$...", \`nats server passwd\`) works in their place. docs/auth.md §7 explains each grant.
`;

function renderCompose() {
  return HEADER + renderAccounts((id) => `$EKM_NATS_${id.toUpperCase()}_PASSWORD`);
}

function writePrivate(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** One credentials file per identity in `dir` (kept when present), and the server config using them. */
function renderLocal(dir, opts = {}) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const creds = {};
  for (const id of IDENTITIES) {
    const file = join(dir, `${id}.json`);
    let c = null;
    if (existsSync(file)) {
      try { c = JSON.parse(readFileSync(file, 'utf8')); } catch { c = null; }
    }
    if (!c || c.user !== id || typeof c.password !== 'string' || c.password.length < 16) {
      c = { user: id, password: randomBytes(24).toString('base64url'), inboxPrefix: `_INBOX_${id}` };
      writePrivate(file, `${JSON.stringify(c, null, 2)}\n`);
    }
    chmodSync(file, 0o600);
    creds[id] = c;
  }
  const server = [
    '# GENERATED by `npm run up` (infra/nats/nats-accounts.js local): EKM identities with their own',
    '# permissions; passwords are in the 0600 credentials files beside this file.',
    `listen: 127.0.0.1:${opts.port ?? 4222}`,
    'max_payload: 1MB',
  ];
  if (opts.tlsCert) {
    // TLS on the client port: a plaintext connection is refused (nats-server requires TLS once a tls block is set).
    server.push('tls {', `  cert_file: ${q(opts.tlsCert)}`, `  key_file: ${q(opts.tlsKey)}`, ...(opts.tlsCa ? [`  ca_file: ${q(opts.tlsCa)}`] : []), '  timeout: 5', '}');
  }
  writePrivate(join(dir, 'nats-server.conf'), `${server.join('\n')}\n${renderAccounts((id) => q(creds[id].password), opts.extraUsers ?? [])}`);
  return creds;
}

module.exports = { SERVICES, CLIENTS, READERS, IDENTITIES, permissionsOf, renderAccounts, renderCompose, renderLocal };

if (require.main === module) {
  const [cmd, dir, ...rest] = process.argv.slice(2);
  const flag = (name) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : undefined; };
  if (cmd === 'compose') process.stdout.write(renderCompose());
  else if (cmd === 'local' && dir) {
    renderLocal(dir, { port: flag('--port'), tlsCert: flag('--tls-cert'), tlsKey: flag('--tls-key'), tlsCa: flag('--tls-ca') });
  } else {
    process.stderr.write('usage: nats-accounts.js compose | local DIR [--port N] [--tls-cert F --tls-key F [--tls-ca F]]\n');
    process.exit(2);
  }
}
