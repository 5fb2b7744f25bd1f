#!/usr/bin/python3
"""`gexec facts` on 16 namespace hosts (one shared Fleet), each fact
checked against what this test reads itself in that host's namespaces.

- t_table: `facts -w` prints exactly the table "HOST  hostname
  os.pretty_name kernel.release cpu.logical_count memory.total_bytes",
  one row per host in target order, columns padded to their widest cell
  (values: uname -n inside the host, /etc/os-release, uname -r,
  /proc/cpuinfo, /proc/meminfo), nothing on stderr, exit 0.
- t_json: `--json` is one document {"hosts", "summary"}; each host has
  exactly target, address, identity (its certificate name), facts and
  error; facts.hostname is the host's own; facts.interfaces has exactly
  the host's interfaces, and eth0's MAC, MTU, up flag and addresses
  (with prefix lengths) are those `ip -j addr` shows inside the host;
  facts.os is /etc/os-release's; the summary counts 16 ok.
- t_fields: FIELDs `os.version_id memory.total_bytes` give exactly those
  columns (table) and exactly those keys (--json).
- t_diff: `--diff` has columns hostname and interfaces.eth0.* (whose MAC
  cells are the hosts' own) and none under os. or kernel.
- t_single: `facts -H` prints the block with "hostname: node005" and
  "os.id: ..." lines; `facts -H --json` is the facts object.
- t_refused (last; it changes a host): node009's policy has
  "facts": false: `facts -w` exits 255, its row is all "-", the summary
  says "refused by policy: <reason>" once; `facts -H` the same reason;
  `gexec run` on node009 still works.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fleetcheck  # noqa: E402
import hosts  # noqa: E402
from fleetcheck import check, lines, summary_lines  # noqa: E402

N = 16
ALL = "node[001-016]"
NAMES = ["node%03d" % i for i in range(1, N + 1)]
NO_FACTS = {"rules": [{"name": "fleet-client", "match": {"cn": hosts.CLIENT_CN},
                       "allow": {"facts": False}}]}


def facts(fleet, *args):
    return fleet.client_run([hosts.GEXEC, "facts"] + fleet.tls_args() + list(args))


def os_release():
    out = {}
    with open("/etc/os-release") as f:
        for ln in f:
            k, sep, v = ln.strip().partition("=")
            if sep:
                out[k] = v.strip('"')
    return out


def meminfo_total():
    with open("/proc/meminfo") as f:
        for ln in f:
            if ln.startswith("MemTotal:"):
                return int(ln.split()[1]) * 1024
    return None


def cpu_count():
    with open("/proc/cpuinfo") as f:
        return sum(1 for ln in f if ln.split(":")[0].strip() == "processor")


def table(rows):
    """Rows of cells as the CLI prints them: two spaces between columns,
    each padded to its widest cell, the last not padded."""
    width = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(width[i]) for i, c in enumerate(r[:-1])) +
                   "  " + r[-1] + "\n" for r in rows).encode()


def own(fleet, h, argv):
    p = fleet.host_run(h, argv)
    check(p.returncode == 0, "%s inside %s" % (argv, h.name), "exit 0", p.stderr)
    return p.stdout.decode()


def t_table(fleet):
    osr = os_release()
    rows = [["HOST", "hostname", "os.pretty_name", "kernel.release",
             "cpu.logical_count", "memory.total_bytes"]]
    for h in fleet.hosts:
        rows.append([h.name, own(fleet, h, ["uname", "-n"]).strip(), osr["PRETTY_NAME"],
                     own(fleet, h, ["uname", "-r"]).strip(), str(cpu_count()),
                     str(meminfo_total())])
    want = table(rows)
    p = facts(fleet, "-w", ALL)
    check((p.returncode, p.stdout, p.stderr) == (0, want, b""), "gexec facts -w " + ALL,
          (0, want.decode(), b""), (p.returncode, p.stdout.decode(), p.stderr))


def _doc(p, req):
    try:
        return json.loads(p.stdout)
    except ValueError:
        check(False, req, "one JSON document", (p.returncode, p.stdout[:300], p.stderr))


def _ifaces(fleet, h):
    """{name: {mac, mtu, up, addresses}} of host h, from ip -j addr."""
    out = {}
    for i in json.loads(own(fleet, h, ["ip", "-j", "addr", "show"])):
        out[i["ifname"]] = {
            "mac": i.get("address"), "mtu": i["mtu"], "up": "UP" in i["flags"],
            "addresses": sorted((a["local"], a["prefixlen"], a["family"])
                                for a in i.get("addr_info", []))}
    return out


def t_json(fleet):
    req = "gexec facts -w %s --json" % ALL
    p = facts(fleet, "-w", ALL, "--json")
    d = _doc(p, req)
    check(p.returncode == 0 and list(d) == ["hosts", "summary"] and
          [h["target"] for h in d["hosts"]] == NAMES, req,
          "exit 0, {hosts, summary}, hosts in order", (p.returncode, list(d)))
    osr = os_release()
    want_os = {"id": osr["ID"], "name": osr["NAME"], "version": osr["VERSION"],
               "version_id": osr["VERSION_ID"], "codename": osr["VERSION_CODENAME"],
               "pretty_name": osr["PRETTY_NAME"]}
    for h, hj in zip(fleet.hosts, d["hosts"]):
        check(list(hj) == ["target", "address", "identity", "facts", "error"] and
              (hj["address"], hj["identity"], hj["error"]) == (h.name + ":7443", h.name, None),
              req, "%s: target, address, identity %s, facts, error null" % (h.name, h.name),
              {k: v for k, v in hj.items() if k != "facts"})
        f = hj["facts"]
        check(f["hostname"] == own(fleet, h, ["uname", "-n"]).strip() == h.name, req,
              "facts.hostname %s" % h.name, f["hostname"])
        check(f["os"] == want_os, req, "facts.os = /etc/os-release", f["os"])
        mine = _ifaces(fleet, h)
        got = {i["name"]: {"mac": i["mac"], "mtu": i["mtu"], "up": i["up"],
                           "addresses": sorted((a["address"], a["prefix_length"], a["family"])
                                               for a in i["addresses"])}
               for i in f["interfaces"]}
        check(got == mine and h.address in [a[0] for a in got["eth0"]["addresses"]],
              req, "%s: interfaces as ip -j addr shows them (eth0 has %s)" % (h.name, h.address),
              (got, mine))
    s = dict(d["summary"])
    s.pop("wall_time_us", None)
    want = {"hosts": 16, "ok": 16, "failed": 0, "timed_out": 0, "unreachable": 0,
            "refused": 0, "max_exit_code": 0}
    check(s == want, req, want, d["summary"])


def t_fields(fleet):
    osr = os_release()
    p = facts(fleet, "-w", "node[001-003]", "os.version_id", "memory.total_bytes")
    want = table([["HOST", "os.version_id", "memory.total_bytes"]] +
                 [[n, osr["VERSION_ID"], str(meminfo_total())] for n in NAMES[:3]])
    check((p.returncode, p.stdout, p.stderr) == (0, want, b""),
          "gexec facts -w node[001-003] os.version_id memory.total_bytes",
          (0, want.decode()), (p.returncode, p.stdout.decode(), p.stderr))
    req = "gexec facts -w node[001-003] --json os.version_id memory.total_bytes"
    p = facts(fleet, "-w", "node[001-003]", "--json", "os.version_id", "memory.total_bytes")
    d = _doc(p, req)
    want = {"os": {"version_id": osr["VERSION_ID"]}, "memory": {"total_bytes": meminfo_total()}}
    got = [h["facts"] for h in d["hosts"]]
    check(p.returncode == 0 and got == [want] * 3, req, [want] * 3, got)


def t_diff(fleet):
    p = facts(fleet, "-w", ALL, "--diff")
    req = "gexec facts -w %s --diff" % ALL
    rows = [ln.split() for ln in lines(p.stdout)]
    check(p.returncode == 0 and len(rows) == N + 1 and rows[0][:2] == ["HOST", "hostname"],
          req, "exit 0, a header 'HOST hostname ...' and 16 rows", (p.returncode, p.stdout))
    head = rows[0]
    check("interfaces.eth0.mac" in head and
          not [c for c in head if c.startswith(("os.", "kernel.", "cpu.", "memory.total"))],
          req, "columns interfaces.eth0.mac..., none under os., kernel., cpu.", head)
    mac = head.index("interfaces.eth0.mac")
    for h, r in zip(fleet.hosts, rows[1:]):
        want = [h.name, h.name, _ifaces(fleet, h)["eth0"]["mac"]]
        check([r[0], r[1], r[mac]] == want, req,
              "row %s: host, hostname, eth0 MAC %s" % (h.name, want), [r[0], r[1], r[mac]])


def t_single(fleet):
    p = facts(fleet, "-H", "node005:7443")
    out = lines(p.stdout)
    check(p.returncode == 0 and "hostname: node005" in out and
          "os.id: %s" % os_release()["ID"] in out and p.stderr == b"",
          "gexec facts -H node005:7443", "exit 0, lines 'hostname: node005', 'os.id: ...'",
          (p.returncode, out[:8], p.stderr))
    p = facts(fleet, "-H", "node005:7443", "--json")
    d = _doc(p, "gexec facts -H node005:7443 --json")
    check(p.returncode == 0 and d.get("hostname") == "node005" and "interfaces" in d,
          "gexec facts -H node005:7443 --json", "the facts object of node005", d)


def t_refused(fleet):
    h = fleet.host("node009")
    fleet.set_policy(h, NO_FACTS)
    why = "refused by policy: policy rule 'fleet-client' does not allow reading facts"
    p = facts(fleet, "-w", ALL, "os.version_id")
    req = "gexec facts -w %s os.version_id; node009 has \"facts\": false" % ALL
    rows = [ln.split() for ln in lines(p.stdout)]
    want = ["gexec: node009: " + why,
            "gexec: 16 hosts: 15 ok, 0 failed, 0 timed out, 0 unreachable, 1 refused"]
    check((p.returncode, summary_lines(p.stderr)) == (255, want) and
          rows[9] == ["node009", "-"] and rows[8] == ["node008", os_release()["VERSION_ID"]],
          req, (255, want, "node009's row '-'"), (p.returncode, p.stderr, rows[8:10]))
    p = facts(fleet, "-H", "node009:7443")
    check((p.returncode, p.stdout, p.stderr) == (255, b"", ("gexec: %s\n" % why).encode()),
          "gexec facts -H node009:7443", (255, b"", "gexec: " + why),
          (p.returncode, p.stdout, p.stderr))
    p = fleet.client_run(fleet.gexec_fleet("node009", "uname", "-n"))
    check((p.returncode, p.stdout) == (0, b"node009: node009\n"),
          "gexec run -w node009 -- uname -n (facts: false)", (0, "node009: node009"),
          (p.returncode, p.stdout, p.stderr))


TESTS = [t_table, t_json, t_fields, t_diff, t_single, t_refused]

if __name__ == "__main__":
    sys.exit(fleetcheck.main(N, TESTS))
