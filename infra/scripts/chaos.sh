#!/usr/bin/env bash
# `npm run chaos [-- scenario ...]`: the fault harness (docs/reliability.md). Installs what it needs when
# missing (npm dependencies; Debian postgresql, nats-server, softhsm2 and libfaketime, the last for the
# skew scenario: a missing LD_PRELOAD library is silently ignored by ld.so, so the harness refuses to run
# skew without it), builds, then runs test/chaos/chaos.main. Private servers only, never the shared ones.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"

ensure_node_modules
step "Chaos prerequisites (Debian packages: postgresql, nats-server, softhsm2, libfaketime)"
ensure_postgres_installed
ensure_nats_installed
ensure_softhsm_installed
if ! ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1; then apt_install libfaketime; fi
step "build"
npm run --silent build
exec node dist/test/chaos/chaos.main.js "$@"
