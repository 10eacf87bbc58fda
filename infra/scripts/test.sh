#!/usr/bin/env bash
# `npm test`: the whole suite, with its own setup. Installs npm dependencies when needed and the Debian
# packages the tests use when their binaries are missing (postgresql, nats-server, softhsm2: the tests
# start private servers, never the machine's shared ones), then build, typecheck, lint and jest.
# Results: .ekm/test-results.json (jest --json) and .ekm/test-checks.txt (typecheck/lint/build status),
# read by .ci/run. Extra arguments go to jest (e.g. `npm test -- libs/contracts`).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"

mkdir -p "$EKM_HOME"
RESULTS="$EKM_HOME/test-results.json"
CHECKS="$EKM_HOME/test-checks.txt"
rm -f "$RESULTS" "$CHECKS"

ensure_node_modules
step "Test prerequisites (Debian packages: postgresql, nats-server, softhsm2)"
ensure_postgres_installed
ensure_nats_installed
ensure_softhsm_installed
info "postgres $(pg_bindir)  nats $(nats_bin)  softhsm $(softhsm_lib)"

# check NAME CMD...: runs a check, records "NAME passed|failed" and goes on, so one run reports all.
failed=0
check() {
  local name="$1"
  shift
  step "$name ($*)"
  if "$@"; then echo "$name passed" >>"$CHECKS"; else echo "$name failed" >>"$CHECKS"; failed=1; fi
}
check build npm run --silent build
check typecheck npm run --silent typecheck
check lint npm run --silent lint

step "jest (whole suite; results in .ekm/test-results.json)"
jest_rc=0
npx jest --json --outputFile="$RESULTS" "$@" || jest_rc=$?
[ "$jest_rc" = 0 ] || failed=1

step "Summary"
cat "$CHECKS" | sed 's/^/    /'
info "jest exit code $jest_rc"
exit "$failed"
