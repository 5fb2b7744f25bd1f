#!/usr/bin/python3
"""Smoke test of the namespace hosts (tests/fleet/hosts.py): 16 hosts,
each answers Health/Check over mTLS (grpcio, from the client's
namespace) and runs `uname -n` through `gexec run -H` printing its own
hostname; then the harness's knobs: a host whose daemon is stopped, one
that refuses by policy and one with a certificate from another CA each
fail (exit 255) while their neighbours still answer, and pids() sees a
marked process inside its host while it runs and not after the daemon
killed it on timeout.

Needs root (ip netns). Prints one line per check and "N passed, N failed".
"""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hosts  # noqa: E402
from fleetcheck import Failure, check  # noqa: E402

N = 16
MARK = "60.8147"  # `sleep 60.8147`: a process this test can find


# ------------------------------------------ Health/Check, in the client ns

def health_main(ca, cert, key, targets):
    """Runs in the client's namespace: one line per target, "NAME STATUS"
    (STATUS: the Health/Check status name, or the gRPC error code)."""
    sys.path.insert(0, os.environ.get("GEXEC_INTEROP_PB_DIR", "."))
    import grpc
    import health_pb2 as hpb

    def pem(p):
        with open(p, "rb") as f:
            return f.read()
    cred = grpc.ssl_channel_credentials(pem(ca), pem(key), pem(cert))

    def one(target):
        name = target.split(":")[0]
        with grpc.secure_channel(target, cred,
                                 options=[("grpc.enable_http_proxy", 0)]) as ch:
            mc = ch.unary_unary("/grpc.health.v1.Health/Check",
                                request_serializer=hpb.HealthCheckRequest.SerializeToString,
                                response_deserializer=hpb.HealthCheckResponse.FromString)
            try:
                r = mc(hpb.HealthCheckRequest(service=""), timeout=10)
                return "%s %s" % (name, hpb.HealthCheckResponse.ServingStatus.Name(r.status))
            except grpc.RpcError as e:
                return "%s %s" % (name, e.code().name)
    with ThreadPoolExecutor(len(targets)) as ex:
        for line in ex.map(one, targets):
            print(line, flush=True)
    return 0


def health_all(fleet, hs):
    argv = [sys.executable, os.path.abspath(__file__), "--health", fleet.ca,
            fleet.cert, fleet.key] + ["%s:%d" % (h.name, hosts.PORT) for h in hs]
    p = fleet.client_run(argv, env=dict(os.environ))
    check(p.returncode == 0, "health checker in %s" % fleet.client_netns, "exit 0",
          (p.returncode, p.stderr.decode()[-2000:]))
    return p.stdout.decode()


# ------------------------------------------------------------------ tests

def uname_all(fleet, hs):
    """{host name: CompletedProcess of gexec run -H ... uname -n}."""
    def one(h):
        return h.name, fleet.client_run(fleet.gexec_single(h, "uname", "-n"))
    with ThreadPoolExecutor(len(hs)) as ex:
        return dict(ex.map(one, hs))


def t_health(fleet):
    out = health_all(fleet, fleet.hosts)
    want = "".join("%s SERVING\n" % h.name for h in fleet.hosts)
    check(out == want, "Health/Check(service='') over mTLS on %d hosts" % N, want, out)


def t_uname(fleet):
    res = uname_all(fleet, fleet.hosts)
    for h in fleet.hosts:
        p = res[h.name]
        check((p.returncode, p.stdout, p.stderr) == (0, (h.name + "\n").encode(), b""),
              "gexec run -H %s --tls-server-name %s -- uname -n" % (h.target, h.name),
              "exit 0, stdout %r, no stderr" % (h.name + "\n"),
              (p.returncode, p.stdout, p.stderr))


def t_host_namespaces(fleet):
    h = fleet.hosts[4]
    p = fleet.host_run(h, ["sh", "-c", "uname -n; ip -o -4 addr show dev eth0"])
    lines = p.stdout.decode().splitlines()
    check(p.returncode == 0 and lines[0] == h.name and
          (" inet %s/16 " % h.address) in lines[1],
          "host_run(%s, uname -n; ip addr)" % h.name,
          "%s and inet %s/16 on eth0" % (h.name, h.address), lines)


