// Test support only: lets `connect({ servers: 'nats://user:pass@host:port' })` log in with the URL's
// user and password. nats.js v3 ignores userinfo in server URLs (checked: such a connect is refused with
// "Authorization Violation"), while the global test nats-server refuses anonymous connections, and
// specs written against EKM_TEST_NATS_URL call connect() with the URL alone. Loaded by jest
// (`setupFiles`) and, through NODE_OPTIONS set in global-setup, by every child process a spec starts.
// EKM's own clients (SDK, CLI, services) read URL credentials themselves and need none of this.
'use strict';
const mod = require('@nats-io/transport-node/lib/connect');

function split(raw) {
  try {
    const u = new URL(String(raw).includes('://') ? String(raw) : `nats://${raw}`);
    if (u.username === '') return { server: raw };
    return { server: `${u.protocol}//${u.host}`, user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
  } catch {
    return { server: raw };
  }
}

function withUrlCredentials(opts) {
  if (!opts || opts.servers === undefined) return opts;
  const list = (Array.isArray(opts.servers) ? opts.servers : String(opts.servers).split(',')).map((s) => split(s.trim()));
  const named = list.find((s) => s.user !== undefined);
  if (!named) return opts;
  const explicit = opts.user !== undefined || opts.token !== undefined || opts.authenticator !== undefined;
  return { ...opts, servers: list.map((s) => s.server), ...(explicit ? {} : { user: named.user, pass: named.pass }) };
}

if (!mod.__ekmUrlCredentials) {
  const original = mod.connect;
  mod.connect = function connect(opts = {}) {
    return original(withUrlCredentials(opts));
  };
  mod.__ekmUrlCredentials = true;
}
module.exports = { withUrlCredentials };
