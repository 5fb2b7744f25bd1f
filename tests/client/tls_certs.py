"""Test certificates, made with openssl(1) in a fresh directory.

Two CAs ("gexec test CA" and "other CA") and leaf certificates signed by
them, EC P-256, with validity windows set by `openssl ca -startdate
-enddate` (an expired certificate is one whose window ended in 2020):

  server          CA        SAN DNS:localhost, IP:127.0.0.1   valid
  server-expired  CA        same SANs                         2020-01-01..02
  server-named    CA        SAN DNS:gexecd.example only       valid
  client          CA        SAN URI:spiffe://test/alice       valid
  client-other    other CA  same                              valid
  client-expired  CA        same                              2020-01-01..02

Each NAME has NAME.pem (certificate) and NAME.key (unencrypted key);
the CAs are ca.pem and other-ca.pem.
"""

import os
import subprocess

VALID = ("20200101000000Z", "20991231000000Z")
EXPIRED = ("20200101000000Z", "20200102000000Z")
SERVER_SANS = "DNS:localhost,IP:127.0.0.1"
CLIENT_SANS = "URI:spiffe://test/alice"

LEAVES = [
    ("server", "ca", "gexecd", SERVER_SANS, VALID),
    ("server-expired", "ca", "gexecd", SERVER_SANS, EXPIRED),
    ("server-named", "ca", "gexecd", "DNS:gexecd.example", VALID),
    ("client", "ca", "alice", CLIENT_SANS, VALID),
    ("client-other", "other-ca", "alice", CLIENT_SANS, VALID),
    ("client-expired", "ca", "alice", CLIENT_SANS, EXPIRED),
]

CA_CONFIG = """\
[ca]
default_ca = d
[d]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
"""

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def _openssl(d, *args):
    subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ca(d, name, cn):
    _openssl(d, "req", "-x509", *EC, "-keyout", name + ".key",
             "-out", name + ".pem", "-days", "30", "-subj", "/CN=" + cn)


def _leaf(d, name, ca, cn, sans, window):
    _openssl(d, "req", "-new", *EC, "-keyout", name + ".key",
             "-out", name + ".csr", "-subj", "/CN=" + cn,
             "-addext", "subjectAltName=" + sans)
    _openssl(d, "ca", "-batch", "-config", "ca.cnf", "-cert", ca + ".pem",
             "-keyfile", ca + ".key", "-in", name + ".csr",
             "-out", name + ".pem", "-startdate", window[0],
             "-enddate", window[1], "-notext")


def make(d):
    """Makes every certificate in directory @d (created if needed)."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(CA_CONFIG)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    _ca(d, "ca", "gexec test CA")
    _ca(d, "other-ca", "other CA")
    for leaf in LEAVES:
        _leaf(d, *leaf)
