#!/usr/bin/env bash
# `npm run reset [-- --yes]`: stops the stack (npm run down) and deletes its data wherever it lives:
# $EKM_HOME (.ekm: root of trust, SoftHSM2 token, Postgres and NATS data, logs, settings), the Postgres
# data dir .ekm/pg links to under /var/lib/ekm, and on servers up reused (not started by it) exactly
# this stack's database and its EKM_* JetStream streams, only when their claim names this stack.
# Irreversible: every key and the audit trail are gone. Asks first unless --yes (or EKM_RESET_CONFIRM=yes).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/stack.sh
source "$ROOT/infra/scripts/lib/stack.sh"
cd "$ROOT"

confirmed="${EKM_RESET_CONFIRM:-}"
for arg in "$@"; do
  case "$arg" in --yes | -y) confirmed=yes ;; *) die "usage: npm run reset [-- --yes]" ;; esac
done
if [ "$confirmed" != yes ]; then
  [ -t 0 ] || die "reset deletes every key and the audit trail of $EKM_HOME; not a terminal: pass --yes (npm run reset -- --yes)"
  printf 'Delete every key, the audit trail and all data of the stack in %s? Type "reset": ' "$EKM_HOME"
  read -r answer
  [ "$answer" = reset ] || die "not confirmed; nothing was deleted"
fi

bash "$ROOT/infra/scripts/down.sh"

step "Deleting this stack's data on servers it reused"
failed=0
if [ -f "$CLAIMS_FILE" ]; then
  while read -r kind url; do
    [ -n "$kind" ] || continue
    # A password never lands in the claims file: a reused Postgres that needs one is given again.
    [ "$kind" = pg ] && [ -n "${EKM_DATABASE_ADMIN_URL:-}" ] && url="$EKM_DATABASE_ADMIN_URL"
    rc=0
    out="$(node_helper stack-claim.js "release-$kind" "$url" "$EKM_HOME")" || rc=$?
    case "$rc" in
      0) [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'; info "$kind $(redact_url "$url"): this stack's data deleted" ;;
      4) warn "$kind $(redact_url "$url") now belongs to the stack in $out: left alone" ;;
      *) warn "$kind $(redact_url "$url"): could not delete this stack's data (unreachable?); delete it by hand"; failed=1 ;;
    esac
  done <"$CLAIMS_FILE"
else
  info "none (up started its own servers, or this stack never ran)"
fi

step "Deleting $EKM_HOME"
if [ -L "$EKM_HOME/pg" ]; then
  target="$(readlink -f "$EKM_HOME/pg")"
  case "$target" in
    /var/lib/ekm/pg-*) rm -rf -- "$target"; info "deleted the linked Postgres data $target" ;;
    *) warn "$EKM_HOME/pg links to $target, outside /var/lib/ekm: not deleted" ;;
  esac
fi
rm -rf -- "$EKM_HOME"
[ "$failed" = 0 ] || die "reset finished, but some data on reused servers is left (see above)"
step "Reset: the next 'npm run up' starts from nothing."
