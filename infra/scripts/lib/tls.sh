# A local certificate authority for `npm run up` (TLS to NATS and Postgres, and whatever else serves on
# this machine). Sourced. Needs EKM_HOME, info, die (lib/common.sh) and openssl.
#   ensure_local_ca                  .ekm/tls/ca.pem (+ ca-key.pem, 0600): created once, reused after
#   ensure_server_cert NAME HOSTS... .ekm/tls/NAME.pem (+ NAME-key.pem, 0600) for HOSTS (IPs or DNS
#                                    names), signed by the local CA; renewed when missing, not signed by
#                                    the current CA, not covering HOSTS, or expiring within 30 days
# EC P-256 keys. The CA key never leaves .ekm/tls; trust ca.pem in clients (EKM_NATS_TLS_CA, sslrootcert).

TLS_DIR="${EKM_TLS_DIR:-$EKM_HOME/tls}"

ensure_openssl() { command -v openssl >/dev/null 2>&1 || apt_install openssl; }

ensure_local_ca() {
  ensure_openssl
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  if [ -f "$TLS_DIR/ca.pem" ] && [ -f "$TLS_DIR/ca-key.pem" ] && openssl x509 -in "$TLS_DIR/ca.pem" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
    chmod 600 "$TLS_DIR/ca-key.pem"
    return 0
  fi
  info "creating a local CA in ${TLS_DIR#"$ROOT"/} (ca.pem; ca-key.pem stays here, 0600)"
  (umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$TLS_DIR/ca-key.pem.tmp") || die "openssl could not create the CA key"
  openssl req -x509 -new -key "$TLS_DIR/ca-key.pem.tmp" -sha256 -days 3650 -subj "/CN=EKM local CA $(hostname -s 2>/dev/null || echo host)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$TLS_DIR/ca.pem.tmp" 2>/dev/null || die "openssl could not create the CA certificate"
  chmod 600 "$TLS_DIR/ca-key.pem.tmp"
  mv "$TLS_DIR/ca-key.pem.tmp" "$TLS_DIR/ca-key.pem"
  mv "$TLS_DIR/ca.pem.tmp" "$TLS_DIR/ca.pem"
  chmod 644 "$TLS_DIR/ca.pem"
  # Certificates of the previous CA no longer verify: remove them so they are issued again.
  find "$TLS_DIR" -maxdepth 1 -name '*.pem' ! -name 'ca.pem' ! -name 'ca-key.pem' -delete
}

# SAN list for HOSTS: IP:x for addresses, DNS:x for names.
tls_san() {
  local h out=()
  for h in "$@"; do
    if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then out+=("IP:$h"); else out+=("DNS:$h"); fi
  done
  local IFS=,
  echo "${out[*]}"
}

ensure_server_cert() {
  local name="$1"
  shift
  [ "$#" -gt 0 ] || die "ensure_server_cert $name: no hosts given"
  [[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || die "ensure_server_cert: bad name '$name'"
  ensure_local_ca # a certificate needs its CA (also when only the HTTPS edge uses TLS)
  local cert="$TLS_DIR/$name.pem" key="$TLS_DIR/$name-key.pem" san h ok=1
  san="$(tls_san "$@")"
  if [ -f "$cert" ] && [ -f "$key" ] && openssl verify -CAfile "$TLS_DIR/ca.pem" "$cert" >/dev/null 2>&1 \
    && openssl x509 -in "$cert" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
    for h in "$@"; do
      if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then openssl x509 -in "$cert" -noout -checkip "$h" 2>/dev/null | grep -q 'does match' || ok=0
      else openssl x509 -in "$cert" -noout -checkhost "$h" 2>/dev/null | grep -q 'does match' || ok=0; fi
    done
    if [ "$ok" = 1 ]; then chmod 600 "$key"; return 0; fi
  fi
  info "issuing ${cert#"$ROOT"/} for $* (key 0600)"
  (umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$key.tmp") || die "openssl could not create the $name key"
  openssl req -new -key "$key.tmp" -subj "/CN=$1" -out "$TLS_DIR/$name.csr" 2>/dev/null || die "openssl could not create the $name CSR"
  openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca-key.pem" -CAcreateserial -CAserial "$TLS_DIR/ca.srl" -days 397 -sha256 \
    -extfile <(printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' "$san") \
    -out "$cert.tmp" 2>/dev/null || die "openssl could not sign the $name certificate"
  rm -f "$TLS_DIR/$name.csr"
  chmod 600 "$key.tmp"
  mv "$key.tmp" "$key"
  mv "$cert.tmp" "$cert"
  chmod 644 "$cert"
}
