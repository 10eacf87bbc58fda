# The stack's local CA and server certificates (openssl). Sourced; needs EKM_HOME (common.sh) or
# EKM_TLS_DIR. Safe to call on every `npm run up`: an existing CA is reused; a server certificate is
# reissued only when it is missing, signed by another CA, lacks a requested host, or expires within 30 days.
#   ensure_local_ca                 -> $TLS_DIR/ca.pem, ca-key.pem (0600)
#   ensure_server_cert NAME HOST... -> $TLS_DIR/NAME.pem, NAME-key.pem (0600); HOSTs are DNS names or IPs

tls_dir() { echo "${EKM_TLS_DIR:-$EKM_HOME/tls}"; }

ensure_local_ca() {
  local dir
  dir="$(tls_dir)"
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ -s "$dir/ca.pem" ] && [ -s "$dir/ca-key.pem" ]; then return 0; fi
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=EKM local CA $(hostname)" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" >/dev/null 2>&1) || { echo "openssl could not create the local CA in $dir" >&2; return 1; }
  chmod 600 "$dir/ca-key.pem"
  chmod 644 "$dir/ca.pem"
}

# _cert_ok CERT HOST...: issued by our CA, valid 30 more days, and names every HOST.
_cert_ok() {
  local cert="$1" dir text h
  shift
  dir="$(tls_dir)"
  [ -s "$cert" ] || return 1
  openssl verify -CAfile "$dir/ca.pem" "$cert" >/dev/null 2>&1 || return 1
  openssl x509 -checkend $((30 * 86400)) -noout -in "$cert" >/dev/null 2>&1 || return 1
  text="$(openssl x509 -noout -ext subjectAltName -in "$cert" 2>/dev/null)" || return 1
  for h in "$@"; do
    if [[ "$h" =~ ^[0-9.]+$|: ]]; then grep -q "IP Address:$h\b" <<<"$text" || return 1
    else grep -q "DNS:$h\b" <<<"$text" || return 1
    fi
  done
}

ensure_server_cert() {
  local name="$1" dir san="" h csr ext
  shift
  [ "$#" -gt 0 ] || { echo "ensure_server_cert NAME HOST...: at least one host" >&2; return 1; }
  ensure_local_ca || return 1
  dir="$(tls_dir)"
  if _cert_ok "$dir/$name.pem" "$@" && [ -s "$dir/$name-key.pem" ]; then return 0; fi
  for h in "$@"; do
    if [[ "$h" =~ ^[0-9.]+$|: ]]; then san+="${san:+,}IP:$h"; else san+="${san:+,}DNS:$h"; fi
  done
  csr="$(mktemp)"
  ext="$(mktemp)"
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$san" >"$ext"
  (umask 077 && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" -keyout "$dir/$name-key.pem" -out "$csr" >/dev/null 2>&1 \
    && openssl x509 -req -in "$csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial -days 825 -extfile "$ext" -out "$dir/$name.pem" >/dev/null 2>&1)
  local rc=$?
  rm -f "$csr" "$ext" "$dir/ca.srl"
  [ "$rc" = 0 ] || { echo "openssl could not issue the $name certificate in $dir" >&2; return 1; }
  chmod 600 "$dir/$name-key.pem"
  chmod 644 "$dir/$name.pem"
}
