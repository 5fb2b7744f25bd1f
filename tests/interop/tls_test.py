#!/usr/bin/python3
"""TLS and mTLS against the real gexecd with a stock client (Python grpcio,
grpc.ssl_channel_credentials), certificates made by tests/tls/mkcerts.sh
(openssl) when the test starts.

What it proves, one test each:
  - every TCP listener speaks mTLS when --tls-* is given; the unix socket
    stays plaintext; a plaintext client cannot use the TLS port;
  - the caller's identity (SPIFFE ID, else first DNS SAN, else CN) is the
    "identity" field of the daemon's run log line;
  - another CA's, an expired and no client certificate fail the handshake
    (UNAVAILABLE, no call reaches the daemon); a revoked one (CRL) gets
    UNAUTHENTICATED with the serial and issuer, and a "refused" log line;
  - with the root alone as client CA, a client of an intermediate that
    sends it is accepted (also on resumed TLS sessions, which carry no
    chain), one that does not fails the handshake; a client revoked by
    the intermediate's CRL, or under an intermediate revoked by the
    root's, is refused with a reason naming the revoked certificate;
  - Health/Check refuses a revoked client (no identity trailers) and
    tells the others who they are;
  - SIGHUP rotates the server certificate while a run is live: the run
    finishes, its connection keeps working, a new connection sees the new
    certificate; a broken file is refused, logged, and the old set stays;
  - start-up refuses a non-loopback TCP listener without mTLS and a
    policy (exact message), and a key that does not match its certificate;
  - the server's keepalive policy accepts client pings every 10 s (the
    documented minimum) on an idle run, and answers pings every 1 s with
    GOAWAY too_many_pings (so the first result means something).

Prints one line per test, then "N passed, N failed"; exits 1 on failure.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import interop_lib as it  # noqa: E402  (sets up sys.path for the pb2s)
from interop_lib import Run, SC, check, check_ok_run, pb  # noqa: E402

import grpc  # noqa: E402

MKCERTS = os.environ.get("GEXEC_MKCERTS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tls", "mkcerts.sh")
CERTS = os.path.join(it.TMPDIR, "certs")


def pem(name):
    with open(os.path.join(CERTS, name), "rb") as f:
        return f.read()


def creds(client=None, ca="ca.pem", chain=False):
    """Client credentials trusting `ca`, presenting `client` (.pem, or
    -chain.pem with `chain`: its certificate then its intermediate's;
    .key)."""
    if client is None:
        return grpc.ssl_channel_credentials(root_certificates=pem(ca))
    cert = client + ("-chain.pem" if chain else ".pem")
    return grpc.ssl_channel_credentials(root_certificates=pem(ca),
                                        private_key=pem(client + ".key"),
                                        certificate_chain=pem(cert))


CHANNEL_OPTIONS = [
    ("grpc.enable_http_proxy", 0),
    ("grpc.use_local_subchannel_pool", 1),  # one connection per channel
]


class TlsDaemon(it.Daemon):
    """A gexecd whose TCP channels are TLS ones (client-cn by default)."""

    def channel(self, addr=None, cred=None, options=()):
        addr = addr or self.listens[0]
        target = self.targets[addr]
        if addr.startswith("unix:"):
            return super().channel(addr)
        ch = grpc.secure_channel(target, cred or creds("client-cn"),
                                 options=CHANNEL_OPTIONS + list(options))
        self.channels.append(ch)
        return ch

    def tcp(self):
        return [a for a in self.listens if not a.startswith("unix:")][0]

    def events_of(self, kind):
        with self.cond:
            return [e for e in self.events if e.get("event") == kind]

    def wait_event(self, pred, what, timeout=it.RPC_DEADLINE):
        return it.wait_until(lambda: next((e for e in list(self.events) if pred(e)), None),
                             timeout, what)

    def run_line(self, run_id):
        return self.wait_event(lambda e: e.get("event") == "run" and e.get("run") == run_id,
                               "the run log line of run %d" % run_id)


def tls_flags(d=CERTS, crl=True):
    f = ["--tls-cert", os.path.join(d, "server.pem"),
         "--tls-key", os.path.join(d, "server.key"),
         "--tls-client-ca", os.path.join(d, "ca.pem")]
    return f + (["--tls-crl-dir", os.path.join(d, "crl")] if crl else [])


class Ctx:
    mtls = None  # unix + 127.0.0.1:0 with mTLS and the CRL dir


def echo(ch, word):
    run = it.run_cmd(ch, argv=["echo", word], stdin_mode=pb.STDIN_NULL, eof=False)
    res = check_ok_run(run)
    check(res.stdout == (word + "\n").encode(), run.describe(), "stdout %r" % word, res.stdout)
    return res


# -------------------------------------------------------------------- tests

def t_listeners_security():
    by_addr = {e["address"]: e.get("security") for e in Ctx.mtls.listening_events()}
    check(by_addr == {Ctx.mtls.listens[0]: "plaintext", "127.0.0.1:0": "mtls"},
          "gexecd %s" % " ".join(Ctx.mtls.args[1:]),
          'listening lines: the unix socket "plaintext", TCP "mtls"', by_addr)
    echo(Ctx.mtls.channel(Ctx.mtls.listens[0]), "over-unix")


def t_plaintext_client_on_tls_port():
    ch = grpc.insecure_channel(Ctx.mtls.targets[Ctx.mtls.tcp()], options=CHANNEL_OPTIONS)
    try:
        run = it.run_cmd(ch, argv=["true"], stdin_mode=pb.STDIN_NULL, eof=False)
    finally:
        ch.close()
    check(run.code == SC.UNAVAILABLE, "plaintext client -> TLS port",
          "UNAVAILABLE (no handshake)", run.outcome())


def _identity(client, want):
    ch = Ctx.mtls.channel(Ctx.mtls.tcp(), creds(client))
    res = echo(ch, "as-" + client)
    line = Ctx.mtls.run_line(res.started.run_id)
    check(line.get("identity") == want, "a run with the certificate %s" % client,
          'run log line with "identity": %r' % want, line)


def t_identity_spiffe():
    _identity("client-spiffe", "spiffe://example.org/ops/alice")


def t_identity_dns():
    _identity("client-dns", "bob.example.org")


def t_identity_cn():
    _identity("client-cn", "carol")


def t_handshake_refusals():
    before = len(Ctx.mtls.events_of("run")) + len(Ctx.mtls.events_of("refused"))
    for client, what in (("client-other", "signed by another CA"),
                         ("client-expired", "expired"),
                         (None, "no client certificate")):
        ch = Ctx.mtls.channel(Ctx.mtls.tcp(), creds(client))
        run = it.run_cmd(ch, argv=["true"], stdin_mode=pb.STDIN_NULL, eof=False)
        check(run.code == SC.UNAVAILABLE, "a run with a certificate %s" % what,
              "UNAVAILABLE: the handshake fails", run.outcome())
    after = len(Ctx.mtls.events_of("run")) + len(Ctx.mtls.events_of("refused"))
    check(after == before, "three refused handshakes", "no call reached the daemon",
          "%d new run/refused lines" % (after - before))


def t_revoked_unauthenticated():
    serial = pem("serial-revoked").decode().strip()
    want = ("client certificate serial 0x%s is revoked (CRL of CN=gexec test CA)" % serial)
    ch = Ctx.mtls.channel(Ctx.mtls.tcp(), creds("client-revoked"))
    for _ in range(2):  # the second verdict comes from the cache
        run = it.run_cmd(ch, argv=["true"], stdin_mode=pb.STDIN_NULL, eof=False)
        check(run.code == SC.UNAUTHENTICATED and run.details == want,
              "a run with a revoked certificate", "UNAUTHENTICATED %r" % want, run.outcome())
        check(it.kinds(run.responses) == [], "a run with a revoked certificate",
              "no message before the status", it.kinds(run.responses))
    line = Ctx.mtls.wait_event(lambda e: e.get("event") == "refused", "a refused line")
    check(line.get("reason") == want and line.get("level") == "warn"
          and line.get("identity") == "revoked",
          "the daemon's log", 'a "refused" warn line with the reason and identity', line)


def _run_true(ch):
    return it.run_cmd(ch, argv=["true"], stdin_mode=pb.STDIN_NULL, eof=False)


def t_intermediate_clients():
    """--tls-client-ca holds the root only, --tls-crl-dir the root's and
    the intermediates' CRLs: a client of an intermediate that sends it
    passes the handshake and runs; without it the handshake fails; a
    client the intermediate's CRL revokes, and one under an intermediate
    the root's CRL revokes, get UNAUTHENTICATED naming what is revoked."""
    ch = Ctx.mtls.channel(Ctx.mtls.tcp(), creds("client-inter", chain=True))
    res = echo(ch, "as-erin")
    line = Ctx.mtls.run_line(res.started.run_id)
    check(line.get("identity") == "erin", "a run as client-inter with its chain",
          'run log line with "identity": "erin"', line)
    run = _run_true(Ctx.mtls.channel(Ctx.mtls.tcp(), creds("client-inter")))
    check(run.code == SC.UNAVAILABLE, "a run as client-inter without its intermediate",
          "UNAVAILABLE: the handshake finds no path to the root", run.outcome())
    revoked = [
        ("client-inter-revoked",
         "client certificate serial 0x%s is revoked (CRL of CN=gexec intermediate CA)"
         % pem("serial-client-inter-revoked").decode().strip()),
        ("client-under-revoked",
         "CA certificate CN=gexec revoked intermediate CA (serial 0x%s) in the "
         "client's chain is revoked (CRL of CN=gexec test CA)"
         % pem("serial-inter-revoked").decode().strip())]
    for client, want in revoked:
        run = _run_true(Ctx.mtls.channel(Ctx.mtls.tcp(), creds(client, chain=True)))
        check(run.code == SC.UNAUTHENTICATED and run.details == want,
              "a run as %s with its chain" % client, "UNAUTHENTICATED %r" % want,
              run.outcome())


