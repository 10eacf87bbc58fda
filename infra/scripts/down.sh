#!/usr/bin/env bash
# `npm run down`: stops exactly what `npm run up` started, by the pids it recorded in .ekm/run/:
# the four services first, then a nats-server and a Postgres that up started itself. A server that up
# merely used (one that already answered on its port) is never touched. Data in .ekm/ is kept.
# Processes of this stack whose pid files are gone (.ekm deleted while up) are found by the
# EKM_STACK_HOME marker in their environment (lib/stack.sh) and stopped too.
#   EKM_DOWN_GRACE   seconds between the polite signal and SIGKILL (default 15)
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/stack.sh
source "$ROOT/infra/scripts/lib/stack.sh"
cd "$ROOT"
GRACE="${EKM_DOWN_GRACE:-15}"

if [ ! -d "$RUN_DIR" ]; then
  if [ -z "$(marked_leaders)" ]; then
    echo "nothing to stop: $RUN_DIR does not exist and no process carries $STACK_MARKER"
    exit 0
  fi
  step "Stopping the processes of $EKM_HOME found by their marker ($RUN_DIR is gone)"
  stop_marked "$GRACE" || die "some process did not stop (see above)"
  sweep_marked "$GRACE" || die "some process did not stop (see above)"
  step "Stopped."
  exit 0
fi
exec 9>"$RUN_DIR/lock"
flock -w 600 9 || die "another 'npm run up/down' holds $RUN_DIR/lock"

failed=0
step "Stopping services (SIGTERM: they drain and finish in-flight work)"
if [ -f "$RUN_DIR/kms-api.pid" ]; then
  stop_pid kms-api "$(read_pid kms-api)" "dist/apps/kms-api/src/main.js" TERM "$GRACE" || failed=1
  rm -f "$RUN_DIR/kms-api.pid"
fi
for s in "${SERVICES[@]}"; do
  stop_pid "$s" "$(read_pid "$s")" "dist/apps/$s/src/main.js" TERM "$GRACE" || failed=1
  rm -f "$RUN_DIR/$s.pid"
done
rm -f "$RUN_DIR/keys.root-of-trust"

step "Stopping servers that up started"
if [ -f "$RUN_DIR/nats.pid" ]; then
  stop_pid nats-server "$(read_pid nats)" nats-server TERM "$GRACE" || failed=1
  rm -f "$RUN_DIR/nats.pid" "$RUN_DIR/nats.port" "$RUN_DIR/nats.requested-port"
else
  info "nats: none started by up"
fi
if [ -f "$RUN_DIR/postgres.pid" ]; then
  # SIGINT is Postgres' "fast" shutdown: it ends sessions and checkpoints. (SIGTERM, the "smart" mode,
  # would wait for every client to disconnect first.)
  stop_pid postgres "$(read_pid postgres)" postgres INT "$GRACE" || failed=1
  rm -f "$RUN_DIR/postgres.pid" "$RUN_DIR/postgres.port" "$RUN_DIR/postgres.requested-port"
else
  info "postgres: none started by up"
fi
if [ -n "$(marked_leaders)" ]; then stop_marked "$GRACE" || failed=1; fi
sweep_marked "$GRACE" || failed=1
rm -f "$EKM_HOME/stack.json"
[ "$failed" = 0 ] || die "some process did not stop (see above)"
step "Stopped. Data is kept in .ekm/ (delete it for a fresh start)."
