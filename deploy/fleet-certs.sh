#!/bin/sh
# Certificates for namespace fleet hosts (deploy/fleet-hosts.sh,
# tests/fleet/hosts.py), made with openssl (EC P-256, SHA-256, 30 days).
# No key is committed anywhere: every run makes its own.
#
#   fleet-certs.sh ca DIR NAME CN
#       DIR/NAME.pem DIR/NAME.key: a self-signed CA called CN
#   fleet-certs.sh client DIR CA NAME CN
#       DIR/NAME.pem DIR/NAME.key: a client certificate (CN, clientAuth)
#       signed by DIR/CA.{pem,key}
#   fleet-certs.sh servers DIR CA HOST:IP...
#       DIR/HOST/server.pem DIR/HOST/server.key for each HOST: CN=HOST,
#       SANs DNS:HOST and IP:IP, serverAuth, signed by DIR/CA.{pem,key}
#       (4 at a time)
set -eu

# cert OUT KEY CN EKU SAN [openssl req options...]
cert() {
  out=$1 keyf=$2 cn=$3 eku=$4 san=$5
  shift 5
  set -- -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$keyf" \
    -subj "/CN=$cn" -days 30 -out "$out" "$@"
  [ -n "$eku" ] && set -- "$@" -addext basicConstraints=critical,CA:FALSE \
    -addext "extendedKeyUsage=$eku"
  [ -n "$san" ] && set -- "$@" -addext "subjectAltName=$san"
  openssl req -x509 "$@" 2>/dev/null
}

cmd=${1:-}
case "$cmd" in
  ca)
    [ $# -eq 4 ] || { echo "usage: $0 ca DIR NAME CN" >&2; exit 2; }
    mkdir -p "$2"
    cert "$2/$3.pem" "$2/$3.key" "$4" "" "" \
      -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign
    ;;
  client)
    [ $# -eq 5 ] || { echo "usage: $0 client DIR CA NAME CN" >&2; exit 2; }
    cert "$2/$4.pem" "$2/$4.key" "$5" clientAuth "" \
      -CA "$2/$3.pem" -CAkey "$2/$3.key"
    ;;
  server)  # internal: one host (servers runs it in parallel)
    dir=$2 ca=$3 host=${4%%:*} ip=${4#*:}
    mkdir -p "$dir/$host"
    cert "$dir/$host/server.pem" "$dir/$host/server.key" "$host" serverAuth \
      "DNS:$host,IP:$ip" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key"
    ;;
  servers)
    [ $# -ge 3 ] || { echo "usage: $0 servers DIR CA HOST:IP..." >&2; exit 2; }
    dir=$2 ca=$3
    shift 3
    [ $# -eq 0 ] && exit 0
    printf '%s\n' "$@" | xargs -P 4 -n 1 sh "$0" server "$dir" "$ca"
    ;;
  *)
    echo "usage: $0 ca|client|servers ... (see the script's header)" >&2
    exit 2
    ;;
esac
