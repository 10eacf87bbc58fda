# Shared helpers for infra/scripts/{up,down,test}.sh. Sourced, never run.
# Everything EKM starts on this machine lives under $EKM_HOME (.ekm/ in the repo): data, logs, pid files.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
EKM_HOME="${EKM_HOME:-$ROOT/.ekm}"
case "$EKM_HOME" in /*) ;; *) EKM_HOME="$PWD/$EKM_HOME" ;; esac # absolute: it is also the stack marker
RUN_DIR="$EKM_HOME/run"
LOG_DIR="$EKM_HOME/logs"
SERVICES=(keys policy rotation audit)

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '    warning: %s\n' "$*" >&2; }
die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if is_root; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run '$*': run as root or install sudo"
  fi
}

APT_UPDATED=0
# apt_install PKG...: installs Debian packages (apt-get update once per script run first).
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand (this script targets Debian 12)"
  if [ "$APT_UPDATED" = 0 ]; then
    info "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  info "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Newest Debian PostgreSQL server bin dir (/usr/lib/postgresql/<major>/bin), or empty. EKM_PG_BINDIR overrides.
pg_bindir() {
  if [ -n "${EKM_PG_BINDIR:-}" ]; then echo "$EKM_PG_BINDIR"; return; fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -n1 || true)"
  if [ -n "$d" ] && [ -x "$d/postgres" ]; then echo "$d"; fi
}

nats_bin() {
  if [ -n "${EKM_NATS_SERVER_BIN:-}" ]; then echo "$EKM_NATS_SERVER_BIN"; return; fi
  command -v nats-server 2>/dev/null || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true
}

SOFTHSM_LIB_DEFAULT=/usr/lib/softhsm/libsofthsm2.so
softhsm_lib() {
  local p
  for p in "${EKM_PKCS11_LIBRARY:-}" "$SOFTHSM_LIB_DEFAULT" /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
    if [ -n "$p" ] && [ -f "$p" ]; then echo "$p"; return; fi
  done
}

# The Debian packages for our servers and SoftHSM2, installed only when their binaries are missing.
ensure_postgres_installed() { [ -n "$(pg_bindir)" ] || { apt_install postgresql; [ -n "$(pg_bindir)" ] || die "postgresql installed but no server binaries found"; }; }
ensure_nats_installed() { [ -n "$(nats_bin)" ] || { apt_install nats-server; [ -n "$(nats_bin)" ] || die "nats-server installed but not found"; }; }
ensure_softhsm_installed() {
  if [ -z "$(softhsm_lib)" ] || ! command -v softhsm2-util >/dev/null 2>&1; then apt_install softhsm2; fi
  [ -n "$(softhsm_lib)" ] || die "softhsm2 installed but libsofthsm2.so not found"
}

# npm ci when node_modules is missing or package-lock.json changed since the last install.
ensure_node_modules() {
  cd "$ROOT"
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "Installing npm dependencies (npm ci)"
    # pkcs11js is a native addon that node-gyp compiles at install: it needs python3, make and g++.
    if ! command -v g++ >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
      apt_install build-essential python3
    fi
    npm ci --no-audit --no-fund
  fi
}

# pid_alive PID [PATTERN]: the process exists and (when PATTERN is given) its command line contains
# PATTERN, so a pid file left over after a reboot never makes us signal an unrelated process.
pid_alive() {
  local pid="$1" pattern="${2:-}"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ -z "$pattern" ] && return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

read_pid() { [ -f "$RUN_DIR/$1.pid" ] && tr -dc '0-9' <"$RUN_DIR/$1.pid" || true; }

# stop_pid NAME PID PATTERN [SIGNAL] [GRACE_SECONDS]: SIGNAL (default TERM), wait, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" pattern="$3" sig="${4:-TERM}" grace="${5:-15}" i
  if ! pid_alive "$pid" "$pattern"; then info "$name: not running"; return 0; fi
  kill -s "$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_alive "$pid" "$pattern" || { info "$name: stopped (pid $pid)"; return 0; }
    sleep 0.1
  done
  warn "$name (pid $pid) still running after ${grace}s: SIGKILL"
  kill -s KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive "$pid" "$pattern" || return 0; sleep 0.1; done
  warn "$name (pid $pid) survived SIGKILL"
  return 1
}

node_helper() { node "$ROOT/infra/scripts/lib/$1" "${@:2}"; }
