#!/usr/bin/python3
"""The gexec CLI over TLS and mTLS, against stock gRPC TLS servers.

The daemon's own TLS listeners are another branch's work, so the servers
here are Python grpcio ones (the same gRPC C core 1.51 underneath) with
ssl_server_credentials built from certificates that tls_certs.py makes
with openssl in this test. They serve grpc.health.v1.Health/Check
(SERVING) and a fake gexec.v1.Exec/Run that answers `started`, one stdout
chunk naming the argv it got, and `exited` with code 3: a run whose
exit status is 3 went through the TLS connection end to end.

Each case asserts gexec's exact exit status, stdout and stderr line:
success, the server's certificate failing verification (unknown CA,
name mismatch and --tls-server-name, expired), a server requiring a
client certificate (none, another CA's, an expired one), plaintext and
TLS mixed up, unix: targets ignoring TLS, environment variables under
flags, unusable files and inconsistent settings.

Prints one line per test and "N passed, N failed"; exits 1 on a failure.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from concurrent import futures

HERE = os.path.dirname(os.path.abspath(__file__))
PB_DIR = os.environ.get("GEXEC_TLS_PB_DIR") or HERE
sys.path.insert(0, PB_DIR)
sys.path.insert(0, HERE)
# The servers' own log lines (a failed handshake, an unknown SNI) are
# noise here; gexec gets an environment without GRPC_* (see gexec()).
os.environ["GRPC_VERBOSITY"] = "NONE"

import grpc  # noqa: E402

import exec_pb2 as pb  # noqa: E402
import tls_certs  # noqa: E402

GEXEC = os.environ.get("GEXEC") or os.path.join(
    HERE, "..", "..", "bazel-bin", "client", "cli", "gexec")
# Short paths: sun_path holds 107 bytes, and the file names appear in the
# messages checked (Bazel's TEST_TMPDIR is deep). Removed at the end.
TMPDIR = tempfile.mkdtemp(prefix="gexec-tls-", dir="/tmp")
CERTS = os.path.join(TMPDIR, "certs")
CLI_TIMEOUT = 60  # seconds; every case ends in well under one

HEALTH_SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}
RUN_EXIT = 3


def cert(name):
    return os.path.join(CERTS, name)


# ------------------------------------------------------------ servers


def health_check(request, context):
    return HEALTH_SERVING


def fake_run(requests, context):
    first = next(requests)
    argv = list(first.start.argv)
    yield pb.RunResponse(started=pb.Started(pid=4242, run_id=7))
    yield pb.RunResponse(stdout=("ran %s\n" % " ".join(argv)).encode())
    yield pb.RunResponse(exited=pb.Exited(exit_code=RUN_EXIT))


HANDLERS = (
    grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(health_check)}),
    grpc.method_handlers_generic_handler("gexec.v1.Exec", {
        "Run": grpc.stream_stream_rpc_method_handler(
            fake_run, request_deserializer=pb.RunRequest.FromString,
            response_serializer=pb.RunResponse.SerializeToString)}),
)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tls_creds(name, require_client_cert):
    return grpc.ssl_server_credentials(
        [(read(cert(name + ".key")), read(cert(name + ".pem")))],
        root_certificates=read(cert("ca.pem")),
        require_client_auth=require_client_cert)


def serve(add_port):
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    s.add_generic_rpc_handlers(HANDLERS)
    port = add_port(s)
    if not port:
        raise RuntimeError("cannot listen")
    s.start()
    return s, port


class Servers:
    """One server per way of listening, on loopback."""

    def __init__(self):
        self.all = []
        self.tls = self._tls("server", False)
        self.expired = self._tls("server-expired", False)
        self.named = self._tls("server-named", False)
        self.mtls = self._tls("server", True)
        self.plain = self._add(lambda s: s.add_insecure_port("127.0.0.1:0"))
        self.sock = os.path.join(TMPDIR, "plain.sock")
        self._add(lambda s: s.add_insecure_port("unix:" + self.sock))

    def _add(self, add_port):
        s, port = serve(add_port)
        self.all.append(s)
        return "127.0.0.1:%d" % port

    def _tls(self, name, mtls):
        creds = tls_creds(name, mtls)
        return self._add(lambda s: s.add_secure_port("127.0.0.1:0", creds))

    def stop(self):
        for s in self.all:
            s.stop(None)


# ------------------------------------------------------------ the CLI


class Result:
    def __init__(self, p):
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr

    def __repr__(self):
        return "exit %d, stdout %r, stderr %r" % (self.rc, self.out, self.err)


def gexec(*args, env=None):
    """Runs gexec with @env over ours minus GEXEC_* and GRPC_* (gexec then
    silences gRPC's log: its stderr must be our one line alone)."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("GEXEC_") and not k.startswith("GRPC_")}
    e.update(env or {})
    p = subprocess.run([GEXEC] + list(args), env=e, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=CLI_TIMEOUT)
    return Result(p)


class Failure(AssertionError):
    pass


def expect(r, rc, err, out=None):
    """Checks a result: exit status, stderr exactly, stdout exactly (a str)
    or matching (a compiled pattern), or anything (None)."""
    ok = r.rc == rc and r.err == err
    if isinstance(out, str):
        ok = ok and r.out == out
    elif out is not None:
        ok = ok and out.fullmatch(r.out) is not None
    if not ok:
        raise Failure("\n    expected: exit %d, stdout %r, stderr %r"
                      "\n    actual:   %r" % (rc, out, err, r))


def serving(target):
    return re.compile(re.escape("gexecd at %s: SERVING, rtt " % target) +
                      r"\d+\.\d{3} ms\n")


def ping_ok(target, *tls, env=None):
    expect(gexec("ping", "-H", target, *tls, env=env), 0, "", serving(target))


def run_ok(target, *tls, env=None):
    r = gexec("run", "-n", "-H", target, *tls, "--", "echo", "hi", env=env)
    expect(r, RUN_EXIT, "", "ran echo hi\n")


def refused(target, reason, *tls, env=None):
    """Both subcommands fail to connect with @reason, exit 255."""
    line = "gexec: cannot connect to %s: %s\n" % (target, reason)
    expect(gexec("ping", "-H", target, *tls, env=env), 255, line, "")
    r = gexec("run", "-n", "-H", target, *tls, "--", "echo", "hi", env=env)
    expect(r, 255, line, "")


def usage(sub, why, *args, env=None):
    """A usage error (exit 2); `run` gets a PROGRAM after @args."""
    r = gexec(sub, *args, *(["x"] if sub == "run" else []), env=env)
    expect(r, 2, "gexec: %s\nTry 'gexec %s --help'.\n" % (why, sub), "")


def flags(ca="ca", client=None):
    f = ["--ca", cert(ca + ".pem")]
    if client:
        f += ["--cert", cert(client + ".pem"), "--key", cert(client + ".key")]
    return f


UNVERIFIED = "the server's certificate failed verification: "
REFUSED_GENERIC = ("the server refused our certificate (missing, expired, "
                   "revoked or from another CA)")

# -------------------------------------------------------------- tests


def t_tls_success(s):
    ping_ok(s.tls, *flags())
    run_ok(s.tls, *flags())
    # A DNS name checked against the certificate's DNS SAN. gRPC's c-ares
    # resolver leaks 10 bytes (ares_strdup) in a process that exits
    # without grpc_shutdown, which LeakSanitizer reports in --config=asan,
    # with or without TLS: the native resolver (getaddrinfo) has no leak.
    ping_ok("localhost:" + s.tls.split(":")[1], *flags(),
            env={"GRPC_DNS_RESOLVER": "native"})


def t_unknown_server_ca(s):
    refused(s.tls, UNVERIFIED + "not issued by a CA in " +
            cert("other-ca.pem"), *flags("other-ca"))


def t_server_name_mismatch(s):
    refused(s.named, UNVERIFIED + "it names gexecd.example, not 127.0.0.1",
            *flags())
    name = ["--tls-server-name", "gexecd.example"]
    ping_ok(s.named, *flags(), *name)
    run_ok(s.named, *flags(), *name)


def t_wrong_server_name(s):
    refused(s.tls, UNVERIFIED + "it names localhost, 127.0.0.1, not "
            "other.example", *flags(), "--tls-server-name", "other.example")


def t_expired_server_cert(s):
    refused(s.expired, UNVERIFIED + "it expired on 2020-01-02 00:00:00 UTC",
            *flags())


def t_mtls_no_client_cert(s):
    refused(s.mtls, "the server refused the TLS connection (it requires a "
            "client certificate, and we have none)", *flags())


def t_mtls_client_cert_other_ca(s):
    refused(s.mtls, REFUSED_GENERIC, *flags(client="client-other"))


def t_mtls_client_cert_expired(s):
    refused(s.mtls, "the server refused our certificate (ours expired on "
            "2020-01-02 00:00:00 UTC)", *flags(client="client-expired"))


def t_mtls_success(s):
    ping_ok(s.mtls, *flags(client="client"))
    run_ok(s.mtls, *flags(client="client"))


def env_of(ca="ca", client=None):
    e = {"GEXEC_CA": cert(ca + ".pem")}
    if client:
        e["GEXEC_CERT"] = cert(client + ".pem")
        e["GEXEC_KEY"] = cert(client + ".key")
    return e


def t_environment(s):
    ping_ok(s.mtls, env=env_of(client="client"))
    run_ok(s.mtls, env=env_of(client="client"))
    # flags override the environment, one setting at a time
    ping_ok(s.mtls, *flags(), env=env_of("other-ca", "client"))
    ping_ok(s.mtls, "--cert", cert("client.pem"), "--key", cert("client.key"),
            env=env_of(client="client-expired"))
    refused(s.tls, UNVERIFIED + "not issued by a CA in " +
            cert("other-ca.pem"), *flags("other-ca"), env=env_of())
    # an empty variable is unset: plaintext to a plaintext server
    ping_ok(s.plain, env={"GEXEC_CA": "", "GEXEC_CERT": "", "GEXEC_KEY": ""})


def t_tls_to_plaintext_server(s):
    refused(s.plain, "the server does not speak TLS (a plaintext listener?)",
            *flags())


def t_plaintext_to_tls_server(s):
    refused(s.tls, "the server closed the connection during setup (if it is "
            "a TLS listener, connect with its CA)")


def t_unix_target_ignores_tls(s):
    target = "unix:" + s.sock
    missing = os.path.join(TMPDIR, "no-such.pem")
    ping_ok(target, "--ca", missing, "--cert", missing, "--key", missing)
    ping_ok(target, env={"GEXEC_CA": missing})


def write(name, data):
    path = os.path.join(TMPDIR, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def t_unusable_files(s):
    missing = os.path.join(TMPDIR, "no-such.pem")
    text = write("notes.txt", b"not a certificate\n")
    refused(s.tls, "CA file %s: No such file or directory" % missing,
            "--ca", missing)
    refused(s.tls, "CA file %s: no PEM certificate in it" % text,
            "--ca", text)
    refused(s.tls, "CA file %s: Is a directory" % TMPDIR, "--ca", TMPDIR)
    refused(s.mtls, "certificate file %s: no PEM certificate in it"
            % cert("client.key"), *flags(), "--cert", cert("client.key"),
            "--key", cert("client.key"))
    refused(s.mtls, "key file %s: no PEM private key in it"
            % cert("client.pem"), *flags(), "--cert", cert("client.pem"),
            "--key", cert("client.pem"))
    refused(s.mtls, "key file %s: does not match the certificate in %s"
            % (cert("client-other.key"), cert("client.pem")), *flags(),
            "--cert", cert("client.pem"), "--key", cert("client-other.key"))


def t_json_error(s):
    r = gexec("run", "--json", "-n", "-H", s.tls, *flags("other-ca"), "--",
              "echo", "hi")
    reason = ("cannot connect to %s: " % s.tls + UNVERIFIED +
              "not issued by a CA in " + cert("other-ca.pem"))
    if r.rc != 255 or r.err != "gexec: %s\n" % reason:
        raise Failure("unexpected %r" % r)
    err = json.loads(r.out)["error"]
    if err != {"status": "UNAVAILABLE", "code": 14, "message": reason}:
        raise Failure("JSON error %r" % err)


def t_inconsistent_settings(s):
    c, k = cert("client.pem"), cert("client.key")
    for sub in ("ping", "run"):
        usage(sub, "--cert needs a private key: --key FILE or GEXEC_KEY",
              "--ca", cert("ca.pem"), "--cert", c, "-H", s.mtls)
        usage(sub, "GEXEC_KEY needs a certificate: --cert FILE or GEXEC_CERT",
              "-H", s.mtls, env={"GEXEC_CA": cert("ca.pem"), "GEXEC_KEY": k})
        usage(sub, "--cert needs the daemon's CA: --ca FILE or GEXEC_CA",
              "--cert", c, "--key", k, "-H", s.mtls)
        usage(sub, "--tls-server-name needs the daemon's CA: --ca FILE or "
              "GEXEC_CA", "--tls-server-name", "a.example", "-H", s.tls)
        usage(sub, "invalid value '' for --ca: expected a file name (at most "
              "4096 bytes)", "--ca", "")


def t_help(s):
    for sub in ("run", "ping"):
        out = gexec(sub, "--help").out
        for f in ("--ca FILE", "--cert FILE", "--key FILE",
                  "--tls-server-name NAME", "$GEXEC_CA", "$GEXEC_CERT",
                  "$GEXEC_KEY", "exits 255"):
            if f not in out:
                raise Failure("gexec %s --help lacks %r" % (sub, f))


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("t_")]


def main():
    try:
        tls_certs.make(CERTS)
        servers = Servers()
    except Exception:
        shutil.rmtree(TMPDIR, ignore_errors=True)
        raise
    failed = 0
    try:
        for t in TESTS:
            try:
                t(servers)
                print("ok   %s" % t.__name__, flush=True)
            except Exception:  # report and go on with the next test
                failed += 1
                print("FAIL %s" % t.__name__, flush=True)
                traceback.print_exc(file=sys.stdout)
    finally:
        servers.stop()
        shutil.rmtree(TMPDIR, ignore_errors=True)
    print("%d passed, %d failed" % (len(TESTS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