def t_intermediate_clients_resumed_sessions():
    """A client caching TLS sessions: its resumed connections carry no
    chain, and are judged with the chain its certificate came with."""
    from grpc.experimental import session_cache
    for client, code in (("client-inter", SC.OK),
                         ("client-under-revoked", SC.UNAUTHENTICATED)):
        cache = session_cache.ssl_session_cache_lru(4)
        got = []
        for _ in range(3):  # a connection each: the 2nd and 3rd resume
            ch = Ctx.mtls.channel(Ctx.mtls.tcp(), creds(client, chain=True),
                                  options=[("grpc.ssl_session_cache", cache)])
            got.append(_run_true(ch).code)
            ch.close()
        check(got == [code] * 3, "3 runs as %s on 3 connections sharing a TLS "
              "session cache" % client, "%s each time" % code.name, got)


def _health(ch):
    """Health/Check(""): (status name, details, gexec-* trailers, reply)."""
    mc = ch.unary_unary("/grpc.health.v1.Health/Check",
                        request_serializer=it.hpb.HealthCheckRequest.SerializeToString,
                        response_deserializer=it.hpb.HealthCheckResponse.FromString)
    try:
        resp, call = mc.with_call(it.hpb.HealthCheckRequest(service=""),
                                  timeout=it.RPC_DEADLINE)
        code, details, md = "OK", "", call.trailing_metadata()
    except grpc.RpcError as e:
        resp, code, details, md = None, e.code().name, e.details(), e.trailing_metadata()
    return code, details, {k: v for k, v in (md or ()) if k.startswith("gexec-")}, resp


