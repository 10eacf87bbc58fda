#!/usr/bin/env bash
# `npm run restore -- <dir>`: a backup of `npm run backup` into a fresh stack (empty $EKM_HOME: after
# `npm run reset`, on a new machine, or with EKM_HOME set), then `npm run up` on it.
#   EKM_RESTORE_ROOT_SECRET_FILE   software root: a file holding the root secret kept apart from the backup
#                                  (or EKM_ROOT_SECRET in the environment of this and every later up)
#   EKM_RESTORE_PKCS11_PIN_FILE    pkcs11 root: a file holding the token's user PIN
# Servers and ports follow the usual up settings (EKM_PG_PORT, ...; the backup's config.env is restored first).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"

src="${1:-}"
[ -n "$src" ] && [ -f "$src/manifest.json" ] && [ -f "$src/postgres.dump" ] || die "usage: npm run restore -- <backup dir>  (with manifest.json and postgres.dump)"
for f in data/root-key.sealed softhsm/tokens pg/data stack.json; do
  [ ! -e "$EKM_HOME/$f" ] || die "$EKM_HOME already holds a stack ($f): restore goes into a fresh one ('npm run reset', or another EKM_HOME)"
done
rot="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).rootOfTrust)' "$src/manifest.json")"

step "Root of trust ($rot), data dir and settings"
mkdir -p "$EKM_HOME/data"
chmod 711 "$EKM_HOME"
chmod 700 "$EKM_HOME/data"
cp -a "$src/data/." "$EKM_HOME/data/"
for f in config.env admin.credentials; do [ -f "$src/$f" ] && cp -a "$src/$f" "$EKM_HOME/"; done
if [ "$rot" = software ]; then
  if [ -n "${EKM_RESTORE_ROOT_SECRET_FILE:-}" ]; then
    (umask 077 && cp "$EKM_RESTORE_ROOT_SECRET_FILE" "$EKM_HOME/data/root-secret")
    chmod 600 "$EKM_HOME/data/root-secret"
  elif [ -z "${EKM_ROOT_SECRET:-}" ]; then
    die "the software root needs its secret: set EKM_RESTORE_ROOT_SECRET_FILE (the root-secret file you kept apart) or EKM_ROOT_SECRET"
  fi
else
  [ -n "${EKM_RESTORE_PKCS11_PIN_FILE:-}" ] || die "the pkcs11 root needs its token PIN: set EKM_RESTORE_PKCS11_PIN_FILE"
  mkdir -p "$EKM_HOME/softhsm"
  chmod 700 "$EKM_HOME/softhsm"
  cp -a "$src/softhsm-tokens" "$EKM_HOME/softhsm/tokens"
  (umask 077 && cp "$EKM_RESTORE_PKCS11_PIN_FILE" "$EKM_HOME/softhsm/pin")
fi

step "Servers (npm run up with EKM_UP_SERVERS_ONLY=1)"
EKM_UP_SERVERS_ONLY=1 bash "$ROOT/infra/scripts/up.sh"
url="$(cat "$EKM_HOME/run/servers-only.url")"

step "Postgres: pg_restore into $(node -e 'const u = new URL(process.argv[1]); u.password = ""; console.log(u.toString())' "$url")"
node "$ROOT/infra/scripts/lib/restore-db.js" "$url"
"$(pg_bindir)/pg_restore" --exit-on-error --no-owner -d "$url" "$src/postgres.dump"
EKM_CLAIM_ADOPT=1 node "$ROOT/infra/scripts/lib/stack-claim.js" pg "$url" "$EKM_HOME"

step "Starting the restored stack (npm run up)"
bash "$ROOT/infra/scripts/up.sh"
