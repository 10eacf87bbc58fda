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
#   EKM_NATS_MONITOR_PORT             loopback monitoring port (/varz, /jsz) of up's own NATS (default NATS port + 4000; off: none)
#   EKM_UP_SERVERS_ONLY=1             start (or reuse) Postgres and NATS only (restore.sh uses it)
# Settings persist in $EKM_HOME/config.env (the environment of one run wins and is saved there); a
# running service whose settings changed is restarted, the others are left alone.
#   EKM_TLS=off                       run up's own NATS and Postgres without TLS (default on: local CA in .ekm/tls)
#   EKM_NATS_URL + EKM_NATS_CREDENTIALS_DIR
#                                     use this (external) NATS instead of starting one: the directory holds
#                                     one credentials file per EKM identity (keys.json ... cli.json, as
#                                     `node infra/nats/nats-accounts.js local DIR` writes them); with
#                                     EKM_NATS_TLS_CA when it speaks TLS
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


# ---------------------------------------------------------------- TLS (local CA)
case "${EKM_TLS:-on}" in on | 1 | true) TLS_ON=1 ;; off | 0 | false) TLS_ON=0 ;; *) die "EKM_TLS must be on or off, not '$EKM_TLS'" ;; esac
# shellcheck source=lib/tls.sh
source "$ROOT/infra/scripts/lib/tls.sh"
if [ "$TLS_ON" = 1 ]; then
  step "TLS: local CA and server certificates (.ekm/tls)"
  ensure_local_ca
  ensure_server_cert nats 127.0.0.1 localhost
  ensure_server_cert postgres 127.0.0.1 localhost
else
  warn "EKM_TLS=off: up's NATS and Postgres accept plaintext connections (key material stays sealed on the bus; metadata does not)"
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
  local tls_opts=""
  if [ "$TLS_ON" = 1 ]; then
    # The server's own copy of its certificate and key (the postgres OS user cannot read .ekm/tls), and
    # an hba that refuses every plaintext connection.
    install -m 600 "$TLS_DIR/postgres.pem" "$home/server.pem"
    install -m 600 "$TLS_DIR/postgres-key.pem" "$home/server-key.pem"
    if is_root; then chown postgres:postgres "$home/server.pem" "$home/server-key.pem"; fi
    printf '# written by npm run up: TLS only (plaintext refused)\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all all reject\n' \
      | as_pg_user tee "$home/data/pg_hba.conf" >/dev/null
    tls_opts="-c ssl=on -c ssl_cert_file=$home/server.pem -c ssl_key_file=$home/server-key.pem -c ssl_min_protocol_version=TLSv1.2"
  else
    printf '# written by npm run up (EKM_TLS=off)\nhost all all 127.0.0.1/32 trust\n' | as_pg_user tee "$home/data/pg_hba.conf" >/dev/null
  fi
  # No Unix socket (its path could exceed 107 bytes under a deep checkout): TCP on 127.0.0.1 only.
  as_pg_user env "$STACK_MARKER" setsid "$bindir/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' $tls_opts" start >/dev/null 9>&- \
    || { tail -n 20 "$home/postgres.log" >&2; die "postgres did not start on port $port (log: $home/postgres.log)"; }
  ln -sf "$home/postgres.log" "$LOG_DIR/postgres.log"
  head -n1 "$home/data/postmaster.pid" >"$RUN_DIR/postgres.pid"
  echo "$port" >"$RUN_DIR/postgres.port"
  echo "$REQUESTED_PG_PORT" >"$RUN_DIR/postgres.requested-port"
  echo "$TLS_ON" >"$RUN_DIR/postgres.tls"
  info "started postgres on 127.0.0.1:$port (pid $(read_pid postgres), data $home/data, TLS $([ "$TLS_ON" = 1 ] && echo "required" || echo off))"
}

