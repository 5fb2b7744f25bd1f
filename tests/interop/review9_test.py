#!/usr/bin/python3
"""Adversarial review of issue 9 (review9): attacks on the policy, the
launcher's program constraint, the audit log and the TLS admission, each
written as the behaviour a fix must give. On main (5288cff) every test
here FAILS, and its failure message shows the attack working.

  - env_bypasses_commands: a rule restricting `commands` but silent on
    `env` lets the client run any command as the run's user (BASH_ENV is
    expanded by bash, LD_PRELOAD by the loader).
  - command_entry_symlink_allows_multicall_binary: "commands":
    ["/usr/sbin/runlevel"] allows the whole of /usr/bin/systemctl,
    poweroff and reboot included (identity compare follows the entry's
    last symlink; argv[0] is the client's).
  - argv_pattern_bypass_via_argv0: [["/usr/bin/systemctl", "--help"]]
    lets argv[0] "reboot" through: systemctl acts as reboot.
  - run_as_absent_allows_any_user: a rule without run_as lets a
    certificate holder pick any local account.
  - oversized_record_hides_denied_decision: a denied run whose argv makes
    the audit record exceed 256 KiB leaves no audit record.
  - health_ignores_revocation: a revoked certificate is told its
    identity and policy rule by Health/Check.
  - ipv6_loopback_is_anonymous_loopback: a plaintext [::1] peer is not
    matched by anonymous_loopback (gRPC writes "ipv6:%5B::1%5D:port").
  - revoked_intermediate_ca_still_accepted: with --tls-crl-dir, a leaf
    issued by an intermediate that the root's CRL revokes is accepted
    (X509_V_FLAG_CRL_CHECK checks the leaf only).
  - unmatched_caller_holds_every_slot: callers no rule matches take a
    session slot until the start timeout; 4 idle anonymous streams lock
    root out of a 4-session daemon.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_lib as it  # noqa: E402
from interop_lib import SC, Run, check, pb  # noqa: E402
import tls_test as tt  # noqa: E402

import grpc  # noqa: E402
import health_pb2 as hpb  # noqa: E402


class Ctx:
    d = None
    sock = None
    audit = None
    work = None     # scripts, the preload library (not under /tmp)


def policy():
    script = os.path.join(Ctx.work, "status.sh")
    return {"rules": [
        {"name": "root-narrow", "match": {"uid": 0},
         "allow": {"commands": [script, "/usr/bin/true"],
                   "profiles": ["host"], "run_as": ["root"]}},
        {"name": "carol", "match": {"cn": "carol"},
         "allow": {"commands": ["/usr/sbin/runlevel"], "profiles": ["host"],
                   "run_as": ["root"]}},
        {"name": "bob", "match": {"dns": "bob.example.org"},
         "allow": {"argv": [["/usr/bin/systemctl", "--help"]],
                   "profiles": ["host"], "run_as": ["root"]}},
        {"name": "alice", "match": {"spiffe": "spiffe://example.org/ops/*"},
         "allow": {"commands": ["*"], "profiles": ["restricted"]}},
        {"name": "revoked-rule", "match": {"cn": "revoked"}, "allow": {}},
    ]}


def unix():
    return Ctx.d.channel("unix:" + Ctx.sock)


def tls(client):
    return Ctx.d.channel(Ctx.d.tcp(), tt.creds(client))


def run(ch, argv, **kw):
    return it.run_cmd(ch, argv=argv, stdin_mode=pb.STDIN_NULL, eof=False, **kw)


def refused(r, what):
    check(r.code == SC.PERMISSION_DENIED and "started" not in it.kinds(r.responses),
          r.describe(), "PERMISSION_DENIED, nothing started (%s)" % what,
          "%s; stdout=%r stderr=%r" % (r.outcome(), it.Result(r).stdout,
                                      it.Result(r).stderr))


# ------------------------------------------------------- program constraint

def t_env_bypasses_commands():
    script = os.path.join(Ctx.work, "status.sh")
    attacks = [([script], {"BASH_ENV": "$(echo INJECTED-$(id -u) >&2)"},
                "BASH_ENV runs a command substitution in any bash script")]
    lib = os.path.join(Ctx.work, "preload.so")
    if os.path.exists(lib):
        attacks.append((["/usr/bin/true"], {"LD_PRELOAD": lib},
                        "LD_PRELOAD runs the client's code in /usr/bin/true"))
    got = []
    for argv, env, what in attacks:
        r = run(unix(), argv, env=env)
        if r.code != SC.PERMISSION_DENIED:
            got.append("%s: %s stderr=%r" % (what, r.outcome(), it.Result(r).stderr))
    check(not got, "runs under a rule with commands but no env key",
          "PERMISSION_DENIED for each", got)


def t_command_entry_symlink_allows_multicall_binary():
    if os.path.realpath("/usr/sbin/runlevel") != os.path.realpath("/usr/bin/systemctl"):
        return  # no systemd here
    r = run(tls("client-cn"), ["/usr/bin/systemctl", "--help"])
    out = it.Result(r).stdout
    check(r.code != SC.OK or b"systemctl [OPTIONS...]" not in out, r.describe(),
          "refused: only runlevel is allowed", (r.outcome(), out[:80]))
    r = run(tls("client-cn"), ["poweroff", "--help"])
    out = it.Result(r).stdout
    check(r.code != SC.OK or b"Power off the system" not in out, r.describe(),
          "refused: poweroff is not runlevel", (r.outcome(), out[:80]))


def t_argv_pattern_bypass_via_argv0():
    if os.path.realpath("/usr/sbin/reboot") != os.path.realpath("/usr/bin/systemctl"):
        return
    r = run(tls("client-dns"), ["reboot", "--help"])
    out = it.Result(r).stdout
    check(r.code != SC.OK or b"Reboot the system" not in out, r.describe(),
          "refused (or systemctl's own --help): the pattern names systemctl, "
          "and ['reboot', 'status'] would reboot the host",
          (r.outcome(), out[:80]))


# ------------------------------------------------------------------ run-as

def t_run_as_absent_allows_any_user():
    r = run(tls("client-spiffe"), ["cat", "/proc/self/uid_map"], user="daemon")
    refused(r, "the rule names no run_as user; the client must not pick one")


# ------------------------------------------------------------------- audit

def audit_records():
    with open(Ctx.audit) as f:
        return [json.loads(line) for line in f if line.strip()]


def t_oversized_record_hides_denied_decision():
    marker = "gxr9-marker-%d" % os.getpid()
    argv = ["/usr/bin/true", marker] + ["A" * 4000] * 80  # ~320 KiB record
    r = run(unix(), argv, profile="baseline")  # not in root-narrow's profiles
    check(r.code == SC.PERMISSION_DENIED, r.describe(), "PERMISSION_DENIED", r.outcome())
    recs = [x for x in audit_records() if x.get("event") == "decision" and
            marker in x.get("argv", [])]
    check(len(recs) == 1 and recs[0].get("decision") == "denied" and
          recs[0].get("truncated") is True, "audit log after a denied run with "
          "a 320 KiB argv", "one denied decision record, truncated", recs)


# --------------------------------------------------------------------- TLS

def t_health_ignores_revocation():
    ch = tls("client-revoked")
    call = ch.unary_unary("/grpc.health.v1.Health/Check",
                          request_serializer=hpb.HealthCheckRequest.SerializeToString,
                          response_deserializer=hpb.HealthCheckResponse.FromString)
    try:
        _, c = call.with_call(hpb.HealthCheckRequest(service=""), timeout=30)
        md = dict(c.trailing_metadata() or ())
        leak = {k: v for k, v in md.items() if k.startswith("gexec-")}
    except grpc.RpcError as e:
        leak = {"status": e.code().name}
    check("gexec-identity" not in leak and "gexec-policy-rule" not in leak,
          "Health/Check with a revoked client certificate",
          "UNAUTHENTICATED or no identity/rule trailers", leak)


def t_ipv6_loopback_is_anonymous_loopback():
    pol = os.path.join(it.TMPDIR, "anon.json")
    with open(pol, "w") as f:
        json.dump({"rules": [{"name": "dev", "match": {"anonymous_loopback": True},
                              "allow": {}}]}, f)
    d = it.Daemon("v6", ["[::1]:0"], ["--policy", pol]).start()
    try:
        r = run(d.channel(), ["true"])
        check(r.code == SC.OK, r.describe(), "OK: [::1] is loopback", r.outcome())
    finally:
        d.close_channels()
        d.terminate()


def t_unmatched_caller_holds_every_slot():
    """Callers no rule matches still get a session slot until the start
    timeout (30 s): 4 idle anonymous streams lock root out of a
    4-session daemon."""
    sock_dir, _ = it.socket_dir()
    sock = os.path.join(sock_dir, "slots.sock")
    pol = os.path.join(it.TMPDIR, "slots.json")
    with open(pol, "w") as f:
        json.dump({"rules": [{"name": "root", "match": {"uid": 0}, "allow": {}}]}, f)
    d = it.Daemon("slots", ["unix:" + sock, "127.0.0.1:0"],
                  ["--policy", pol, "--max-sessions", "4"]).start()
    idle = []
    try:
        anon = d.channel("127.0.0.1:0")
        for _ in range(4):
            r = Run(anon)
            idle.append(r)
        refusals = []
        for _ in range(10):
            r = run(d.channel("unix:" + sock), ["true"])
            if r.code != SC.OK:
                refusals.append(r.outcome())
            it.time.sleep(0.2)
        check(not refusals, "root runs while 4 anonymous (unmatched) streams idle",
              "every run OK: an unmatched caller holds no slot", refusals[:2])
    finally:
        for r in idle:
            r.cancel()
        d.close_channels()
        d.terminate()


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True)


def _make_chain(d):
    """root -> inter (revoked by root's CRL) -> leaf CN=eve."""
    cnf = os.path.join(d, "ca.cnf")
    with open(cnf, "w") as f:
        f.write("""[ ca ]
default_ca = dflt
[ dflt ]
dir = $ENV::CADIR
database = $dir.db/index.txt
serial = $dir.db/serial
crlnumber = $dir.db/crlnumber
new_certs_dir = $dir.db
certificate = $dir.pem
private_key = $dir.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
[ inter ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ leaf ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
""")
    for ca in ("root", "inter"):
        os.makedirs(os.path.join(d, ca + ".db"))
        open(os.path.join(d, ca + ".db", "index.txt"), "w").close()
        for n in ("serial", "crlnumber"):
            with open(os.path.join(d, ca + ".db", n), "w") as f:
                f.write("1000\n")
    key = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"]
    for k in ("root", "inter", "leaf"):
        _openssl(*(key + [k + ".key"]), cwd=d)
    _openssl("req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=r9 root",
             "-days", "30", "-out", "root.pem", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign", cwd=d)

    def issue(ca, name, cn, ext):
        _openssl("req", "-new", "-key", name + ".key", "-subj", "/CN=" + cn,
                 "-out", name + ".csr", cwd=d)
        env = dict(os.environ, CADIR=os.path.join(d, ca))
        subprocess.run(["openssl", "ca", "-batch", "-config", cnf, "-notext",
                        "-in", name + ".csr", "-out", name + ".pem",
                        "-extensions", ext], cwd=d, env=env, check=True,
                       capture_output=True)
    issue("root", "inter", "r9 intermediate", "inter")
    issue("inter", "leaf", "eve", "leaf")
    os.makedirs(os.path.join(d, "crl"))
    for ca, revoke in (("root", "inter.pem"), ("inter", None)):
        env = dict(os.environ, CADIR=os.path.join(d, ca))
        if revoke:
            subprocess.run(["openssl", "ca", "-config", cnf, "-revoke", revoke],
                           cwd=d, env=env, check=True, capture_output=True)
        subprocess.run(["openssl", "ca", "-config", cnf, "-gencrl", "-out",
                        os.path.join("crl", ca + ".crl.pem")], cwd=d, env=env,
                       check=True, capture_output=True)
    with open(os.path.join(d, "bundle.pem"), "w") as out:
        for n in ("root.pem", "inter.pem"):
            with open(os.path.join(d, n)) as f:
                out.write(f.read())
    with open(os.path.join(d, "leaf-chain.pem"), "w") as out:
        for n in ("leaf.pem", "inter.pem"):
            with open(os.path.join(d, n)) as f:
                out.write(f.read())


def t_revoked_intermediate_ca_still_accepted():
    d = tempfile.mkdtemp(prefix="r9-chain-", dir=it.TMPDIR)
    _make_chain(d)
    pol = os.path.join(d, "policy.json")
    with open(pol, "w") as f:
        json.dump({"rules": [{"name": "eve", "match": {"cn": "eve"}, "allow": {}}]}, f)
    dm = tt.TlsDaemon("chain", ["127.0.0.1:0"], [
        "--tls-cert", os.path.join(tt.CERTS, "server.pem"),
        "--tls-key", os.path.join(tt.CERTS, "server.key"),
        "--tls-client-ca", os.path.join(d, "bundle.pem"),
        "--tls-crl-dir", os.path.join(d, "crl"), "--policy", pol])
    dm.listens = ["127.0.0.1:0"]
    try:
        # start() checks health with client-cn, which this CA does not
        # know: wait for the listening line only
        ev = dm.wait_listening()[0]
        target = "127.0.0.1:%d" % ev["port"]
        cred = grpc.ssl_channel_credentials(
            root_certificates=tt.pem("ca.pem"),
            private_key=open(os.path.join(d, "leaf.key"), "rb").read(),
            certificate_chain=open(os.path.join(d, "leaf-chain.pem"), "rb").read())
        ch = grpc.secure_channel(target, cred, options=tt.CHANNEL_OPTIONS)
        dm.channels.append(ch)
        r = run(ch, ["true"])
        check(r.code == SC.UNAUTHENTICATED, r.describe(),
              "UNAUTHENTICATED: its issuer is revoked by the root's CRL",
              r.outcome())
    finally:
        dm.close_channels()
        dm.terminate()


TESTS = [
    t_env_bypasses_commands,
    t_command_entry_symlink_allows_multicall_binary,
    t_argv_pattern_bypass_via_argv0,
    t_run_as_absent_allows_any_user,
    t_oversized_record_hides_denied_decision,
    t_health_ignores_revocation,
    t_ipv6_loopback_is_anonymous_loopback,
    t_revoked_intermediate_ca_still_accepted,
    t_unmatched_caller_holds_every_slot,
]


def setup_work():
    Ctx.work = tempfile.mkdtemp(prefix="gxr9-", dir="/var/tmp")
    os.chmod(Ctx.work, 0o755)
    script = os.path.join(Ctx.work, "status.sh")
    with open(script, "w") as f:
        f.write("#!/bin/bash\necho status ok\n")
    os.chmod(script, 0o755)
    src = os.path.join(Ctx.work, "preload.c")
    with open(src, "w") as f:
        f.write('#include <unistd.h>\n__attribute__((constructor)) static void '
                'pwn(void) { write(2, "PRELOADED\\n", 10); }\n')
    if shutil.which("cc"):
        subprocess.run(["cc", "-shared", "-fPIC", "-o",
                        os.path.join(Ctx.work, "preload.so"), src],
                       check=False, capture_output=True)


def main():
    passed = failed = 0
    sock_dir, link = it.socket_dir()
    Ctx.sock = os.path.join(sock_dir, "r9.sock")
    Ctx.audit = os.path.join(it.TMPDIR, "audit.log")
    try:
        setup_work()
        subprocess.run(["/bin/sh", tt.MKCERTS, tt.CERTS], check=True)
        pol = os.path.join(it.TMPDIR, "policy.json")
        with open(pol, "w") as f:
            json.dump(policy(), f)
        Ctx.d = tt.TlsDaemon("r9", ["unix:" + Ctx.sock, "127.0.0.1:0"],
                             tt.tls_flags() + ["--policy", pol,
                                               "--audit-log", Ctx.audit])
        Ctx.d.wait_listening()
        Ctx.d.listens = ["unix:" + Ctx.sock, "127.0.0.1:0"]
        Ctx.d.start()
        passed, failed = it.run_tests(TESTS, Ctx.d, sys.argv[1:])
    except Exception:
        failed += 1
        print("FAIL setup: unexpected exception")
        traceback.print_exc(file=sys.stdout)
    finally:
        if Ctx.d:
            Ctx.d.kill()
        if Ctx.work:
            shutil.rmtree(Ctx.work, ignore_errors=True)
        if link:
            os.unlink(link)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
