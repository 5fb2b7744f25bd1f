#!/usr/bin/python3
"""A client that vanishes without closing has its run stopped within the
daemon's keepalive time + timeout (issue 9, "TLS and mTLS").

Two network namespaces joined by a veth pair (shared/notes/fleet-testing.md):
gexecd listens with mTLS on its veth address in H (--keepalive-time 1s
--keepalive-timeout 1s), a grpcio client in C starts `sleep 60`, the run
stays up through several idle seconds of keepalive pings, then the test
cuts the client's link (`ip link set ... down`): the daemon's run log line
must say "stop": "client" within time + timeout + slack, and the run's
processes must be gone. The same daemon first refuses to start on that
address without TLS and a policy.

Needs root (ip netns). Prints one line per check and "N passed, N failed".
"""

import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import interop_lib as it  # noqa: E402
from interop_lib import Failure, check  # noqa: E402

import grpc  # noqa: E402

HOST_IP, CLIENT_IP = "10.214.0.1", "10.214.0.2"
KEEPALIVE_TIME_S, KEEPALIVE_TIMEOUT_S = 1, 1
SLACK_S = 3  # scheduling, the kill of the run, a loaded CI machine
MKCERTS = os.environ.get("GEXEC_MKCERTS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tls", "mkcerts.sh")
CERTS = os.path.join(it.TMPDIR, "certs")
MARK = "60.0417"  # `sleep 60.0417`: a process this test can find


def ip(*args):
    p = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if p.returncode != 0:
        raise Failure("ip %s: %s" % (" ".join(args), p.stderr.strip()))


class Net:
    """Namespaces H (daemon) and C (client) and the veth pair between."""

    def __init__(self):
        n = os.getpid() % 100000
        self.h, self.c = "gxka-h-%d" % n, "gxka-c-%d" % n
        self.vh, self.vc = "gkh%d" % n, "gkc%d" % n
        self.made = []

    def up(self):
        for ns in (self.h, self.c):
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", self.vh, "netns", self.h, "type", "veth", "peer", "name",
           self.vc, "netns", self.c)
        ip("-n", self.h, "addr", "add", HOST_IP + "/24", "dev", self.vh)
        ip("-n", self.c, "addr", "add", CLIENT_IP + "/24", "dev", self.vc)
        ip("-n", self.h, "link", "set", self.vh, "up")
        ip("-n", self.c, "link", "set", self.vc, "up")
        return self

    def down(self):
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def tls_flags():
    return ["--tls-cert", os.path.join(CERTS, "server.pem"),
            "--tls-key", os.path.join(CERTS, "server.key"),
            "--tls-client-ca", os.path.join(CERTS, "ca.pem")]


# ------------------------------------------------------------ client (in C)

def client_main(target):
    """Starts `sleep MARK` over mTLS, prints "started RUN_ID PID", then
    waits on the stream until killed."""
    def pem(name):
        with open(os.path.join(CERTS, name), "rb") as f:
            return f.read()
    cred = grpc.ssl_channel_credentials(pem("ca.pem"), pem("client-spiffe.key"),
                                        pem("client-spiffe.pem"))
    ch = grpc.secure_channel(target, cred, options=[("grpc.enable_http_proxy", 0)])
    run = it.Run(ch, deadline=600).start(argv=["sleep", MARK])
    st = run.recv_kind("started")
    print("started %d %d" % (st.run_id, st.pid), flush=True)
    run.finish()
    print("ended %s" % run.outcome(), flush=True)


# ------------------------------------------------------------------- tests

def refuses_without_tls(net):
    args = ["ip", "netns", "exec", net.h, it.GEXECD, "--listen", HOST_IP + ":7000"]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=it.EXIT_TIMEOUT)
    want = ("gexecd: --listen %s:7000: a TCP listener on a non-loopback address needs "
            "mTLS and a policy (anyone on the network could run commands); missing "
            "--tls-cert, --tls-key, --tls-client-ca, --policy\n" % HOST_IP)
    check(p.returncode == 2 and p.stderr == want, " ".join(args[4:]),
          "exit 2, %r" % want, "exit %d, %r" % (p.returncode, p.stderr))


def read_line(proc, timeout):
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().decode().strip() if r else ""


def cut_link_stops_run(net, d):
    port = d.wait_listening()[0]["port"]
    target = "%s:%d" % (HOST_IP, port)
    client = subprocess.Popen(["ip", "netns", "exec", net.c, "/usr/bin/python3",
                               os.path.abspath(__file__), "--client", target],
                              stdout=subprocess.PIPE, env=dict(os.environ))
    try:
        line = read_line(client, it.READY_TIMEOUT)
        check(line.startswith("started "), "client in %s: sleep %s via %s" % (net.c, MARK, target),
              "a started run", line or "nothing within %.0fs" % it.READY_TIMEOUT)
        run_id, pid = (int(x) for x in line.split()[1:3])
        # idle for a few keepalive rounds: pings answered, the run stays
        time.sleep(3 * KEEPALIVE_TIME_S)
        ended = [e for e in list(d.events) if e.get("event") == "run"]
        check(not ended and not it.pid_gone(pid),
              "an idle run with keepalive pings every %ds" % KEEPALIVE_TIME_S,
              "still running", ended or "launcher %d gone" % pid)
        t0 = time.monotonic()
        ip("-n", net.c, "link", "set", net.vc, "down")
        limit = KEEPALIVE_TIME_S + KEEPALIVE_TIMEOUT_S + SLACK_S
        ev = it.wait_until(lambda: next((e for e in list(d.events)
                                         if e.get("event") == "run" and e.get("run") == run_id),
                                        None), 60, "the run line of run %d" % run_id)
        took = time.monotonic() - t0
        print("    (run %d stopped %.2fs after the link went down; limit %ds)"
              % (run_id, took, limit))
        check(ev.get("stop") == "client" and took <= limit,
              "the client's link cut during `sleep %s`" % MARK,
              '"stop": "client" within %ds' % limit, "%.2fs, %s" % (took, ev))
        it.wait_until(lambda: it.pid_gone(pid), 30, "the run's launcher %d to be gone" % pid)
    finally:
        client.kill()
        client.wait()


def start_daemon(net, policy):
    return it.Daemon("keepalive", [HOST_IP + ":0"],
                     tls_flags() + ["--policy", policy,
                                    "--keepalive-time", "%ds" % KEEPALIVE_TIME_S,
                                    "--keepalive-timeout", "%ds" % KEEPALIVE_TIMEOUT_S],
                     prefix=["ip", "netns", "exec", net.h])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        return client_main(sys.argv[2])
    passed = failed = 0
    net = Net()
    d = None
    try:
        subprocess.run(["/bin/sh", MKCERTS, CERTS, HOST_IP], check=True)
        policy = it.test_policy_path()
        net.up()
        ok = int(it.run_one("refuses_without_tls", lambda: refuses_without_tls(net)))
        d = start_daemon(net, policy)
        ok += it.run_one("cut_link_stops_run", lambda: cut_link_stops_run(net, d))
        ok += it.run_one("sigterm_exit_0", lambda: check(
            d.terminate() == 0, "SIGTERM to gexecd", "exit 0", d.proc.returncode))
        passed, failed = ok, 3 - ok
    except Exception:
        failed += it.setup_failed()
    finally:
        if d:
            d.kill()
        net.down()
    return it.summary(passed, failed, d)


if __name__ == "__main__":
    sys.exit(main())
