#!/bin/sh
# Makes the TLS test material of issue 9 with openssl, at test time (no
# key is committed). Usage: mkcerts.sh DIR [EXTRA_SERVER_IP]
#
# In DIR (EC P-256 keys, SHA-256):
#   ca.pem ca.key           the test CA ("gexec test CA")
#   ca2.pem ca2.key         a second CA ("gexec rotated CA"), for rotation
#   other-ca.pem            a CA the daemon does not trust
#   server.pem server.key   CN=gexecd, SANs IP:127.0.0.1, DNS:localhost
#                           (and IP:EXTRA_SERVER_IP), signed by ca
#   server2.pem server2.key the same names, CN=gexecd-rotated, by ca2
#   client-spiffe.*         CN=spiffe-client, SANs URI:spiffe://example.org/
#                           ops/alice and DNS:alice.example.org
#   client-dns.*            CN=dns-client, SANs DNS:bob.example.org,
#                           DNS:bob2.example.org
#   client-cn.*             CN=carol, no SAN
#   client-other.*          CN=mallory, signed by other-ca
#   client-expired.*        CN=expired, valid 2020-01-01 to 2020-01-02
#   client-revoked.*        CN=revoked, revoked in crl/ca.crl.pem
#   client-ca2.*            CN=dave, signed by ca2
#   server-enc.key          server.key encrypted (pass phrase "secret")
#   crl/ca.crl.pem          ca's CRL (client-revoked's serial in it)
#   crl2/ca.crl.pem         ca's CRL with nothing revoked (an older one)
#   other-crl/other-ca.crl.pem  other-ca's CRL
#   serial-revoked          client-revoked's serial, hex as openssl prints it
# Intermediate CAs (for CRL checks of whole chains; not in ca.pem):
#   inter.pem inter.key     "gexec intermediate CA", signed by ca
#   inter-revoked.*         "gexec revoked intermediate CA", signed by ca,
#                           revoked in crl/ca.crl.pem
#   client-inter.*          CN=erin, signed by inter
#   client-inter-revoked.*  CN=frank, signed by inter, revoked in
#                           crl/inter.crl.pem
#   client-under-revoked.*  CN=eve, signed by inter-revoked
#   <each of those three>-chain.pem  its certificate, then its issuer's
#                           (what a client presents)
#   crl/inter.crl.pem crl/inter-revoked.crl.pem  the intermediates' CRLs
#   serial-inter-revoked    inter-revoked's serial (hex)
#   serial-client-inter-revoked  client-inter-revoked's serial (hex)
#   impostor-crl/ca.crl.pem a CRL naming "gexec test CA" as its issuer,
#                           signed by another key
set -eu
dir=$1
extra=${2:-}
mkdir -p "$dir/crl" "$dir/crl2" "$dir/other-crl"
cd "$dir"

san="IP:127.0.0.1,DNS:localhost"
[ -n "$extra" ] && san="$san,IP:$extra"

cat > ca.cnf <<CNF
[ ca ]
default_ca = dflt
[ dflt ]
dir = \$ENV::CADIR
database = \$dir.db/index.txt
serial = \$dir.db/serial
crlnumber = \$dir.db/crlnumber
new_certs_dir = \$dir.db
certificate = \$dir.pem
private_key = \$dir.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
[ server ]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = $san
[ spiffe ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = URI:spiffe://example.org/ops/alice,DNS:alice.example.org
[ dns ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = DNS:bob.example.org,DNS:bob2.example.org
[ plain ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
[ inter ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
CNF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# mkdb NAME: the database of a CA that issues
mkdb() {
  mkdir -p "$1.db"
  : > "$1.db/index.txt"
  echo 1000 > "$1.db/serial"
  echo 1000 > "$1.db/crlnumber"
}

# mkca NAME CN
mkca() {
  mkdb "$1"
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

# issue CA NAME CN SECTION [openssl ca options...]
issue() {
  ca=$1 name=$2 cn=$3 ext=$4
  shift 4
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
  CADIR="$PWD/$ca" openssl ca -batch -config ca.cnf -notext -in "$name.csr" \
    -out "$name.pem" -extensions "$ext" "$@" 2>/dev/null
  rm -f "$name.csr"
}

mkca ca "gexec test CA"
mkca ca2 "gexec rotated CA"
mkca other-ca "some other CA"
issue ca server gexecd server
issue ca2 server2 gexecd-rotated server
issue ca client-spiffe spiffe-client spiffe
issue ca client-dns dns-client dns
issue ca client-cn carol plain
issue other-ca client-other mallory plain
issue ca client-expired expired plain \
  -startdate 20200101000000Z -enddate 20200102000000Z
issue ca client-revoked revoked plain
issue ca2 client-ca2 dave plain
openssl pkey -in server.key -aes256 -passout pass:secret -out server-enc.key
CADIR="$PWD/other-ca" openssl ca -config ca.cnf -gencrl \
  -out other-crl/other-ca.crl.pem 2>/dev/null
CADIR="$PWD/ca" openssl ca -config ca.cnf -gencrl -out crl2/ca.crl.pem 2>/dev/null
CADIR="$PWD/ca" openssl ca -config ca.cnf -revoke client-revoked.pem \
  -crl_reason keyCompromise 2>/dev/null

# gencrl CA FILE [PEM to revoke first]
gencrl() {
  [ -n "${3:-}" ] && CADIR="$PWD/$1" openssl ca -config ca.cnf -revoke "$3" \
    -crl_reason keyCompromise 2>/dev/null
  CADIR="$PWD/$1" openssl ca -config ca.cnf -gencrl -out "$2" 2>/dev/null
}

# chain NAME: NAME-chain.pem, its certificate then its issuer's ($2)
chain() { cat "$1.pem" "$2.pem" > "$1-chain.pem"; }

serial() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }

issue ca inter "gexec intermediate CA" inter
issue ca inter-revoked "gexec revoked intermediate CA" inter
mkdb inter
mkdb inter-revoked
issue inter client-inter erin plain
issue inter client-inter-revoked frank plain
issue inter-revoked client-under-revoked eve plain
chain client-inter inter
chain client-inter-revoked inter
chain client-under-revoked inter-revoked
gencrl inter crl/inter.crl.pem client-inter-revoked.pem
gencrl inter-revoked crl/inter-revoked.crl.pem
gencrl ca crl/ca.crl.pem inter-revoked.pem
mkdir -p impostor-crl
mkca impostor "gexec test CA"
gencrl impostor impostor-crl/ca.crl.pem
serial client-revoked.pem > serial-revoked
serial inter-revoked.pem > serial-inter-revoked
serial client-inter-revoked.pem > serial-client-inter-revoked
