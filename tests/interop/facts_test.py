#!/usr/bin/python3
"""gexec.v1.Facts/Get from a foreign client (Python grpcio) against a real
gexecd running in a network namespace and a UTS namespace made here.

The namespace has its own hostname (set by this test), loopback up and a
veth interface with a MAC, an MTU and IPv4 and IPv6 addresses chosen
here. What it proves:
  - hostname and fqdn are the namespace's; every interface (name, MAC,
    MTU, up, addresses with prefix lengths) is what `ip -j addr` reads in
    that namespace, no more, no less;
  - os is /etc/os-release as parsed here (shell-like quoting);
  - memory.total_bytes is /proc/meminfo's MemTotal * 1024;
  - only the groups asked come back; an unknown group is INVALID_ARGUMENT
    with its exact message;
  - Health/Check reports "gexec.v1.Facts" SERVING;
  - a policy rule without "facts": true gets PERMISSION_DENIED with the
    exact reason and the trailers gexec-refused-by: policy and
    gexec-policy-rule;
  - the JSON of libgexec's gexec_facts_get (tests/interop/facts_dump) has
    the same keys, at every level, as the Python JSON mapping of the same
    response (MessageToDict(preserving_proto_field_name=True)).

Needs root (ip netns, unshare); runs outside Bazel's sandbox.
"""
import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_lib as it  # noqa: E402
from interop_lib import SC, check  # noqa: E402

import facts_pb2 as fpb  # noqa: E402
import health_pb2 as hpb  # noqa: E402
from google.protobuf import json_format  # noqa: E402

HOSTNAME = "gxfacts-host7"
DUMMY = "d0"
PEER = "d0p"
DUMMY_MAC = "02:00:5e:10:99:07"
DUMMY_MTU = 1400
DUMMY_V4 = ("10.99.0.7", 24)
DUMMY_V6 = ("fd00:99::7", 64)
DUMP = os.environ.get("GEXEC_FACTS_DUMP") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "facts_dump")
GROUPS = ["system", "os", "kernel", "uptime", "load", "cpu", "memory",
          "filesystems", "interfaces", "daemon"]


