# The four EKM services, for up.sh. Sourced. Needs: NATS_URL, ADMIN_URL, ROOT_OF_TRUST, KEYS_ENV,
# DEFAULT_PORT, UP_TIMEOUT, PG_OWNED, NATS_OWNED, NATS_CREDS_DIR, NATS_TLS_CA from up.sh.

service_port() { local var="EKM_${1^^}_HTTP_PORT"; echo "${!var:-${DEFAULT_PORT[$1]}}"; }
service_entry() { echo "dist/apps/$1/src/main.js"; }

# The service's own login role on the EKM database: the admin URL with user ekm_<service>.
service_db_url() {
  node -e 'const u = new URL(process.argv[1]); u.username = process.argv[2]; u.password = process.argv[3] ?? ""; console.log(u.toString())' \
    "$ADMIN_URL" "ekm_$1" "${EKM_DB_ROLE_PASSWORD:-}"
}

start_service() {
  local s="$1" port pid
  port="$(service_port "$s")"
  [ -f "$ROOT/$(service_entry "$s")" ] || die "$(service_entry "$s") is missing after the build: does apps/$s/src/main.ts exist?"
  if node_helper probe.js port "$port"; then
    die "$s: port $port is in use by another process; free it or set EKM_${s^^}_HTTP_PORT"
  fi
  local -a envs=(
    "EKM_ENV=${EKM_ENV:-development}"
    "EKM_NATS_URL=$NATS_URL"
    # Each service logs in to NATS as itself (its own subjects only); the file is 0600 and never logged.
    "EKM_NATS_CREDENTIALS=$NATS_CREDS_DIR/$s.json"
    "EKM_DATABASE_URL=$(service_db_url "$s")"
    # migrate.js ran the shared migrations; with the admin URL a service also migrates its own tables.
    "EKM_DATABASE_ADMIN_URL=$ADMIN_URL"
    "EKM_HTTP_PORT=$port"
    "EKM_DATA_DIR=$EKM_HOME/data"
    "EKM_LOG_LEVEL=${EKM_LOG_LEVEL:-info}"
  )
  [ -n "$NATS_TLS_CA" ] && envs+=("EKM_NATS_TLS_CA=$NATS_TLS_CA")
  [ "$s" = keys ] && envs+=("${KEYS_ENV[@]}" "EKM_AUTHZ=${EKM_AUTHZ:-policy}")
  # First start (no principals yet): the policy service creates the operator admin and writes its
  # credential here (0600); the CLI reads it by default.
  [ "$s" = policy ] && envs+=("EKM_BOOTSTRAP_CREDENTIALS_FILE=$EKM_HOME/admin.credentials")
  printf '\n--- %s started by npm run up\n' "$(date -u +%FT%TZ)" >>"$LOG_DIR/$s.log"
  # setsid: the service outlives this shell and a Ctrl-C here. Without job control the background child
  # is no group leader, so setsid and env exec in place and $! is the node process itself.
  setsid env "${envs[@]}" node "$(service_entry "$s")" >>"$LOG_DIR/$s.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$RUN_DIR/$s.pid"
  [ "$s" = keys ] && echo "$ROOT_OF_TRUST" >"$RUN_DIR/keys.root-of-trust"
  info "$s: started (pid $pid, port $port, log .ekm/logs/$s.log)"
}

start_services() {
  local s pid
  for s in "${SERVICES[@]}"; do
    pid="$(read_pid "$s")"
    if pid_alive "$pid" "$(service_entry "$s")"; then
      info "$s: already running (pid $pid), left alone"
      if [ "$s" = keys ] && [ "$(cat "$RUN_DIR/keys.root-of-trust" 2>/dev/null)" != "$ROOT_OF_TRUST" ]; then
        warn "keys runs with root of trust '$(cat "$RUN_DIR/keys.root-of-trust" 2>/dev/null)'; run 'npm run down' first to switch to '$ROOT_OF_TRUST'"
      fi
      continue
    fi
    rm -f "$RUN_DIR/$s.pid"
    start_service "$s"
  done
}

wait_ready() {
  local -a specs=()
  local s failed name
  for s in "${SERVICES[@]}"; do specs+=("$s=http://127.0.0.1:$(service_port "$s")/health/ready@$(read_pid "$s")"); done
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
  info "root of trust: $ROOT_OF_TRUST    stack: .ekm/stack.json    logs: .ekm/logs/"
  info "stop everything up started: npm run down"
}
