# The four EKM services, for up.sh. Sourced. Needs: NATS_URL, ADMIN_URL, ROOT_OF_TRUST, KEYS_ENV, STACK_MARKER,
# DEFAULT_PORT, UP_TIMEOUT, PG_OWNED, NATS_OWNED, NATS_CREDS_DIR, NATS_TLS_CA from up.sh.

service_port() { local var="EKM_${1^^}_HTTP_PORT"; echo "${!var:-${DEFAULT_PORT[$1]}}"; }
service_entry() { echo "dist/apps/$1/src/main.js"; }

# The service's own login role on the EKM database: the admin URL with user ekm_<service>.
service_db_url() {
  node -e 'const u = new URL(process.argv[1]); u.username = process.argv[2]; u.password = process.argv[3] ?? ""; console.log(u.toString())' \
    "$ADMIN_URL" "ekm_$1" "${EKM_DB_ROLE_PASSWORD:-}"
}

# service_envs SERVICE: fills SVC_ENVS with what up gives SERVICE (NAME=value), on top of the environment.
service_envs() {
  local s="$1"
  SVC_ENVS=(
    "$STACK_MARKER"
    "EKM_ENV=${EKM_ENV:-development}"
    "EKM_NATS_URL=$NATS_URL"
    # Each service logs in to NATS as itself (its own subjects only); the file is 0600 and never logged.
    "EKM_NATS_CREDENTIALS=$NATS_CREDS_DIR/$s.json"
    "EKM_DATABASE_URL=$(service_db_url "$s")"
    # migrate.js ran the shared migrations; with the admin URL a service also migrates its own tables.
    "EKM_DATABASE_ADMIN_URL=$ADMIN_URL"
    "EKM_HTTP_PORT=$(service_port "$s")"
    "EKM_DATA_DIR=$EKM_HOME/data"
    "EKM_LOG_LEVEL=${EKM_LOG_LEVEL:-info}"
  )
  [ -n "${NATS_TLS_CA:-}" ] && SVC_ENVS+=("EKM_NATS_TLS_CA=$NATS_TLS_CA")
  # keys, audit and policy seal under the root of trust (KEKs; the audit signing key; access-key secrets).
  case "$s" in keys | audit | policy) SVC_ENVS+=("${KEYS_ENV[@]}") ;; esac
  [ "$s" = keys ] && SVC_ENVS+=("EKM_AUTHZ=${EKM_AUTHZ:-policy}")
  # First start (no principals yet): the policy service creates the operator admin and writes its
  # credential here (0600); the CLI reads it by default.
  [ "$s" = policy ] && SVC_ENVS+=("EKM_BOOTSTRAP_CREDENTIALS_FILE=$EKM_HOME/admin.credentials")
  return 0
}

