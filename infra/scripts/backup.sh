#!/usr/bin/env bash
# `npm run backup -- <dir>`: a restorable copy of a running stack of `npm run up` in <dir> (created, 0700):
#   postgres.dump     pg_dump -Fc of the EKM database: keys, wrapped KEK versions, policies, principals,
#                     rotation schedules, the audit trail and its checkpoints (one consistent snapshot)
#   data/             the data dir without the root secret: root-key.sealed (the software root, sealed),
#                     epochs/, the auth secret (the service identity credentials pin)
#   softhsm-tokens/   with EKM_ROOT_OF_TRUST=pkcs11: the SoftHSM2 token files (objects encrypted under the PIN)
#   config.env, admin.credentials (the bootstrap admin's login: guard the backup), manifest.json
# Never in the backup: the software root secret (.ekm/data/root-secret or EKM_ROOT_SECRET), the token
# PINs. Whoever holds the backup AND the root secret holds every key: store them apart.
# JetStream is not backed up: it is a distribution log, rebuilt from Postgres.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"

dest="${1:-}"
[ -n "$dest" ] || die "usage: npm run backup -- <dir>   (a new or empty directory)"
[ ! -e "$dest" ] || [ -z "$(ls -A "$dest")" ] || die "$dest exists and is not empty"
[ -f "$EKM_HOME/stack.json" ] || die "no running stack in $EKM_HOME (no stack.json): backup reads Postgres, run 'npm run up' first"
url="${EKM_DATABASE_ADMIN_URL:-$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).postgresUrl)' "$EKM_HOME/stack.json")}"
rot="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).rootOfTrust)' "$EKM_HOME/stack.json")"
bindir="$(pg_bindir)"
[ -n "$bindir" ] || die "pg_dump not found (install postgresql-client)"

mkdir -p "$dest"
chmod 700 "$dest"
step "Postgres: pg_dump of $(node -e 'const u = new URL(process.argv[1]); u.password = ""; console.log(u.toString())' "$url")"
"$bindir/pg_dump" -Fc --no-owner -d "$url" -f "$dest/postgres.dump"
info "$(du -h "$dest/postgres.dump" | cut -f1) postgres.dump"

step "Root of trust ($rot) and data dir"
mkdir -p "$dest/data"
for f in "$EKM_HOME/data"/*; do
  # The auth secret IS kept: it derives the service identity every issued credential pins and the key-id
  # derivation key (a restore without it would refuse every credential as "not the pinned service").
  case "$(basename "$f")" in root-secret) continue ;; esac
  cp -a "$f" "$dest/data/"
done
if [ "$rot" = pkcs11 ]; then
  cp -a "$EKM_HOME/softhsm/tokens" "$dest/softhsm-tokens"
  info "SoftHSM2 token files copied; the PIN ($EKM_HOME/softhsm/pin) is not"
fi
for f in config.env admin.credentials; do [ -f "$EKM_HOME/$f" ] && cp -a "$EKM_HOME/$f" "$dest/"; done
fingerprint="$(node -e '
  const { Client } = require("pg");
  const c = new Client({ connectionString: process.argv[1] });
  c.connect().then(() => c.query("SELECT fingerprint FROM ekm_keys.root_binding")).then((r) => { console.log(r.rows[0]?.fingerprint ?? ""); return c.end(); });' "$url")"
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({ format: "ekm-backup/v1", createdAt: new Date().toISOString(), rootOfTrust: process.argv[2], rootFingerprint: process.argv[3] }, null, 2) + "\n", { mode: 0o600 })' "$dest/manifest.json" "$rot" "$fingerprint"

step "Backup written to $dest (root fingerprint $fingerprint)"
if [ "$rot" = software ]; then
  warn "NOT in the backup: the root secret ($( [ -n "${EKM_ROOT_SECRET:-}" ] && echo EKM_ROOT_SECRET || echo "$EKM_HOME/data/root-secret")). Keep it apart from the backup; restore needs it."
else
  warn "NOT in the backup: the token PIN ($EKM_HOME/softhsm/pin). Keep it apart from the backup; restore needs it."
fi
