#!/usr/bin/env node
// The one source of EKM's NATS identities and permissions (docs/auth.md §7). Renders
//   - infra/nats/accounts.conf for docker compose (passwords from nats-server's env):
//       node infra/nats/nats-accounts.js compose > infra/nats/accounts.conf
//   - the generated config of `npm run up` (one nkey per identity: the server config holds only public
//     keys; each identity's seed is in its 0600 credentials file; existing files are kept, so a restart
//     keeps every identity):
//       node infra/nats/nats-accounts.js local DIR [--port N] [--monitor-port N] [--tls-cert F --tls-key F] [--jetstream-dir D]
//   - nothing else: tests require() it and render their own.
// nats-server 2.9.10: `accounts` only, never an `authorization` block beside a $SYS-only `accounts`
// block (CVE-2023-47090), and no `no_auth_user`, so an anonymous connection is refused.
'use strict';
// nkeys through the NATS client (a dependency already), not @nats-io/nkeys directly.
const { createUser, fromSeed } = require('@nats-io/transport-node').nkeys;
const { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const SERVICES = ['keys', 'policy', 'rotation', 'audit'];
/** Calling identities: one per application (each reads only its own inbox); kms_api is the AWS KMS-compatible edge, which calls as each SigV4-authenticated principal. Add one per application. */
const CLIENTS = ['cli', 'client', 'kms_api'];
/** Readers of the SIEM stream EKM_AUDIT (a SIEM, `ekm audit tail`): JetStream consumers on it, nothing else. */
const READERS = ['siem'];
/**
 * Benchmark identities, in up's local config only (never compose): `bench` calls EKM as a client does
 * and also the echo baseline (`bench.echo.<n>`), `bench_echo` answers that baseline and nothing else.
 * `npm run bench -- --stack` connects as them, so both runs pay the same TLS and nkey login.
 */
const BENCH = ['bench', 'bench_echo'];

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
/**
 * Streams a service owns besides its event stream: rotation publishes re-wrap notices
 * (`ekm.rewrap.v1.<tenant>`, stream EKM_REWRAP_NOTICES) for applications that re-wrap their data.
 */
const EXTRA_STREAMS = {
  rotation: ['ekm.rewrap.v1.>', '$JS.API.STREAM.CREATE.EKM_REWRAP_NOTICES', '$JS.API.STREAM.UPDATE.EKM_REWRAP_NOTICES', '$JS.API.STREAM.INFO.EKM_REWRAP_NOTICES', '$JS.API.STREAM.MSG.GET.EKM_REWRAP_NOTICES'],
};
/** Core-NATS relay heartbeats a service's replicas publish and hear (cache freshness; no stream holds them). */
const HEARTBEATS = { keys: ['ekm.relay.keys.heartbeat'] };
/** Event streams each service reads (policy events: revocations, replayed at start by every service). */
const READS = { keys: ['policy'], policy: ['keys'], rotation: ['keys', 'policy?'] };

/** Publish/subscribe allow lists of one identity. Nothing else is allowed (NATS denies by default). */
function permissionsOf(identity) {
  if (identity === 'bench') return { publish: ['ekm.v1.*.*', 'bench.echo.*'], subscribe: ['_INBOX_bench.>'], allowResponses: false };
  if (identity === 'bench_echo') return { publish: ['_INBOX_bench_echo.>'], subscribe: ['bench.echo.*', '_INBOX_bench_echo.>'], allowResponses: true };
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
  const publish = ['$JS.API.INFO', ...owns(identity), ...(EXTRA_STREAMS[identity] ?? []), ...CALLS[identity], ...(HEARTBEATS[identity] ?? []), ...READS[identity].flatMap(consumes)];
  const subscribe = [`ekm.v1.${identity}.>`, `_INBOX_${identity}.>`, `ekm.events.${identity}.>`, ...(HEARTBEATS[identity] ?? []), ...READS[identity].map((s) => `ekm.events.${s.replace('?', '')}.>`)];
  return { publish, subscribe, allowResponses: true };
}

const IDENTITIES = [...SERVICES, ...CLIENTS, ...READERS];

const q = (s) => JSON.stringify(s);
/**
 * The `accounts` block. `login(identity)` returns how the identity authenticates: `password: <value>`
 * (a quoted string or `$VAR`) or `nkey: <public key>`.
 */
function renderAccounts(login, extraUsers = [], identities = IDENTITIES) {
  const lines = ['accounts {', '  EKM {', '    jetstream: enabled', '    users: ['];
  for (const id of identities) {
    const p = permissionsOf(id);
    lines.push(`      { ${login(id)}, permissions: {`);
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
  return HEADER + renderAccounts((id) => `user: ${id}, password: $EKM_NATS_${id.toUpperCase()}_PASSWORD`);
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
  for (const id of [...IDENTITIES, ...BENCH]) {
    const file = join(dir, `${id}.json`);
    let c = null;
    if (existsSync(file)) {
      try { c = JSON.parse(readFileSync(file, 'utf8')); } catch { c = null; }
    }
    let nkey = null;
    try { nkey = c && c.user === id && typeof c.nkeySeed === 'string' ? fromSeed(new TextEncoder().encode(c.nkeySeed)).getPublicKey() : null; } catch { nkey = null; }
    if (!nkey) {
      const kp = createUser();
      c = { user: id, nkeySeed: new TextDecoder().decode(kp.getSeed()), inboxPrefix: `_INBOX_${id}` };
      nkey = kp.getPublicKey();
      writePrivate(file, `${JSON.stringify(c, null, 2)}\n`);
    }
    chmodSync(file, 0o600);
    creds[id] = { ...c, nkey };
  }
  const server = [
    '# GENERATED by `npm run up` (infra/nats/nats-accounts.js local): EKM identities with their own',
    '# permissions, each an nkey (public keys only here; seeds in the 0600 credentials files beside this file).',
    `listen: 127.0.0.1:${opts.port ?? 4222}`,
    'max_payload: 1MB',
  ];
  // Monitoring (/varz, /jsz) on loopback only: the bench reads message counts from it.
  if (opts.monitorPort) server.push(`http: 127.0.0.1:${opts.monitorPort}`);
  // In the file, not as -js/-sd flags: a config reload (SIGHUP, after a credentials rotation) would
  // otherwise turn JetStream off (seen with nats-server 2.9.10).
  if (opts.jetstreamDir) server.push('jetstream {', `  store_dir: ${q(opts.jetstreamDir)}`, '}');
  if (opts.tlsCert) {
    // TLS on the client port: a plaintext connection is refused (nats-server requires TLS once a tls block is set).
    server.push('tls {', `  cert_file: ${q(opts.tlsCert)}`, `  key_file: ${q(opts.tlsKey)}`, ...(opts.tlsCa ? [`  ca_file: ${q(opts.tlsCa)}`] : []), '  timeout: 5', '}');
  }
  writePrivate(join(dir, 'nats-server.conf'), `${server.join('\n')}\n${renderAccounts((id) => `nkey: ${creds[id].nkey}`, opts.extraUsers ?? [], [...IDENTITIES, ...BENCH])}`);
  return creds;
}

module.exports = { SERVICES, CLIENTS, READERS, BENCH, IDENTITIES, permissionsOf, renderAccounts, renderCompose, renderLocal };

if (require.main === module) {
  const [cmd, dir, ...rest] = process.argv.slice(2);
  const flag = (name) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : undefined; };
  if (cmd === 'compose') process.stdout.write(renderCompose());
  else if (cmd === 'local' && dir) {
    renderLocal(dir, { port: flag('--port'), tlsCert: flag('--tls-cert'), tlsKey: flag('--tls-key'), tlsCa: flag('--tls-ca'), jetstreamDir: flag('--jetstream-dir'), monitorPort: flag('--monitor-port') });
  } else {
    process.stderr.write('usage: nats-accounts.js compose | local DIR [--port N] [--monitor-port N] [--tls-cert F --tls-key F [--tls-ca F]]\n');
    process.exit(2);
  }
}