step "PostgreSQL"
PG_OWNED=0
if [ -n "${EKM_DATABASE_ADMIN_URL:-}" ]; then
  ADMIN_URL="$EKM_DATABASE_ADMIN_URL"
  node_helper probe.js pg "$ADMIN_URL" || die "EKM_DATABASE_ADMIN_URL does not accept connections"
  info "using EKM_DATABASE_ADMIN_URL"
  warn "reusing an EXTERNAL Postgres (EKM_DATABASE_ADMIN_URL): up did not start it and does not configure its TLS; EKM connects exactly as that URL says$(case "$ADMIN_URL" in *sslmode=verify-full*) echo " (sslmode=verify-full)";; *) echo " — add ?sslmode=verify-full&sslrootcert=CA to refuse an unverified connection";; esac)"
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
    warn "reusing an EXTERNAL Postgres on 127.0.0.1:$PG_PORT: up did not start it, so its connections are NOT TLS-verified; set EKM_PG_PORT to a free port to get up's own Postgres with TLS, or EKM_DATABASE_ADMIN_URL with ?sslmode=verify-full&sslrootcert=CA"
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
if [ -z "${EKM_DATABASE_ADMIN_URL:-}" ]; then
  ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"
  # Our own Postgres speaks TLS only: verify its certificate against the local CA and its host name.
  if [ "$PG_OWNED" = 1 ] && [ "$(cat "$RUN_DIR/postgres.tls" 2>/dev/null || echo 0)" = 1 ]; then
    ADMIN_URL="$ADMIN_URL?sslmode=verify-full&sslrootcert=$TLS_DIR/ca.pem"
  fi
fi
claim_or_die pg "$ADMIN_URL" "$PG_OWNED"

# ---------------------------------------------------------------- NATS JetStream
# EKM never uses an anonymous NATS: up runs its own nats-server with a generated config (one identity
# per service and client, each with only its subjects: infra/nats/nats-accounts.js), or uses an
# external NATS the operator names with credentials for every identity.
NATS_CREDS_DIR="$EKM_HOME/nats-auth"
NATS_TLS_CA=""
NATS_IDENTITIES=(keys policy rotation audit cli client siem kms_api)

render_nats_config() {
  local port="$1"
  local -a tls=()
  [ "$TLS_ON" = 1 ] && tls=(--tls-cert "$TLS_DIR/nats.pem" --tls-key "$TLS_DIR/nats-key.pem")
  # Monitoring on 127.0.0.1 only (npm run bench -- --stack reads /varz and /jsz from it).
  local monitor="${EKM_NATS_MONITOR_PORT:-$((port + 4000))}"
  [ "$monitor" != off ] && tls+=(--monitor-port "$monitor")
  node "$ROOT/infra/nats/nats-accounts.js" local "$NATS_CREDS_DIR" --port "$port" --jetstream-dir "$EKM_HOME/nats" "${tls[@]}"
}

# probe_own_nats PORT: our server answers, with the keys identity (and TLS when on).
probe_own_nats() {
  EKM_NATS_CREDENTIALS="$NATS_CREDS_DIR/keys.json" EKM_NATS_TLS_CA="$NATS_TLS_CA" node_helper probe.js nats "nats://127.0.0.1:$1" 2>/dev/null
}

start_own_nats() {
  local port="$1" bin pid i
  ensure_nats_installed
  bin="$(nats_bin)"
  mkdir -p "$EKM_HOME/nats"
  render_nats_config "$port"
  setsid env "$STACK_MARKER" "$bin" -c "$NATS_CREDS_DIR/nats-server.conf" -l "$LOG_DIR/nats.log" </dev/null >/dev/null 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$RUN_DIR/nats.pid"
  echo "$port" >"$RUN_DIR/nats.port"
  echo "$REQUESTED_NATS_PORT" >"$RUN_DIR/nats.requested-port"
  for ((i = 0; i < 100; i++)); do
    probe_own_nats "$port" && { info "started nats-server -js on 127.0.0.1:$port (pid $pid; accounts: ${NATS_IDENTITIES[*]}; anonymous refused; TLS $([ "$TLS_ON" = 1 ] && echo required || echo off))"; return; }
    pid_alive "$pid" || break
    sleep 0.2
  done
  tail -n 20 "$LOG_DIR/nats.log" >&2 || true
  die "nats-server did not start on port $port (log: $LOG_DIR/nats.log)"
}

