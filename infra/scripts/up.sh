#!/usr/bin/env bash
# `npm run up`: installs what is missing, starts (or reuses) Postgres and NATS JetStream, migrates,
# and starts the four EKM services in the background. Safe to run again while up.
#
#   EKM_PG_PORT / EKM_NATS_PORT       where to look for (or start) Postgres / NATS (default 5432 / 4222)
#   EKM_PG_FALLBACK_PORT / EKM_NATS_FALLBACK_PORT
#                                     where up starts its own server when the port above answers but is
#                                     not usable (Postgres refusing user postgres, NATS without
#                                     JetStream) (default 55432 / 54222)
#   EKM_DATABASE_ADMIN_URL            use this Postgres (admin URL of the EKM database) instead
#   EKM_PG_DATABASE                   database name (default ekm)
#   EKM_ROOT_OF_TRUST=pkcs11          keys and audit on a SoftHSM2 token in .ekm/softhsm/ (default software)
#   EKM_ROOT_SECRET                   passphrase of the software root (default: generated .ekm/root-secret)
#   EKM_<SERVICE>_HTTP_PORT           HTTP port of one service (default keys 7101 ... audit 7104)
#   EKM_UP_TIMEOUT                    seconds to wait for /health/ready (default 90)
#   EKM_KMS_PORT / EKM_KMS_HTTP_PORT  AWS KMS-compatible endpoint / its health port (default 7110 / 7105)
#   EKM_KMS_TLS=off                   serve that endpoint over plain HTTP (default HTTPS, local CA in .ekm/tls/)
#   EKM_HOME                          the stack directory (default .ekm in the checkout)
#   EKM_UP_SERVERS_ONLY=1             start (or reuse) Postgres and NATS only (restore.sh uses it)
# Settings persist in $EKM_HOME/config.env (the environment of one run wins and is saved there); a
# running service whose settings changed is restarted, the others are left alone.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/stack.sh
source "$ROOT/infra/scripts/lib/stack.sh"
cd "$ROOT"
load_config

PG_PORT="${EKM_PG_PORT:-5432}"
NATS_PORT="${EKM_NATS_PORT:-4222}"
REQUESTED_PG_PORT="$PG_PORT"
REQUESTED_NATS_PORT="$NATS_PORT"
# A server up started keeps its port until `npm run down`: a changed port setting is reported, not ignored.
warn_unapplied_port() {
  local name="$1" var="$2" want="$3" was
  was="$(cat "$RUN_DIR/$name.requested-port" 2>/dev/null || true)"
  if [ -n "$was" ] && [ "$was" != "$want" ]; then
    warn "$var=$want not applied: our $name keeps running on the port it started with ($var=$was); run 'npm run down' and 'npm run up' to move it"
  fi
}
PG_DB="${EKM_PG_DATABASE:-ekm}"
ROOT_OF_TRUST="${EKM_ROOT_OF_TRUST:-software}"
UP_TIMEOUT="${EKM_UP_TIMEOUT:-90}"
declare -A DEFAULT_PORT=([keys]=7101 [policy]=7102 [rotation]=7103 [audit]=7104) # replaced from @ekm/config after the build

case "$ROOT_OF_TRUST" in software | pkcs11) ;; *) die "EKM_ROOT_OF_TRUST must be software or pkcs11, not '$ROOT_OF_TRUST'" ;; esac

mkdir -p "$RUN_DIR" "$LOG_DIR" "$EKM_HOME/data"
chmod 700 "$EKM_HOME/data"
# 0711: others (the postgres OS user) may traverse to .ekm/pg but not list; secrets inside are 0600.
chmod 711 "$EKM_HOME"
# One up (or down) at a time in this checkout. Everything started below gets 9>&- so it does not
# inherit (and hold) the lock.
exec 9>"$RUN_DIR/lock"
flock -w 600 9 || die "another 'npm run up/down' holds $RUN_DIR/lock"
refuse_orphans

