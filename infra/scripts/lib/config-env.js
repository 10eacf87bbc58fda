#!/usr/bin/env node
// config-env.js: the persistent settings of a stack of `npm run up`, in <EKM_HOME>/config.env.
//   config-env.js save <file> <dist config index.js>
//       Validates every setting (file + the caller's environment, named in EKM_UP_GIVEN), writes the
//       caller's non-secret EKM_* settings into the file (an empty value removes one), and rewrites the
//       file with each known setting's default as a comment. Exit 2 (with the reason) on a bad value
//       or an unknown name; secrets are used for this start and never written.
//   config-env.js vars <dist config index.js> <service>
//       The EKM_* names <service> reads, one a line (for up's restart-on-change).
'use strict';
const { existsSync, readFileSync, writeFileSync, renameSync } = require('node:fs');

// Settings of up.sh itself (not read by a service).
const UP_SETTINGS = [
  ['EKM_PG_PORT', '5432', 'where up looks for (or starts) Postgres'],
  ['EKM_NATS_PORT', '4222', 'where up looks for (or starts) NATS JetStream'],
  ['EKM_PG_FALLBACK_PORT', '55432', 'port of the Postgres up starts when EKM_PG_PORT answers but refuses user postgres'],
  ['EKM_NATS_FALLBACK_PORT', '54222', 'port of the nats-server up starts when EKM_NATS_PORT has no JetStream'],
  ['EKM_PG_DATABASE', 'ekm', 'database name (a second checkout on the same Postgres needs its own)'],
  ['EKM_ROOT_OF_TRUST', 'software', 'software or pkcs11 (SoftHSM2 token in .ekm/softhsm/)'],
  ['EKM_UP_TIMEOUT', '90', 'seconds up waits for /health/ready'],
];
// Set by up for each service: a value here would be overwritten, so it is refused.
const MANAGED = new Set(['EKM_NATS_URL', 'EKM_DATABASE_URL', 'EKM_DATABASE_ADMIN_URL', 'EKM_HTTP_PORT', 'EKM_DATA_DIR', 'EKM_PKCS11_LIBRARY', 'EKM_BOOTSTRAP_CREDENTIALS_FILE']);
const SERVICES = ['keys', 'policy', 'rotation', 'audit'];

function specs(configLib) {
  const { envVarsOf, DEFAULT_HTTP_PORTS } = require(require('node:path').resolve(configLib));
  const byName = new Map();
  for (const [name, def, description] of UP_SETTINGS) byName.set(name, { name, default: def, description, services: [] });
  for (const s of Object.keys(DEFAULT_HTTP_PORTS)) {
    byName.set(`EKM_${s.toUpperCase()}_HTTP_PORT`, { name: `EKM_${s.toUpperCase()}_HTTP_PORT`, default: String(DEFAULT_HTTP_PORTS[s]), description: `health + metrics port of ${s}`, services: [s] });
  }
  for (const s of SERVICES) {
    for (const v of envVarsOf(s)) {
      if (MANAGED.has(v.name)) continue;
      const known = byName.get(v.name) ?? { ...v, services: [] };
      if (!known.services.includes(s)) known.services.push(s);
      byName.set(v.name, { ...known, schema: v.schema ?? known.schema, secret: v.secret ?? known.secret });
    }
  }
  return byName;
}

function parse(file) {
  const out = new Map();
  if (!existsSync(file)) return out;
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const eq = t.indexOf('=');
    if (eq < 1) fail(`${file}:${i + 1}: expected NAME=value`);
    out.set(t.slice(0, eq), t.slice(eq + 1));
  });
  return out;
}

function fail(msg) {
  process.stderr.write(`config: ${msg}\n`);
  process.exit(2);
}

function check(spec, name, value, where) {
  if (!spec) fail(`${where}: unknown setting ${name} (see the comments in config.env for the known ones)`);
  if (!spec.schema || value === '') return;
  const r = spec.schema.safeParse(value);
  if (!r.success) fail(`${where}: ${name} ${r.error.issues[0]?.message ?? 'is invalid'}`); // never echoes the value
}

function save(file, configLib) {
  const known = specs(configLib);
  const settings = parse(file);
  for (const [name, value] of settings) {
    const spec = known.get(name);
    check(spec, name, value, file);
    if (spec.secret) fail(`${file}: ${name} is a secret and does not belong in config.env; pass it in the environment`);
  }
  const given = (process.env.EKM_UP_GIVEN ?? '').split(/\s+/).filter(Boolean);
  for (const name of given) {
    const spec = known.get(name);
    if (!spec) continue; // EKM_* variables of other tools (tests, the CLI) are not ours to judge
    const value = process.env[name] ?? '';
    check(spec, name, value, 'environment');
    if (spec.secret) { process.stdout.write(`${name}: a secret, used for this start and not written to config.env\n`); continue; }
    if (value === '') { if (settings.delete(name)) process.stdout.write(`${name}: removed (default ${spec.default ?? 'unset'})\n`); continue; }
    if (settings.get(name) !== value) process.stdout.write(`${name}=${value}: saved in config.env\n`);
    settings.set(name, value);
  }
  const lines = [
    '# Settings of this EKM stack, read by every `npm run up` (the environment of one run wins and is',
    '# saved here). Edit a line and run `npm run up` again: the services it affects are restarted.',
    '# Secrets (EKM_ROOT_SECRET, EKM_PKCS11_PIN, ...) never go here. Defaults are the commented lines.',
    '',
  ];
  for (const spec of [...known.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (spec.secret) continue;
    const who = spec.services.length ? ` [${spec.services.join(', ')}]` : ' [up]';
    if (settings.has(spec.name)) lines.push(`${spec.name}=${settings.get(spec.name)}`);
    else lines.push(`# ${spec.name}=${spec.default ?? ''}`);
    lines.push(`#   ${spec.description}${who}`);
  }
  writeFileSync(`${file}.tmp`, `${lines.join('\n')}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

function vars(configLib, service) {
  for (const [name, spec] of specs(configLib)) if (spec.services.includes(service)) process.stdout.write(`${name}\n`);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'save') save(args[0], args[1]);
else if (cmd === 'vars') vars(args[0], args[1]);
else fail(`usage: config-env.js save <file> <config lib> | vars <config lib> <service>`);