def sh(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if p.returncode != 0:
        raise it.Failure("%s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


class Ns:
    """A network namespace with lo and a veth interface."""

    def __init__(self):
        self.name = "gxfacts-%d" % (os.getpid() % 100000)
        self.made = False

    def up(self):
        sh("ip", "netns", "add", self.name)
        self.made = True
        n = ["ip", "-n", self.name]
        sh(*n, "link", "set", "lo", "up")
        # a veth pair (both ends here): kernels without the dummy module
        sh(*n, "link", "add", DUMMY, "type", "veth", "peer", "name", PEER)
        sh(*n, "link", "set", DUMMY, "address", DUMMY_MAC, "mtu",
           str(DUMMY_MTU))
        # no link-local address appearing while the test reads
        sh(*n, "link", "set", DUMMY, "addrgenmode", "none")
        sh(*n, "link", "set", PEER, "addrgenmode", "none")
        sh(*n, "link", "set", PEER, "up")
        sh(*n, "addr", "add", "%s/%d" % DUMMY_V4, "dev", DUMMY)
        sh(*n, "addr", "add", "%s/%d" % DUMMY_V6, "dev", DUMMY, "nodad")
        sh(*n, "link", "set", DUMMY, "up")
        return self

    def prefix(self):
        """Runs a command in the namespace and in a new UTS namespace
        with HOSTNAME."""
        return ["ip", "netns", "exec", self.name, "unshare", "--uts", "sh",
                "-c", "hostname %s && exec \"$@\"" % shlex.quote(HOSTNAME),
                "sh"]

    def down(self):
        if self.made:
            subprocess.run(["ip", "netns", "del", self.name],
                           capture_output=True)


def get(ch, groups=(), pseudo=False):
    call = ch.unary_unary("/gexec.v1.Facts/Get",
                          request_serializer=fpb.FactsRequest.SerializeToString,
                          response_deserializer=fpb.FactsResponse.FromString)
    req = fpb.FactsRequest(groups=list(groups),
                           include_pseudo_filesystems=pseudo)
    return call.with_call(req, timeout=it.RPC_DEADLINE)


def ip_interfaces(ns):
    """{name: (mac, mtu, up, {(family, address, prefix)})} from ip -j."""
    out = {}
    for i in json.loads(sh("ip", "-n", ns.name, "-j", "addr")):
        addrs = {(a["family"], a["local"], a["prefixlen"])
                 for a in i.get("addr_info", ())}
        out[i["ifname"]] = (i.get("address", ""), i["mtu"],
                            "UP" in i.get("flags", ()), addrs)
    return out


def facts_interfaces(resp):
    return {f.name: (f.mac, f.mtu, f.up,
                     {(a.family, a.address, a.prefix_length)
                      for a in f.addresses})
            for f in resp.interfaces}


def os_release():
    """/etc/os-release (else /usr/lib/os-release), shell-like values."""
    path = "/etc/os-release"
    if not os.path.exists(path):
        path = "/usr/lib/os-release"
    vals = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            vals[k] = (shlex.split(v) or [""])[0]
    return vals


def meminfo_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise it.Failure("no MemTotal in /proc/meminfo")


# ---------------------------------------------------------------- the tests

def t_system_and_interfaces(d, ns):
    before = ip_interfaces(ns)
    resp, _ = get(d.channel())
    after = ip_interfaces(ns)
    check(resp.hostname == HOSTNAME and resp.fqdn == HOSTNAME,
          "Facts/Get hostname, fqdn", HOSTNAME, (resp.hostname, resp.fqdn))
    got = facts_interfaces(resp)
    check(before == after, "ip -j addr twice", "stable", (before, after))
    check(got == before, "Facts/Get interfaces", before, got)
    dummy = got.get(DUMMY)
    want = (DUMMY_MAC, DUMMY_MTU, True,
            {("inet",) + DUMMY_V4, ("inet6",) + DUMMY_V6})
    check(dummy == want, "the veth interface", want, dummy)
    check(("inet", "127.0.0.1", 8) in got["lo"][3], "lo", "127.0.0.1/8",
          got["lo"])


def t_os_memory(d, ns):
    resp, _ = get(d.channel(), ["os", "memory"])
    rel = os_release()
    want = {"id": rel.get("ID", ""), "name": rel.get("NAME", ""),
            "version": rel.get("VERSION", ""),
            "version_id": rel.get("VERSION_ID", ""),
            "codename": rel.get("VERSION_CODENAME", ""),
            "pretty_name": rel.get("PRETTY_NAME", "")}
    got = {k: getattr(resp.os, k) for k in want}
    check(got == want, "Facts/Get os", want, got)
    check(resp.memory.total_bytes == meminfo_total(), "memory.total_bytes",
          meminfo_total(), resp.memory.total_bytes)
    present = sorted(f.name for f, _ in resp.ListFields())
    check(present == ["memory", "os"], "groups os, memory", "only those",
          present)


def t_unknown_group(d, ns):
    try:
        get(d.channel(), ["os", "bogus"])
    except it.grpc.RpcError as e:
        want = ("unknown facts group 'bogus'; known: system, os, kernel, "
                "uptime, load, cpu, memory, filesystems, interfaces, daemon")
        check(e.code() == SC.INVALID_ARGUMENT and e.details() == want,
              "groups [os, bogus]", "INVALID_ARGUMENT %r" % want,
              (e.code(), e.details()))
        return
    raise it.Failure("groups [os, bogus]: accepted")


def raw(ch, data):
    """Facts/Get with @p data as the request's bytes, as sent."""
    call = ch.unary_unary("/gexec.v1.Facts/Get",
                          request_serializer=None,
                          response_deserializer=fpb.FactsResponse.FromString)
    return call.with_call(data, timeout=it.RPC_DEADLINE)


def refused_code(ch, data):
    try:
        raw(ch, data)
    except it.grpc.RpcError as e:
        return e.code(), e.details()
    return SC.OK, ""


def t_hostile_requests(d, ns):
    """What a client controls in Facts/Get is refused when malformed, and
    the daemon serves on: an unknown field, bytes that are no
    FactsRequest, a 1 MiB group name, 20,000 group names, 24 calls at once
    (past the 2 in flight: RESOURCE_EXHAUSTED with its reason, and the
    slots come back)."""
    ch = d.channel()
    code, why = refused_code(ch, b"\x98\x06\x01")  # field 99 = 1
    check(code == SC.INVALID_ARGUMENT and "99" in why, "unknown field 99",
          "INVALID_ARGUMENT naming field 99", (code, why))
    code, why = refused_code(ch, b"\xff\xff\xff")
    check(code == SC.INVALID_ARGUMENT, "bytes that are no FactsRequest",
          "INVALID_ARGUMENT", (code, why))
    big = fpb.FactsRequest(groups=["x" * (1 << 20)]).SerializeToString()
    code, why = refused_code(ch, big)
    check(code == SC.INVALID_ARGUMENT and why.startswith("unknown facts group"),
          "a 1 MiB group name", "INVALID_ARGUMENT unknown facts group",
          (code, why[:80]))
    check(len(why) < 1024, "a 1 MiB group name", "a bounded reason", len(why))
    many = fpb.FactsRequest(groups=["os"] * 20000).SerializeToString()
    code, why = refused_code(ch, many)
    check(code == SC.OK, "20,000 group names 'os'", "OK (one group)", (code, why))
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(24) as ex:
        res = list(ex.map(lambda _: refused_code(d.channel(), b""), range(24)))
    busy = (SC.RESOURCE_EXHAUSTED, "too many facts calls in progress; retry later")
    check(all(r in ((SC.OK, ""), busy) for r in res), "24 Facts calls at once",
          "each OK or RESOURCE_EXHAUSTED 'too many facts calls...'",
          sorted(set((c.name, w) for c, w in res)))
    check(sum(1 for r in res if r == (SC.OK, "")) >= 2, "24 Facts calls at once",
          "at least 2 answered", res)
    check(refused_code(ch, b"") == (SC.OK, ""), "a call after the burst",
          "OK: the slots came back", refused_code(ch, b""))
    resp = it.health_check(ch, "gexec.v1.Facts")
    check(resp.status == hpb.HealthCheckResponse.SERVING, "after the attacks",
          "Health SERVING", resp)


def t_health(d, ns):
    resp = it.health_check(d.channel(), "gexec.v1.Facts")
    check(resp.status == hpb.HealthCheckResponse.SERVING,
          "Health/Check gexec.v1.Facts", "SERVING", resp)


def keys(v):
    """The key structure of a JSON value: dicts by key, lists by the
    union of their elements' keys."""
    if isinstance(v, dict):
        return {k: keys(x) for k, x in v.items()}
    if isinstance(v, list):
        merged = {}
        for x in v:
            k = keys(x)
            if isinstance(k, dict):
                merged.update(k)
        return [merged]
    return None


def t_json_keys_match(d, ns):
    # load averages may be 0.00 in one reading and not the other: left out
    groups = [g for g in GROUPS if g != "load"]
    resp, _ = get(d.channel(), groups)
    py = json_format.MessageToDict(resp, preserving_proto_field_name=True)
    p = subprocess.run([DUMP, d.targets[d.listens[0]]] + groups,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "facts_dump", "exit 0", p.stderr)
    c = json.loads(p.stdout)
    check(keys(c) == keys(py), "gexec_facts_get JSON keys",
          keys(py), keys(c))
    check(c["memory"]["total_bytes"] == int(py["memory"]["total_bytes"]),
          "memory.total_bytes in both", py["memory"], c["memory"])
    check(isinstance(c["memory"]["total_bytes"], int), "64-bit integers",
          "JSON numbers", c["memory"])


def t_policy_refuses(ns, sock_dir):
    path = os.path.join(it.TMPDIR, "facts-off-policy.json")
    with open(path, "w") as f:
        json.dump({"rules": [{"name": "no-facts", "match": {"uid": 0},
                              "allow": {}}]}, f)
    sock = "unix:" + os.path.join(sock_dir, "facts-off.sock")
    d = it.Daemon("facts-off", [sock], ["--policy", path],
                  prefix=ns.prefix()).start()
    try:
        try:
            get(d.channel(), ["os"])
        except it.grpc.RpcError as e:
            md = dict(e.trailing_metadata() or ())
            want = "policy rule 'no-facts' does not allow reading facts"
            check(e.code() == SC.PERMISSION_DENIED and e.details() == want,
                  "Facts/Get under a rule without facts",
                  "PERMISSION_DENIED %r" % want, (e.code(), e.details()))
            tr = (md.get("gexec-refused-by"), md.get("gexec-policy-rule"))
            check(tr == ("policy", "no-facts"), "refusal trailers",
                  ("policy", "no-facts"), tr)
            return
        raise it.Failure("a rule without facts: accepted")
    finally:
        d.terminate()
        d.kill()


def main():
    ns = Ns()
    d = None
    passed = failed = 0
    # Bazel's TEST_TMPDIR may be too long for a socket path (108 bytes)
    sock_dir, short_link = it.socket_dir()
    try:
        ns.up()
        sock = "unix:" + os.path.join(sock_dir, "facts.sock")
        d = it.Daemon("facts", [sock], prefix=ns.prefix()).start()
        tests = [("system_and_interfaces", t_system_and_interfaces),
                 ("os_memory_groups", t_os_memory),
                 ("unknown_group", t_unknown_group),
                 ("hostile_requests", t_hostile_requests),
                 ("health_facts_serving", t_health),
                 ("json_keys_match_libgexec", t_json_keys_match)]
        for name, fn in tests:
            ok = it.run_one(name, lambda fn=fn: fn(d, ns))
            passed, failed = passed + ok, failed + (not ok)
        ok = it.run_one("policy_refuses",
                        lambda: t_policy_refuses(ns, sock_dir))
        passed, failed = passed + ok, failed + (not ok)
    except Exception:
        failed += it.setup_failed()
    finally:
        if d:
            d.terminate()
            d.kill()
        ns.down()
        if short_link:
            os.unlink(short_link)
            os.rmdir(os.path.dirname(short_link))
    return it.summary(passed, failed, d)


if __name__ == "__main__":
    sys.exit(main())
