# Root of trust for the keys and audit services started by up.sh. Sourced; sets KEYS_ENV (NAME=value entries).
#   software (default): the root key is sealed in EKM_DATA_DIR with EKM_ROOT_SECRET; without one, up
#     generates a development secret once in .ekm/data/root-secret (0600) and reuses it on every start.
#     That is the file (@ekm/crypto DEV_SECRET_FILE, same format) the keys service itself reads in
#     development without EKM_ROOT_SECRET, so a keys service started by hand opens the same root.
#   pkcs11: a SoftHSM2 token "ekm" in .ekm/softhsm/ (own softhsm2.conf, generated PIN files 0600), unless
#     EKM_PKCS11_PIN is set, in which case the caller's EKM_PKCS11_* (their own module/token) are used.

random_secret() { node -e 'process.stdout.write(require("node:crypto").randomBytes(Number(process.argv[1])).toString("base64url") + "\n")' "$1"; }

# write_secret FILE BYTES: creates FILE (0600) with a random secret unless it exists.
write_secret() {
  [ -s "$1" ] && return 0
  (umask 077 && random_secret "$2" >"$1")
}

prepare_root_of_trust() {
  KEYS_ENV=("EKM_ROOT_OF_TRUST=$ROOT_OF_TRUST")
  local dev_secret="$EKM_HOME/data/root-secret"
  if [ -z "${EKM_ROOT_SECRET:-}" ]; then
    write_secret "$dev_secret" 32
  fi
  if [ "$ROOT_OF_TRUST" = software ]; then
    if [ -n "${EKM_ROOT_SECRET:-}" ]; then
      info "software root key sealed in $EKM_HOME/data with EKM_ROOT_SECRET"
      KEYS_ENV+=("EKM_ROOT_SECRET=$EKM_ROOT_SECRET")
    else
      info "software root key sealed in $EKM_HOME/data with the development secret $dev_secret"
      KEYS_ENV+=("EKM_ROOT_SECRET=$(cat "$dev_secret")")
    fi
    return
  fi
  if [ -n "${EKM_PKCS11_PIN:-}" ]; then
    [ -n "${EKM_PKCS11_LIBRARY:-}" ] || die "EKM_PKCS11_PIN is set but EKM_PKCS11_LIBRARY is not"
    info "PKCS#11 module $EKM_PKCS11_LIBRARY, token ${EKM_PKCS11_TOKEN_LABEL:-ekm} (your own EKM_PKCS11_* settings)"
    KEYS_ENV+=("EKM_PKCS11_LIBRARY=$EKM_PKCS11_LIBRARY" "EKM_PKCS11_TOKEN_LABEL=${EKM_PKCS11_TOKEN_LABEL:-ekm}" "EKM_PKCS11_PIN=$EKM_PKCS11_PIN")
    [ -n "${SOFTHSM2_CONF:-}" ] && KEYS_ENV+=("SOFTHSM2_CONF=$SOFTHSM2_CONF")
    provision_pkcs11_root
    return
  fi
  local dir="$EKM_HOME/softhsm" label="${EKM_PKCS11_TOKEN_LABEL:-ekm}" lib
  lib="$(softhsm_lib)"
  mkdir -p "$dir/tokens"
  chmod 700 "$dir"
  if [ ! -f "$dir/softhsm2.conf" ]; then
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' "$dir/tokens" >"$dir/softhsm2.conf"
  fi
  write_secret "$dir/pin" 18
  write_secret "$dir/so-pin" 18
  if ! SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --show-slots 2>/dev/null | grep -Eq "^[[:space:]]*Label:[[:space:]]+$label[[:space:]]*\$"; then
    SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free --label "$label" \
      --pin "$(cat "$dir/pin")" --so-pin "$(cat "$dir/so-pin")" >/dev/null \
      || die "softhsm2-util could not create token '$label' in $dir/tokens"
    info "created SoftHSM2 token '$label' in $dir/tokens (PIN in $dir/pin)"
  else
    info "SoftHSM2 token '$label' in $dir/tokens (PIN in $dir/pin)"
  fi
  KEYS_ENV+=("SOFTHSM2_CONF=$dir/softhsm2.conf" "EKM_PKCS11_LIBRARY=$lib" "EKM_PKCS11_TOKEN_LABEL=$label" "EKM_PKCS11_PIN=$(cat "$dir/pin")")
  provision_pkcs11_root
}

# keys and audit both open the token root key and create it when it is missing: on a first start they
# could each create one. up opens it once first, so both find the same key.
provision_pkcs11_root() {
  env "${KEYS_ENV[@]}" node -e '
    const { Pkcs11RootOfTrust } = require(process.argv[1]);
    const e = process.env;
    Pkcs11RootOfTrust.open({ library: e.EKM_PKCS11_LIBRARY, tokenLabel: e.EKM_PKCS11_TOKEN_LABEL, pin: e.EKM_PKCS11_PIN, keyLabel: e.EKM_PKCS11_KEY_LABEL || "ekm-root", sessions: 1 })
      .then((r) => r.close(), (err) => { console.error(err.message); process.exit(1); });' "$ROOT/dist/libs/crypto/src/index.js" \
    || die "the PKCS#11 root key could not be opened or created on token ${EKM_PKCS11_TOKEN_LABEL:-ekm} (above)"
  info "root key ${EKM_PKCS11_KEY_LABEL:-ekm-root} on the token: ready (used by keys and audit)"
}