def t_knobs(fleet):
    down, refusing, foreign = fleet.hosts[1], fleet.hosts[2], fleet.hosts[3]
    fleet.stop_daemon(down)
    fleet.set_policy(refusing, hosts.REFUSING_POLICY)
    fleet.use_foreign_ca(foreign)
    hs = fleet.hosts[:5]
    res = uname_all(fleet, hs)
    for h in hs:
        p = res[h.name]
        bad = h in (down, refusing, foreign)
        got = (p.returncode, p.stdout if not bad else b"")
        want = (255, b"") if bad else (0, (h.name + "\n").encode())
        check(got == want and (not bad or p.stderr),
              "gexec run -H %s -- uname -n (%s)" % (
                  h.target, {down: "daemon stopped", refusing: "refusing policy",
                             foreign: "other CA"}.get(h, "untouched")),
              "exit %d, stdout %r%s" % (want[0], want[1], ", a reason on stderr" if bad else ""),
              (p.returncode, p.stdout, p.stderr))
    out = health_all(fleet, [refusing, foreign, fleet.hosts[0]])
    want = "%s SERVING\n%s UNAVAILABLE\n%s SERVING\n" % (
        refusing.name, foreign.name, fleet.hosts[0].name)
    check(out == want, "Health/Check on refusing, other-CA, untouched hosts", want, out)
    fleet.start_daemon(down)
    p = uname_all(fleet, [down])[down.name]
    check(p.returncode == 0 and p.stdout == (down.name + "\n").encode(),
          "gexec run -H %s -- uname -n after start_daemon" % down.target,
          "exit 0, %r" % (down.name + "\n"), (p.returncode, p.stdout, p.stderr))


def t_pids_straggler(fleet):
    h, other = fleet.hosts[5], fleet.hosts[6]
    argv = fleet.gexec_single(h, "sh", "-c", "sleep %s & sleep %s" % (MARK, MARK),
                              run_args=["-t", "2"])
    proc = subprocess.Popen(fleet.client_argv(argv), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 10
        while len(fleet.pids(h, MARK)) < 3 and time.monotonic() < end:
            time.sleep(0.05)
        seen = fleet.pids(h, MARK)
        check(len(seen) == 3 and fleet.pids(other, MARK) == [],
              "pids(%s, %r) while `sh -c 'sleep & sleep'` runs" % (h.name, MARK),
              "sh and two sleeps on %s, none on %s" % (h.name, other.name),
              (seen, fleet.pids(other, MARK)))
        out, err = proc.communicate(timeout=30)
        check(proc.returncode == 124, "gexec run -t 2 -H %s -- sh -c 'sleep & sleep'" % h.target,
              "exit 124", (proc.returncode, out, err))
        left = fleet.pids(h, MARK)
        check(left == [], "pids(%s, %r) after the timeout" % (h.name, MARK),
              "[] (the daemon killed the whole tree)", left)
    finally:
        proc.kill()
        proc.wait()


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--health":
        return health_main(*sys.argv[2:5], sys.argv[5:])
    tests = [t_health, t_uname, t_host_namespaces, t_pids_straggler, t_knobs]
    passed = failed = 0
    t0 = time.monotonic()
    fleet = hosts.Fleet(N)
    try:
        fleet.start()
        print("    (%d hosts up in %.1f s)" % (N, time.monotonic() - t0))
        for t in tests:
            try:
                t(fleet)
                print("PASS %s" % t.__name__)
                passed += 1
            except Failure as e:
                print("FAIL %s%s" % (t.__name__, e))
                failed += 1
    finally:
        fleet.stop()
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    mine = [ln for ln in left.splitlines() if ln.startswith(fleet.prefix + "-")]
    if mine or os.path.exists(fleet.dir) or os.path.exists("/etc/netns/" + fleet.client_netns):
        print("FAIL cleanup: left %s" % (mine or fleet.dir))
        failed += 1
    else:
        print("PASS cleanup")
        passed += 1
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
