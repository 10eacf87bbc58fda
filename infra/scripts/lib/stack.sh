# What makes a stack of `npm run up` findable without its .ekm/run files, and its persistent settings.
# Sourced by up.sh, down.sh and reset.sh, after common.sh.
#
# Every process up starts (services, nats-server, postgres) carries EKM_STACK_HOME=<absolute EKM_HOME> in
# its environment. down finds them by that marker even when .ekm was deleted while they ran, and up
# refuses to start a second set beside them (a second postgres on a deleted data dir is how a WAL from
# "a different database system" happens).

STACK_MARKER="EKM_STACK_HOME=$EKM_HOME"
CONFIG_FILE="$EKM_HOME/config.env"

# Processes whose environment carries our marker (readable: ours, or any when root), one pid a line.
marked_pids() {
  # one grep over every environ file (-z: NUL-separated entries, -x: the whole entry)
  grep -lzxF -- "$STACK_MARKER" /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/||; s|/environ$||' | grep -vx "$$" || true
}

# marked_leaders: "kind pid" for the processes to signal (a postgres postmaster, not its backends).
marked_leaders() {
  local pid cmd ppid
  for pid in $(marked_pids); do
    cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)"
    ppid="$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
    case "$cmd" in
      *dist/apps/*/src/main.js*) echo "service $pid" ;;
      *nats-server*) echo "nats $pid" ;;
      *postgres*) if [ -n "$ppid" ] && ! grep -qzxF -- "$STACK_MARKER" "/proc/$ppid/environ" 2>/dev/null; then echo "postgres $pid"; fi ;;
    esac
  done
}

# Dies when processes of this stack run that no pid file in .ekm/run knows about.
refuse_orphans() {
  local kind pid known orphans=""
  known=" $(cat "$RUN_DIR"/*.pid 2>/dev/null | tr -dc '0-9\n' | tr '\n' ' ' || true) "
  while read -r kind pid; do
    [ -z "$pid" ] && continue
    case "$known" in *" $pid "*) ;; *) orphans+=" $kind:$pid" ;; esac
  done < <(marked_leaders)
  [ -z "$orphans" ] || die "processes of the stack in $EKM_HOME still run without their pid files in $RUN_DIR (was .ekm deleted while up?):$orphans. Nothing was started. Run 'npm run down' (it finds them by the $STACK_MARKER marker in their environment), then 'npm run up'."
}

# Stops every marked process left (after down stopped the ones its pid files name): services, then
# nats-server, then postgres (SIGINT, its fast shutdown).
stop_marked() {
  local grace="$1" kind pid failed=0 k
  for k in service nats postgres; do
    while read -r kind pid; do
      [ "$kind" = "$k" ] || continue
      warn "$kind pid $pid of this stack had no pid file (deleted .ekm?): stopping it by its marker"
      stop_pid "$kind" "$pid" "" "$([ "$kind" = postgres ] && echo INT || echo TERM)" "$grace" || failed=1
    done < <(marked_leaders)
  done
  return "$failed"
}

# After the leaders are stopped: waits up to GRACE seconds for every process still carrying the marker
# (a postgres backend outlives a postmaster that had to be SIGKILLed, until it notices), then SIGKILLs
# what is left. Zombies carry no environment, so they do not count.
sweep_marked() {
  local grace="$1" i left pid
  for ((i = 0; i < grace * 10; i++)); do
    left="$(marked_pids)"
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  for pid in $left; do
    warn "pid $pid of this stack ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)) still runs after its leader stopped: SIGKILL"
    kill -s KILL "$pid" 2>/dev/null || true
  done
  for ((i = 0; i < 50; i++)); do [ -z "$(marked_pids)" ] && return 0; sleep 0.1; done
  warn "still running after SIGKILL: $(marked_pids | tr '\n' ' ')"
  return 1
}

# The caller's EKM_* names, taken before config.env fills in the rest (config-env.js saves only these).
EKM_UP_GIVEN="$(compgen -e | grep '^EKM_' | tr '\n' ' ' || true)"


# Exports the settings of config.env that the caller's environment does not set. No `source`: the
# file is data, a line is NAME=value with nothing evaluated.
load_config() {
  [ -f "$CONFIG_FILE" ] || return 0
  local line k v
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    k="${line%%=*}"
    v="${line#*=}"
    [[ "$k" =~ ^EKM_[A-Z0-9_]+$ ]] || die "$CONFIG_FILE: '$k' is not an EKM_ setting name"
    [ -n "${!k+x}" ] && continue
    export "$k=$v"
  done <"$CONFIG_FILE"
}

# Validates and saves the settings (needs the build: the rules come from @ekm/config).
save_config() {
  local out
  out="$(EKM_UP_GIVEN="$EKM_UP_GIVEN" node_helper config-env.js save "$CONFIG_FILE" "$ROOT/dist/libs/config/src/index.js" 2>&1)" \
    || { printf '%s\n' "$out" >&2; die "settings rejected (above); nothing was started or restarted"; }
  if [ -n "$out" ]; then printf '%s\n' "$out" | sed 's/^/    /'; fi
  info "settings: $CONFIG_FILE"
}

# The database and the NATS a stack uses are claimed (a row / a JetStream message naming $EKM_HOME), so
# a second stack on the same servers stops before it starts anything. $EKM_HOME/claims lists those on
# servers up did not start, for reset: "pg <admin url without password>" / "nats <url>".
CLAIMS_FILE="$EKM_HOME/claims"
# claim_or_die pg|nats|check-nats URL [OWNED]
claim_or_die() {
  local kind="$1" url="$2" owned="${3:-0}" owner rc=0 hint
  owner="$(node_helper stack-claim.js "$kind" "$url" "$EKM_HOME")" || rc=$?
  if [ "$rc" = 4 ]; then
    if [ "${kind#check-}" = nats ]; then
      hint="two stacks cannot share the ekm.v1.* subjects and EKM_* streams of one NATS: set EKM_NATS_PORT to a free port (up then starts a nats-server of its own)"
    else
      hint="set EKM_PG_DATABASE=ekm_$(printf '%s' "$EKM_HOME" | cksum | cut -d' ' -f1) (or EKM_PG_PORT to a free port, for a Postgres of its own)"
    fi
    die "the ${kind#check-} server at $(redact_url "$url") is in use by the EKM stack in $owner. Nothing was started. Either $hint, or run 'npm run reset' in that checkout to delete its data."
  fi
  [ "$rc" = 0 ] || die "could not check who uses $(redact_url "$url") (above)"
  [ "${kind#check-}" = "$kind" ] && [ "$owned" != 1 ] || return 0
  touch "$CLAIMS_FILE"
  grep -qxF "$kind $(redact_url "$url")" "$CLAIMS_FILE" || echo "$kind $(redact_url "$url")" >>"$CLAIMS_FILE"
}
redact_url() { node -e 'const u = new URL(process.argv[1]); u.password = ""; console.log(u.toString())' "$1"; }