def t_health_checks_revocation():
    """Health/Check runs the same check as Run: a revoked client gets
    UNAUTHENTICATED with the reason and no identity trailer; the others
    are told who they are (gexec-identity)."""
    revoked = [
        ("client-revoked", False,
         "client certificate serial 0x%s is revoked (CRL of CN=gexec test CA)"
         % pem("serial-revoked").decode().strip()),
        ("client-under-revoked", True,
         "CA certificate CN=gexec revoked intermediate CA (serial 0x%s) in the "
         "client's chain is revoked (CRL of CN=gexec test CA)"
         % pem("serial-inter-revoked").decode().strip())]
    for client, chain, want in revoked:
        got = _health(Ctx.mtls.channel(Ctx.mtls.tcp(), creds(client, chain=chain)))
        check(got[:3] == ("UNAUTHENTICATED", want, {}), "Health/Check as %s" % client,
              "UNAUTHENTICATED %r, no gexec-* trailers" % want, got[:3])
    for client, chain, name in (("client-cn", False, "carol"),
                                ("client-inter", True, "erin")):
        got = _health(Ctx.mtls.channel(Ctx.mtls.tcp(), creds(client, chain=chain)))
        check(got[0] == "OK" and got[2].get("gexec-identity") == name and
              got[3].status == it.hpb.HealthCheckResponse.SERVING,
              "Health/Check as %s" % client, "SERVING, gexec-identity %r" % name, got)