# settings_digest SERVICE: "NAME sha256(value)" lines of every setting SERVICE gets (up's own, then the
# EKM_* it reads from the environment or config.env). Salted hashes only: the file holds no secret and
# no unsalted hash of a passphrase.
settings_digest() {
  local s="$1" n
  {
    printf '%s\n' "${SVC_ENVS[@]}"
    for n in $(node_helper config-env.js vars "$ROOT/dist/libs/config/src/index.js" "$s"); do
      if [ -n "${!n+x}" ] && [ -n "${!n}" ]; then printf '%s=%s\n' "$n" "${!n}"; fi
    done
  } | awk -F= '!seen[$1]++' | sort | while IFS= read -r line; do
    printf '%s %s\n' "${line%%=*}" "$(printf '%s\n%s' "$SETTINGS_SALT" "${line#*=}" | sha256sum | cut -c1-16)"
  done
}

start_service() {
  local s="$1" port pid
  port="$(service_port "$s")"
  [ -f "$ROOT/$(service_entry "$s")" ] || die "$(service_entry "$s") is missing after the build: does apps/$s/src/main.ts exist?"
  if node_helper probe.js port "$port"; then
    die "$s: port $port is in use by another process; free it or set EKM_${s^^}_HTTP_PORT"
  fi
  service_envs "$s"
  printf '\n--- %s started by npm run up\n' "$(date -u +%FT%TZ)" >>"$LOG_DIR/$s.log"
  # setsid: the service outlives this shell and a Ctrl-C here. Without job control the background child
  # is no group leader, so setsid and env exec in place and $! is the node process itself.
  setsid env "${SVC_ENVS[@]}" node "$(service_entry "$s")" >>"$LOG_DIR/$s.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$RUN_DIR/$s.pid"
  [ "$s" = keys ] && echo "$ROOT_OF_TRUST" >"$RUN_DIR/keys.root-of-trust"
  (umask 077 && settings_digest "$s" >"$RUN_DIR/$s.settings")
  info "$s: started (pid $pid, port $port, log $LOG_DIR/$s.log)"
}

# A running service is restarted when a setting it reads changed since up started it, and only then.
start_services() {
  local s pid changed
  [ -s "$RUN_DIR/settings.salt" ] || (umask 077 && random_secret 16 >"$RUN_DIR/settings.salt")
  SETTINGS_SALT="$(cat "$RUN_DIR/settings.salt")"
  for s in "${SERVICES[@]}"; do
    pid="$(read_pid "$s")"
    if pid_alive "$pid" "$(service_entry "$s")"; then
      service_envs "$s"
      if [ ! -f "$RUN_DIR/$s.settings" ]; then
        changed="(no record of the settings it was started with)"
      else
        changed="$(settings_digest "$s" | diff - "$RUN_DIR/$s.settings" | awk '/^[<>]/ { print $2 }' | sort -u | tr '\n' ' ' || true)"
      fi
      if [ -z "$changed" ]; then
        info "$s: already running (pid $pid), settings unchanged, left alone"
        continue
      fi
      info "$s: settings changed: ${changed% }: restarting it"
      stop_pid "$s" "$pid" "$(service_entry "$s")" TERM "${EKM_DOWN_GRACE:-15}" >/dev/null || die "$s (pid $pid) did not stop; nothing else was restarted"
    fi
    rm -f "$RUN_DIR/$s.pid"
    start_service "$s"
  done
}

# ---------------------------------------------------------------- kms-api (AWS KMS-compatible HTTPS edge)
# Not a bus responder: no database, no schema. HTTPS by default with a certificate of the local CA
# (.ekm/tls/, infra/scripts/lib/tls.sh); EKM_KMS_TLS=off serves plain HTTP (local experiments only).
KMS_PORT="${EKM_KMS_PORT:-7110}"
KMS_HTTP_PORT="${EKM_KMS_HTTP_PORT:-7105}"
KMS_ENTRY="dist/apps/kms-api/src/main.js"
kms_scheme() { [ "${EKM_KMS_TLS:-on}" = off ] && echo http || echo https; }
kms_endpoint() { echo "$(kms_scheme)://127.0.0.1:$KMS_PORT"; }

start_kms_api() {
  local pid
  pid="$(read_pid kms-api)"
  if pid_alive "$pid" "$KMS_ENTRY"; then info "kms-api: already running (pid $pid), left alone"; return; fi
  rm -f "$RUN_DIR/kms-api.pid"
  [ -f "$ROOT/$KMS_ENTRY" ] || die "$KMS_ENTRY is missing after the build"
  local p
  for p in "$KMS_PORT" "$KMS_HTTP_PORT"; do
    if node_helper probe.js port "$p"; then die "kms-api: port $p is in use by another process; free it or set EKM_KMS_PORT / EKM_KMS_HTTP_PORT"; fi
  done
  local -a envs=("$STACK_MARKER" "EKM_NATS_URL=$NATS_URL" "EKM_NATS_CREDENTIALS=$NATS_CREDS_DIR/kms_api.json" "EKM_KMS_PORT=$KMS_PORT" "EKM_KMS_HTTP_PORT=$KMS_HTTP_PORT" "EKM_LOG_LEVEL=${EKM_LOG_LEVEL:-info}")
  [ -n "${NATS_TLS_CA:-}" ] && envs+=("EKM_NATS_TLS_CA=$NATS_TLS_CA")
  # The policy service identity the SigV4 login replies are checked against (public; from the admin credential).
  local service_key
  service_key="$(node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).serviceKey ?? "") } catch { console.log("") }' "$EKM_HOME/admin.credentials")"
  [ -n "$service_key" ] || die "kms-api: no serviceKey in $EKM_HOME/admin.credentials (the policy service writes it on first start)"
  envs+=("EKM_SERVICE_KEY=$service_key")
  if [ "$(kms_scheme)" = https ]; then
    # shellcheck source=tls.sh
    source "$ROOT/infra/scripts/lib/tls.sh"
    ensure_server_cert kms-api localhost 127.0.0.1 || die "could not make the kms-api certificate in $EKM_HOME/tls"
    envs+=("EKM_KMS_TLS_CERT=$EKM_HOME/tls/kms-api.pem" "EKM_KMS_TLS_KEY=$EKM_HOME/tls/kms-api-key.pem")
  fi
  printf '\n--- %s started by npm run up\n' "$(date -u +%FT%TZ)" >>"$LOG_DIR/kms-api.log"
  setsid env "${envs[@]}" node "$KMS_ENTRY" >>"$LOG_DIR/kms-api.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$RUN_DIR/kms-api.pid"
  info "kms-api: started (pid $pid, $(kms_endpoint), health port $KMS_HTTP_PORT, log .ekm/logs/kms-api.log)"
}

# The AWS shared credentials file (profile ekm) for the bootstrap admin, once: its secret exists only there.
write_aws_credentials() {
  local file="$EKM_HOME/aws/credentials" admin="$EKM_HOME/admin.credentials" principal
  [ -s "$file" ] && return 0
  [ -f "$admin" ] || { warn "no $admin: .ekm/aws/credentials not written (create an access key with ekm principal access-key create)"; return 0; }
  principal="$(node -e 'console.log(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).principalId)' "$admin")"
  mkdir -p "$EKM_HOME/aws"
  chmod 700 "$EKM_HOME/aws"
  node bin/ekm.js --credentials "$admin" --nats "$NATS_URL" principal access-key create "$principal" --aws-credentials-file "$file" --profile ekm >/dev/null \
    || { warn "could not create the bootstrap admin's access key; .ekm/aws/credentials not written"; return 0; }
  chmod 600 "$file"
  info "AWS credentials (profile ekm, bootstrap admin): .ekm/aws/credentials"
}

wait_ready() {
  local -a specs=()
  local s failed name
  for s in "${SERVICES[@]}"; do specs+=("$s=http://127.0.0.1:$(service_port "$s")/health/ready@$(read_pid "$s")"); done
  [ -f "$RUN_DIR/kms-api.pid" ] && specs+=("kms-api=http://127.0.0.1:$KMS_HTTP_PORT/health/ready@$(read_pid kms-api)")
  # (tee to a file, not /dev/stderr: reopening stderr would truncate a log file it points at)
  if node_helper wait-ready.js "$UP_TIMEOUT" "${specs[@]}" | tee "$RUN_DIR/wait-ready.out" | sed 's/^/    /'; then return 0; fi
  failed="$(grep '^FAILED' "$RUN_DIR/wait-ready.out" | tail -n1)"
  name="$(printf '%s\n' "$failed" | cut -d' ' -f2)"
  if [ -f "$LOG_DIR/$name.log" ]; then
    printf '\n--- last lines of .ekm/logs/%s.log\n' "$name" >&2
    # only this start's lines: from the last marker start_service wrote
    awk '/ started by npm run up$/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$LOG_DIR/$name.log" | tail -n 40 >&2
  fi
  die "${failed#FAILED } — the rest keep running; 'npm run down' stops everything up started"
}

write_stack_json() {
  local -a specs=()
  local s
  for s in "${SERVICES[@]}"; do specs+=("$s=$(service_port "$s")@$(read_pid "$s")"); done
  [ -f "$RUN_DIR/kms-api.pid" ] && specs+=("kms-api=$KMS_HTTP_PORT@$(read_pid kms-api)")
  KMS_ENDPOINT="$([ -f "$RUN_DIR/kms-api.pid" ] && kms_endpoint)" KMS_CA="$([ "$(kms_scheme)" = https ] && echo "$EKM_HOME/tls/ca.pem")" \
  NATS_URL="$NATS_URL" PG_URL="$ADMIN_URL" ROOT_OF_TRUST="$ROOT_OF_TRUST" PG_OWNED="$PG_OWNED" NATS_OWNED="$NATS_OWNED" \
    NATS_CREDENTIALS="$NATS_CREDS_DIR/cli.json" NATS_SIEM_CREDENTIALS="$NATS_CREDS_DIR/siem.json" NATS_TLS_CA="$NATS_TLS_CA" \
    ADMIN_CREDENTIALS="$EKM_HOME/admin.credentials" \
    PG_PID="$(read_pid postgres)" NATS_PID="$(read_pid nats)" LOG_DIR="$LOG_DIR" \
    node_helper stack-json.js "$EKM_HOME/stack.json" "${specs[@]}"
}

print_summary() {
  local s port
  info "postgres  $(node -e 'const u=new URL(process.argv[1]); u.password=""; console.log(u.toString())' "$ADMIN_URL")  $([ "$PG_OWNED" = 1 ] && echo "(started by up)" || echo "(existing server, not ours)")"
  info "nats      $NATS_URL  $([ "$NATS_OWNED" = 1 ] && echo "(started by up)" || echo "(existing server, not ours)")  TLS: $([ -n "$NATS_TLS_CA" ] && echo "on (CA $NATS_TLS_CA)" || echo off)"
  info "nats identities: ${NATS_CREDS_DIR#"$ROOT"/}/<identity>.json (0600); the CLI and SDK use cli.json (stack.json natsCredentials)"
  for s in "${SERVICES[@]}"; do
    port="$(service_port "$s")"
    info "$(printf '%-9s' "$s") http://127.0.0.1:$port/health/ready  /metrics  pid $(read_pid "$s")"
  done
  [ -f "$RUN_DIR/kms-api.pid" ] && info "kms-api   $(kms_endpoint)  (AWS KMS API; CA .ekm/tls/ca.pem, profile ekm in .ekm/aws/credentials)  pid $(read_pid kms-api)"
  info "root of trust: $ROOT_OF_TRUST    stack: .ekm/stack.json    logs: .ekm/logs/"
  info "stop everything up started: npm run down"
}