step "NATS JetStream"
NATS_OWNED=0
[ "$TLS_ON" = 1 ] && NATS_TLS_CA="$TLS_DIR/ca.pem"
if [ -n "${EKM_NATS_CREDENTIALS_DIR:-}" ]; then
  [ -n "${EKM_NATS_URL:-}" ] || die "EKM_NATS_CREDENTIALS_DIR names the credentials of an external NATS: set EKM_NATS_URL to it too"
  NATS_CREDS_DIR="$EKM_NATS_CREDENTIALS_DIR"
  for id in "${NATS_IDENTITIES[@]}"; do [ -f "$NATS_CREDS_DIR/$id.json" ] || die "EKM_NATS_CREDENTIALS_DIR has no $id.json (one credentials file per identity: node infra/nats/nats-accounts.js local DIR)"; done
  NATS_TLS_CA="${EKM_NATS_TLS_CA:-}"
  NATS_URL="$EKM_NATS_URL"
  EKM_NATS_CREDENTIALS="$NATS_CREDS_DIR/keys.json" EKM_NATS_TLS_CA="$NATS_TLS_CA" node_helper probe.js nats "$NATS_URL" \
    || die "the external NATS at $NATS_URL refuses the keys identity of $NATS_CREDS_DIR (or has no JetStream)"
  warn "using an EXTERNAL NATS at $NATS_URL (up did not start it): EKM logs in with the identities in $NATS_CREDS_DIR$([ -z "$NATS_TLS_CA" ] && echo "; no EKM_NATS_TLS_CA, so without TLS")"
elif pid_alive "$(read_pid nats)" nats-server; then
  NATS_PORT="$(cat "$RUN_DIR/nats.port")"
  NATS_OWNED=1
  # Credentials files removed since (rotation) are issued again; the running server reloads its config.
  render_nats_config "$NATS_PORT"
  kill -HUP "$(read_pid nats)"
  info "already running: our nats-server on 127.0.0.1:$NATS_PORT (pid $(read_pid nats)); config re-rendered and reloaded"
  warn_unapplied_port nats EKM_NATS_PORT "$REQUESTED_NATS_PORT"
else
  rm -f "$RUN_DIR/nats.pid" "$RUN_DIR/nats.port"
  if node_helper probe.js port "$NATS_PORT"; then
    warn "127.0.0.1:$NATS_PORT is taken by a server up did not start (EKM does not use an unauthenticated NATS): starting our own on ${EKM_NATS_FALLBACK_PORT:-54222}"
    NATS_PORT="${EKM_NATS_FALLBACK_PORT:-54222}"
    if node_helper probe.js port "$NATS_PORT"; then die "port $NATS_PORT is taken too: set EKM_NATS_PORT to a free port"; fi
  fi
  start_own_nats "$NATS_PORT"
  NATS_OWNED=1
fi
[ -n "${NATS_URL:-}" ] || NATS_URL="nats://127.0.0.1:$NATS_PORT"
# No claim on NATS (unlike Postgres): up runs a NATS of its own per stack (data in $EKM_HOME/nats, its own
# identities), so two checkouts never share one; an external NATS comes with its own credentials directory.

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
step "Waiting for /health/ready (up to ${UP_TIMEOUT}s)"
wait_ready
# After policy is ready: the edge pins the service identity its first start wrote into admin.credentials.
start_kms_api
wait_ready

write_stack_json

# Policies are enforced (EKM_AUTHZ=policy) and default-deny: on first start, let operators (the
# bootstrap admin) use keys, so the stack is usable at once. Tenants' principals need their own policies.
export EKM_NATS_CREDENTIALS="$NATS_CREDS_DIR/cli.json" EKM_NATS_TLS_CA="$NATS_TLS_CA"
if [ -f "$EKM_HOME/admin.credentials" ] && ! node bin/ekm.js --credentials "$EKM_HOME/admin.credentials" --nats "$NATS_URL" policy get operator-admin >/dev/null 2>&1; then
  step "Installing the operator policy (infra/policies/operator-admin.json)"
  node bin/ekm.js --credentials "$EKM_HOME/admin.credentials" --nats "$NATS_URL" policy put infra/policies/operator-admin.json --id operator-admin --tenant '*' >/dev/null \
    || warn "could not install the operator policy; the bootstrap admin may be denied key operations (see README)"
fi

step "AWS KMS-compatible API"
write_aws_credentials

step "EKM is up"
print_summary