def t_sighup_rotates_server_certificate():
    rot = os.path.join(it.TMPDIR, "rot")
    shutil.copytree(CERTS, rot)
    d = TlsDaemon("rot", ["127.0.0.1:0"], tls_flags(rot, crl=False)).start()
    try:
        _rotate(d, rot)
    finally:
        d.kill()


def _rotate(d, rot):
    old = d.channel()  # trusts ca.pem only
    live = Run(old).start(argv=["sh", "-c", "read x; echo got $x"])
    live.recv_kind("started")
    shutil.copy(os.path.join(rot, "server2.pem"), os.path.join(rot, "server.pem"))
    shutil.copy(os.path.join(rot, "server2.key"), os.path.join(rot, "server.key"))
    d.proc.send_signal(signal.SIGHUP)
    ev = d.wait_event(lambda e: e.get("event") == "reload", "a reload line")
    check(ev.get("what") == "tls" and ev.get("ok") is True, "SIGHUP with server2.pem",
          'reload line {"what": "tls", "ok": true}', ev)
    echo(d.channel(cred=creds("client-cn", ca="ca2.pem")), "new-cert")
    refused = it.run_cmd(d.channel(cred=creds("client-cn")), argv=["true"],
                         stdin_mode=pb.STDIN_NULL, eof=False)
    check(refused.code == SC.UNAVAILABLE, "a new connection trusting only the old CA",
          "UNAVAILABLE: the server now presents the new certificate", refused.outcome())
    live.stdin(b"x\n").eof().finish()
    res = check_ok_run(live)
    check(res.stdout == b"got x\n" and res.exited.exit_code == 0, live.describe(),
          "the run that was live during the reload finishes: 'got x', exit 0",
          (res.stdout, it.ex(res)))
    echo(old, "old-connection")  # its connection predates the reload
    with open(os.path.join(rot, "server.pem"), "w") as f:
        f.write("garbage\n")
    d.proc.send_signal(signal.SIGHUP)
    want = "--tls-cert %s: no PEM certificate in it" % os.path.join(rot, "server.pem")
    ev = d.wait_event(lambda e: e.get("event") == "reload" and e.get("ok") is False,
                      "a failed reload line")
    check(ev.get("error") == want and ev.get("level") == "error",
          "SIGHUP with a broken --tls-cert", "reload error %r" % want, ev)
    echo(d.channel(cred=creds("client-cn", ca="ca2.pem")), "kept-cert")


def _refused_start(args, want, code=2):
    p = subprocess.run([it.GEXECD] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=it.EXIT_TIMEOUT)
    check(p.returncode == code and want in p.stderr.decode(),
          "gexecd %s" % " ".join(args), "exit %d with %r" % (code, want),
          "exit %d, stderr %r" % (p.returncode, p.stderr.decode()))
    return p