ensure_node_modules
# Built first: the settings are checked against @ekm/config before anything starts.
step "Building (npm run build)"
npm run --silent build
step "Settings"
save_config
# Default HTTP ports from @ekm/config itself, so up and the services never disagree.
while read -r svc port; do DEFAULT_PORT[$svc]="$port"; done < <(node -e '
  const { DEFAULT_HTTP_PORTS } = require(process.argv[1]);
  for (const [s, p] of Object.entries(DEFAULT_HTTP_PORTS)) console.log(s, p);' "$ROOT/dist/libs/config/src/index.js")

# A NATS that another stack uses stops this up before it starts Postgres (the claim itself comes below).
if ! pid_alive "$(read_pid nats)" nats-server && node_helper probe.js nats "nats://127.0.0.1:$NATS_PORT" 2>/dev/null; then
  claim_or_die check-nats "nats://127.0.0.1:$NATS_PORT"
fi

# ---------------------------------------------------------------- PostgreSQL
# Runs postgres (or pg_ctl) as the postgres OS user when we are root: postgres refuses to run as root.
as_pg_user() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

# The data dir lives in .ekm/pg. As root, the postgres user must be able to reach it; when a parent
# directory (e.g. /root) is closed to it, the data goes to /var/lib/ekm/<hash> and .ekm/pg links there.
pg_home() {
  local home="$EKM_HOME/pg"
  if is_root; then
    id postgres >/dev/null 2>&1 || die "OS user 'postgres' missing: install the Debian package postgresql"
    [ -L "$home" ] && { readlink -f "$home"; return; }
    mkdir -p "$home"
    chown postgres:postgres "$home"
    if ! runuser -u postgres -- test -w "$home"; then
      rmdir "$home"
      local alt
      alt="/var/lib/ekm/pg-$(printf '%s' "$EKM_HOME" | cksum | cut -d' ' -f1)"
      mkdir -p "$alt"
      chown postgres:postgres "$alt"
      ln -s "$alt" "$home"
      warn "the postgres OS user cannot reach $EKM_HOME: Postgres data in $alt (linked from .ekm/pg)"
      home="$alt"
    fi
  else
    mkdir -p "$home"
  fi
  echo "$home"
}

start_own_postgres() {
  local port="$1" bindir home
  ensure_postgres_installed
  bindir="$(pg_bindir)"
  home="$(pg_home)"
  if [ ! -f "$home/data/PG_VERSION" ]; then
    info "initdb $home/data (trust auth on 127.0.0.1, superuser postgres)"
    as_pg_user "$bindir/initdb" -D "$home/data" -A trust -U postgres -E UTF8 --no-instructions >"$LOG_DIR/initdb.log" 2>&1 \
      || { tail -n 20 "$LOG_DIR/initdb.log" >&2; die "initdb failed (log: $LOG_DIR/initdb.log)"; }
  fi
  # No Unix socket (its path could exceed 107 bytes under a deep checkout): TCP on 127.0.0.1 only.
  as_pg_user env "$STACK_MARKER" setsid "$bindir/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null 9>&- \
    || { tail -n 20 "$home/postgres.log" >&2; die "postgres did not start on port $port (log: $home/postgres.log)"; }
  ln -sf "$home/postgres.log" "$LOG_DIR/postgres.log"
  head -n1 "$home/data/postmaster.pid" >"$RUN_DIR/postgres.pid"
  echo "$port" >"$RUN_DIR/postgres.port"
  echo "$REQUESTED_PG_PORT" >"$RUN_DIR/postgres.requested-port"
  info "started postgres on 127.0.0.1:$port (pid $(read_pid postgres), data $home/data)"
}

step "PostgreSQL"
PG_OWNED=0
if [ -n "${EKM_DATABASE_ADMIN_URL:-}" ]; then
  ADMIN_URL="$EKM_DATABASE_ADMIN_URL"
  node_helper probe.js pg "$ADMIN_URL" || die "EKM_DATABASE_ADMIN_URL does not accept connections"
  info "using EKM_DATABASE_ADMIN_URL"
elif pid_alive "$(read_pid postgres)" postgres; then
  PG_PORT="$(cat "$RUN_DIR/postgres.port")"
  PG_OWNED=1
  info "already running: our postgres on 127.0.0.1:$PG_PORT (pid $(read_pid postgres))"
  warn_unapplied_port postgres EKM_PG_PORT "$REQUESTED_PG_PORT"
else
  rm -f "$RUN_DIR/postgres.pid" "$RUN_DIR/postgres.port"
  probe_pg() { rc=0; node_helper probe.js pg "postgres://postgres@127.0.0.1:$PG_PORT/postgres" 2>/dev/null || rc=$?; }
  probe_pg
  if [ "$rc" != 0 ] && [ -z "$(pg_bindir)" ]; then
    ensure_postgres_installed
    probe_pg # Debian's package may have started its own cluster on the port just now
  fi
  if [ "$rc" = 0 ]; then
    info "using the Postgres that answers on 127.0.0.1:$PG_PORT (up will not stop it)"
  else
    if [ "$rc" = 3 ]; then
      warn "a server on 127.0.0.1:$PG_PORT answers but refuses user postgres: starting our own on ${EKM_PG_FALLBACK_PORT:-55432}"
      PG_PORT="${EKM_PG_FALLBACK_PORT:-55432}"
      if node_helper probe.js port "$PG_PORT"; then die "port $PG_PORT is taken too: set EKM_PG_PORT to a free port"; fi
    fi
    start_own_postgres "$PG_PORT"
    PG_OWNED=1
  fi
fi
if [ -z "${EKM_DATABASE_ADMIN_URL:-}" ]; then ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"; fi
claim_or_die pg "$ADMIN_URL" "$PG_OWNED"

# ---------------------------------------------------------------- NATS JetStream
start_own_nats() {
  local port="$1" bin pid i
  ensure_nats_installed
  bin="$(nats_bin)"
  mkdir -p "$EKM_HOME/nats"
  setsid env "$STACK_MARKER" "$bin" -a 127.0.0.1 -p "$port" -js -sd "$EKM_HOME/nats" -l "$LOG_DIR/nats.log" </dev/null >/dev/null 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$RUN_DIR/nats.pid"
  echo "$port" >"$RUN_DIR/nats.port"
  echo "$REQUESTED_NATS_PORT" >"$RUN_DIR/nats.requested-port"
  for ((i = 0; i < 100; i++)); do
    node_helper probe.js nats "nats://127.0.0.1:$port" 2>/dev/null && { info "started nats-server -js on 127.0.0.1:$port (pid $pid)"; return; }
    pid_alive "$pid" || break
    sleep 0.2
  done
  tail -n 20 "$LOG_DIR/nats.log" >&2 || true
  die "nats-server did not start on port $port (log: $LOG_DIR/nats.log)"
}

step "NATS JetStream"
NATS_OWNED=0
if pid_alive "$(read_pid nats)" nats-server; then
  NATS_PORT="$(cat "$RUN_DIR/nats.port")"
  NATS_OWNED=1
  info "already running: our nats-server on 127.0.0.1:$NATS_PORT (pid $(read_pid nats))"
  warn_unapplied_port nats EKM_NATS_PORT "$REQUESTED_NATS_PORT"
else
  rm -f "$RUN_DIR/nats.pid" "$RUN_DIR/nats.port"
  probe_nats() { rc=0; node_helper probe.js nats "nats://127.0.0.1:$NATS_PORT" 2>/dev/null || rc=$?; }
  probe_nats
  if [ "$rc" != 0 ] && [ -z "$(nats_bin)" ]; then
    ensure_nats_installed
    probe_nats # Debian's package may have started its own nats-server (without JetStream) just now
  fi
  if [ "$rc" = 0 ]; then
    info "using the NATS (JetStream enabled) that answers on 127.0.0.1:$NATS_PORT (up will not stop it)"
  else
    if [ "$rc" = 3 ]; then
      warn "a NATS on 127.0.0.1:$NATS_PORT has no JetStream: starting our own on ${EKM_NATS_FALLBACK_PORT:-54222}"
      NATS_PORT="${EKM_NATS_FALLBACK_PORT:-54222}"
      if node_helper probe.js port "$NATS_PORT"; then die "port $NATS_PORT is taken too: set EKM_NATS_PORT to a free port"; fi
    fi
    start_own_nats "$NATS_PORT"
    NATS_OWNED=1
  fi
fi
NATS_URL="nats://127.0.0.1:$NATS_PORT"
claim_or_die nats "$NATS_URL" "$NATS_OWNED"

# restore.sh: the servers only, so the backup is loaded before any service creates fresh data.
if [ "${EKM_UP_SERVERS_ONLY:-}" = 1 ]; then
  echo "$ADMIN_URL" >"$RUN_DIR/servers-only.url"
  step "Servers up (EKM_UP_SERVERS_ONLY=1): no migration, no service started"
  exit 0
fi

# ---------------------------------------------------------------- SoftHSM2, build, migrations, secrets
step "SoftHSM2 (PKCS#11 root of trust option)"
ensure_softhsm_installed
info "$(softhsm_lib)"


step "Migrating service schemas in database $PG_DB"
EKM_DATABASE_ADMIN_URL="$ADMIN_URL" node infra/scripts/migrate.js | sed 's/^/    /'

source "$ROOT/infra/scripts/lib/root-of-trust.sh"
step "Root of trust: $ROOT_OF_TRUST"
prepare_root_of_trust # sets KEYS_ENV (array of NAME=value)

# ---------------------------------------------------------------- services
source "$ROOT/infra/scripts/lib/services.sh"
step "Starting services"
start_services
start_kms_api
step "Waiting for /health/ready (up to ${UP_TIMEOUT}s)"
wait_ready

write_stack_json

# Policies are enforced (EKM_AUTHZ=policy) and default-deny: on first start, let operators (the
# bootstrap admin) use keys, so the stack is usable at once. Tenants' principals need their own policies.
if [ -f "$EKM_HOME/admin.credentials" ] && ! node bin/ekm.js --credentials "$EKM_HOME/admin.credentials" --nats "$NATS_URL" policy get operator-admin >/dev/null 2>&1; then
  step "Installing the operator policy (infra/policies/operator-admin.json)"
  node bin/ekm.js --credentials "$EKM_HOME/admin.credentials" --nats "$NATS_URL" policy put infra/policies/operator-admin.json --id operator-admin --tenant '*' >/dev/null \
    || warn "could not install the operator policy; the bootstrap admin may be denied key operations (see README)"
fi

step "AWS KMS-compatible API"
write_aws_credentials

step "EKM is up"
print_summary