def t_non_loopback_refused():
    p = _refused_start(["--listen", "10.0.0.1:7000"], "")
    check(p.stderr.decode() ==
          "gexecd: --listen 10.0.0.1:7000: a TCP listener on a non-loopback address "
          "needs mTLS and a policy (anyone on the network could run commands); "
          "missing --tls-cert, --tls-key, --tls-client-ca, --policy\n",
          "gexecd --listen 10.0.0.1:7000", "the exact refusal", p.stderr)
    p = _refused_start(["--listen", "0.0.0.0:7000"] + tls_flags(), "")
    check(p.stderr.decode().endswith("; missing --policy\n"),
          "gexecd --listen 0.0.0.0:7000 with mTLS", "refused: missing --policy", p.stderr)


def t_bad_key_refuses_start():
    key = os.path.join(CERTS, "client-cn.key")
    args = ["--listen", "127.0.0.1:0"] + tls_flags()
    args[args.index("--tls-key") + 1] = key
    want = ("--tls-key %s: does not match the certificate of --tls-cert %s"
            % (key, os.path.join(CERTS, "server.pem")))
    _refused_start(args, want, code=1)


def _keepalive_run(client_ping_ms, seconds):
    """An idle run (`sleep seconds`) over a channel pinging every
    client_ping_ms; returns the Run after it ended."""
    opts = [("grpc.keepalive_time_ms", client_ping_ms),
            ("grpc.keepalive_timeout_ms", 5000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0)]
    ch = Ctx.mtls.channel(Ctx.mtls.tcp(), creds("client-cn"), options=opts)
    run = Run(ch, deadline=seconds + 60).start(argv=["sleep", str(seconds)])
    run.finish()
    return run


def t_client_keepalive_10s_accepted():
    run = _keepalive_run(10000, 33)  # three client pings, no data between
    res = check_ok_run(run)
    check(res.exited.exit_code == 0, run.describe() + " with client pings every 10s",
          "exit 0, no GOAWAY too_many_pings", run.outcome())


def t_client_keepalive_1s_refused():
    t0 = time.monotonic()
    run = _keepalive_run(1000, 30)
    took = time.monotonic() - t0
    check(run.code == SC.UNAVAILABLE and took < 20, run.describe() + " with client pings every 1s",
          "UNAVAILABLE within seconds (GOAWAY too_many_pings at the third strike)",
          "%s after %.1fs" % (run.outcome(), took))


TESTS = [
    t_listeners_security,
    t_plaintext_client_on_tls_port,
    t_identity_spiffe,
    t_identity_dns,
    t_identity_cn,
    t_handshake_refusals,
    t_revoked_unauthenticated,
    t_intermediate_clients,
    t_intermediate_clients_resumed_sessions,
    t_health_checks_revocation,
    t_sighup_rotates_server_certificate,
    t_non_loopback_refused,
    t_bad_key_refuses_start,
    t_client_keepalive_1s_refused,
    t_client_keepalive_10s_accepted,
]


def main():
    only = sys.argv[1:]
    subprocess.run(["/bin/sh", MKCERTS, CERTS], check=True)
    sock_dir, short_link = it.socket_dir()
    passed = failed = 0
    try:
        Ctx.mtls = TlsDaemon("mtls", ["unix:" + os.path.join(sock_dir, "tls.sock"),
                                      "127.0.0.1:0"], tls_flags())
        Ctx.mtls.start()
        passed, failed = it.run_tests(TESTS, Ctx.mtls, only)
    except Exception:
        failed += 1
        print("FAIL setup: unexpected exception")
        traceback.print_exc(file=sys.stdout)
    finally:
        if Ctx.mtls:
            Ctx.mtls.kill()
        if short_link:
            os.unlink(short_link)
            os.rmdir(os.path.dirname(short_link))
    if failed and Ctx.mtls:
        print("--- gexecd mtls log (last lines):\n%s" % Ctx.mtls.log_tail(60))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
