#!/usr/bin/python3
"""`gexec run -w` on 16 namespace hosts (node001..node016, one shared
Fleet): the output modes, byte for byte, and the exit status rules.

- t_live_lines: 16 hosts each write 200 lines of 100 bytes to stdout and
  to stderr at once (every line in two write()s, so a line's halves can
  meet another host's): each of our lines is "NAME: payload" with NAME
  the host that wrote it, none mixed, all present in each host's order;
  a last line without newline comes as "NAME: tail\\n"; no summary when
  all exit 0, exit 0.
- t_exit_signal: exits 3 and a SIGKILL -> 137 (the largest), summary
  "exited with 3" folded over node[001-002], "killed by signal 9 (KILL)".
- t_exit_timeout: -t 2, exits 1 and 7 and a run past -t -> 124, summary
  "node[003-005]: exited with 1", "timed out after 2 s (process tree
  killed)", the totals line.
- t_gather: -b folds hosts with equal stdout+stderr+status under one
  header with a folded range; a different output or status is its own
  group; stderr groups come as "node[...]: line" on our stderr.
- t_diff: -b --diff prints exactly the unified diff of the odd host
  against the most common output, headers naming both host sets.
- t_json: one document, the exact host keys in target order (plus
  stdout_base64 for a non-UTF-8 stream), identity = the host's
  certificate name, the summary counts.
- t_outdir: DIR/T.out and T.err hold exactly each host's bytes, T.json
  its host object; a target "10.214.1.16:7443" is T "10.214.1.16" (the
  default port dropped) and its identity node016 (the IP SAN).
- t_select: -x, ^FILE, @GROUP (--groups-file) select exactly the
  intended hosts in order; malformed patterns and -H with -w exit 2.
- t_stdin: --stdin sends the same 3 MiB to every host (sha256 equal).
- t_closed_stdout: our stdout closed early (| head -1): exit 141 and
  nothing on stderr, at once.
- t_no_stdin: without --stdin the runs read EOF and our stdin (a pipe
  never closed) is not read: the run still ends.
- t_fanout: -f 2: never more than 2 hosts run at once, all complete.
- t_unreachable_refused (last; it changes hosts): a stopped daemon, a
  refusing policy and a certificate from another CA -> 255 even with
  exits of 3, the summary lines for each; --json: the unreachable host
  has error.status UNAVAILABLE and null run fields; --outdir: it has
  only its .json.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fleetcheck  # noqa: E402
import hosts  # noqa: E402
from fleetcheck import check, lines, summary_lines  # noqa: E402

N = 16
ALL = "node[001-016]"
NAMES = ["node%03d" % i for i in range(1, N + 1)]
PAD = "x" * 83          # "node001 out 000 " + PAD + "\n" = 100 bytes
HOST_KEYS = ["target", "argv", "exit_code", "signal", "core_dumped",
             "timed_out", "oom_killed", "output_truncated", "pid", "run_id",
             "user_time_us", "system_time_us", "max_rss_kb", "wall_time_us",
             "isolation", "stdout", "stderr", "error", "address", "identity"]
RUN_FIELDS = ["exit_code", "signal", "core_dumped", "timed_out", "oom_killed",
              "pid", "run_id", "user_time_us", "system_time_us", "max_rss_kb",
              "wall_time_us", "isolation"]


def run(fleet, script, run_args=(), targets=ALL, **kw):
    """gexec run -w TARGETS RUN_ARGS -- sh -c SCRIPT in the client ns."""
    argv = fleet.gexec_fleet(targets, "sh", "-c", script, run_args=list(run_args))
    return fleet.client_run(argv, **kw)


def totals(ok, failed=0, timed_out=0, unreachable=0, refused=0, n=N):
    return ("gexec: %d hosts: %d ok, %d failed, %d timed out, %d unreachable, "
            "%d refused" % (n, ok, failed, timed_out, unreachable, refused))


def t_live_lines(fleet):
    script = ("h=$(uname -n); w() { i=0; while [ $i -lt 200 ]; do "
              "printf '%%s %%s %%03d ' $h $1 $i; printf '%%s\\n' %s; "
              "i=$((i+1)); done; }; w out & w err >&2 & wait; printf tail" % PAD)
    p = run(fleet, script)
    req = "200 lines x 100 bytes on stdout and stderr from 16 hosts"
    check(p.returncode == 0, req, "exit 0", (p.returncode, p.stderr[-300:]))
    for stream, data, kind in (("stdout", p.stdout, "out"), ("stderr", p.stderr, "err")):
        check(data.endswith(b"\n"), req, "%s ends with a newline" % stream, data[-80:])
        per = {}
        for ln in lines(data):
            m = re.fullmatch(r"(node\d{3}): (.*)", ln)
            check(m is not None, req, "every %s line 'NAME: payload'" % stream, ln)
            per.setdefault(m.group(1), []).append(m.group(2))
        for h in NAMES:
            want = ["%s %s %03d %s" % (h, kind, i, PAD) for i in range(200)]
            if kind == "out":
                want.append("tail")
            got = per.get(h, [])
            bad = [g for g in got if g not in want]
            check(got == want, req,
                  "%s: %d %s lines of its own, in order%s" % (
                      h, len(want), stream, ", then 'tail'" if kind == "out" else ""),
                  "%d lines; foreign or mixed: %r" % (len(got), bad[:3]))
        check(sorted(per) == NAMES, req, "lines of exactly the 16 hosts", sorted(per))


def t_closed_stdout(fleet):
    """Our stdout closed early (| head -1): exit 141 and silence on stderr,
    as a process killed by SIGPIPE; the runs are cancelled, not waited
    for."""
    argv = fleet.client_argv(fleet.gexec_fleet(ALL, "seq", "1", "1000000000"))
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    rc = p.wait(timeout=60)
    req = "gexec run -w ALL -- seq 1 1000000000 | head -1"
    check(re.fullmatch(rb"node\d{3}: 1\n", first) is not None, req,
          "a first prefixed line", first)
    check((rc, err) == (141, b""), req, "exit 141, nothing on stderr",
          (rc, err[-300:]))
    check(time.monotonic() - t0 < 30, req, "ends without waiting for the runs",
          time.monotonic() - t0)


def t_exit_signal(fleet):
    p = run(fleet, "case $(uname -n) in node00[12]) exit 3;; node003) kill -9 $$;; esac")
    want = ["gexec: node[001-002]: exited with 3",
            "gexec: node003: killed by signal 9 (KILL)", totals(13, 3)]
    check((p.returncode, summary_lines(p.stderr), p.stdout) == (137, want, b""),
          "exit 3 on node001-002, SIGKILL on node003", (137, want, b""),
          (p.returncode, summary_lines(p.stderr), p.stdout))
    p = run(fleet, "uname -n >/dev/null")
    check((p.returncode, p.stdout, p.stderr) == (0, b"", b""),
          "all exit 0", "exit 0, nothing printed", (p.returncode, p.stdout, p.stderr))


def t_exit_timeout(fleet):
    t0 = time.monotonic()
    p = run(fleet, "case $(uname -n) in node00[3-5]) exit 1;; node006) exit 7;; "
            "node009) exec sleep 10;; esac", run_args=["-t", "2"])
    took = time.monotonic() - t0
    want = ["gexec: node[003-005]: exited with 1", "gexec: node006: exited with 7",
            "gexec: node009: timed out after 2 s (process tree killed)",
            totals(11, 4, 1)]
    check((p.returncode, summary_lines(p.stderr)) == (124, want) and took < 8,
          "-t 2: exit 1 x3, exit 7, node009 sleeps 10", (124, want, "< 8 s"),
          (p.returncode, summary_lines(p.stderr), "%.1f s" % took))


def t_gather(fleet):
    p = run(fleet, "case $(uname -n) in node003) echo other;; node008) "
            "printf 'same\\nline2\\n'; echo e >&2; exit 1;; *) printf "
            "'same\\nline2\\n';; esac; [ $(uname -n) = node008 ] || echo e >&2",
            run_args=["-b"])
    bar = "-" * 15 + "\n"
    want_out = (bar + "node[001-002,004-007,009-016] (14)\n" + bar + "same\nline2\n" +
                bar + "node003 (1)\n" + bar + "other\n" +
                bar + "node008 (1)\n" + bar + "same\nline2\n").encode()
    want_err = ["node[001-002,004-007,009-016]: e", "node003: e", "node008: e",
                "gexec: node008: exited with 1", totals(15, 1)]
    got = (p.returncode, p.stdout, lines(p.stderr))
    check(got == (1, want_out, want_err), "-b, node003 other output, node008 exit 1",
          (1, want_out, want_err), got)
    p = run(fleet, "echo one; printf partial", run_args=["-b"])
    want = (bar + "node[001-016] (16)\n" + bar + "one\npartial\n").encode()
    check((p.returncode, p.stdout, p.stderr) == (0, want, b""),
          "-b, all equal, a last line without newline", (0, want, b""),
          (p.returncode, p.stdout, p.stderr))


def t_diff(fleet):
    p = run(fleet, "echo same; [ $(uname -n) = node003 ] && echo other || echo line2; "
            "echo tail", run_args=["-b", "--diff"])
    want = ("--- node[001-002,004-016] (15 hosts)\n+++ node003 (1 host)\n"
            "@@ -1,3 +1,3 @@\n same\n-line2\n+other\n tail\n").encode()
    check((p.returncode, p.stdout, p.stderr) == (0, want, b""),
          "-b --diff, node003 differs in line 2", (0, want, b""),
          (p.returncode, p.stdout, p.stderr))


def _json(p, req):
    try:
        return json.loads(p.stdout)
    except ValueError:
        check(False, req, "one JSON document on stdout", p.stdout[:300])


def t_json(fleet):
    script = ("uname -n; echo e >&2; case $(uname -n) in node004) exit 2;; "
              "node005) printf '\\377\\n';; esac")
    p = run(fleet, script, run_args=["--json"])
    req = "--json, node004 exits 2, node005 prints \\377"
    d = _json(p, req)
    check(p.returncode == 2 and list(d) == ["hosts", "summary"], req,
          "exit 2, keys hosts, summary", (p.returncode, list(d)))
    check([h["target"] for h in d["hosts"]] == NAMES, req, "hosts in target order",
          [h["target"] for h in d["hosts"]])
    for h, name in zip(d["hosts"], NAMES):
        keys = list(HOST_KEYS)
        out = name + "\n"
        if name == "node005":
            keys.insert(keys.index("stderr"), "stdout_base64")
            out += "\ufffd\n"
        check(list(h) == keys, req, "%s: keys %s" % (name, keys), list(h))
        want = {"argv": ["sh", "-c", script], "exit_code": 2 if name == "node004" else 0,
                "signal": None, "core_dumped": False, "timed_out": False,
                "oom_killed": False, "output_truncated": False, "stdout": out,
                "stderr": "e\n", "error": None, "address": name + ":7443",
                "identity": name}
        got = {k: h[k] for k in want}
        check(got == want, req, want, got)
        check(all(isinstance(h[k], int) and h[k] >= 0 for k in
                  ("pid", "run_id", "user_time_us", "system_time_us", "max_rss_kb",
                   "wall_time_us")) and h["pid"] > 0 and
              h["isolation"]["profile"] == "baseline", req,
              "%s: run fields numbers, isolation baseline" % name, h)
    check(d["hosts"][4].get("stdout_base64") == "bm9kZTAwNQr/Cg==", req,
          "node005 stdout_base64 = base64('node005\\n\\377\\n')",
          d["hosts"][4].get("stdout_base64"))
    s = dict(d["summary"])
    wall = s.pop("wall_time_us", None)
    want = {"hosts": 16, "ok": 15, "failed": 1, "timed_out": 0, "unreachable": 0,
            "refused": 0, "max_exit_code": 2}
    check(s == want and isinstance(wall, int) and 0 < wall < 30e6, req,
          "summary %s and a wall_time_us" % want, d["summary"])
    check(summary_lines(p.stderr) == ["gexec: node004: exited with 2", totals(15, 1)],
          req, "summary on stderr", p.stderr)


def t_outdir(fleet):
    h16 = fleet.hosts[15]
    with tempfile.TemporaryDirectory() as d:
        targets = "node[001-015],%s:7443" % h16.address
        p = run(fleet, "h=$(uname -n); printf \"out-$h\\npartial\"; echo \"err-$h\" >&2; "
                "[ $h = node006 ] && exit 4; exit 0",
                run_args=["--outdir", d], targets=targets)
        req = "--outdir DIR, node006 exits 4, node016 by address"
        check(p.returncode == 4, req, "exit 4", (p.returncode, p.stderr))
        ts = NAMES[:15] + [h16.address]  # the default port is not kept
        check(sorted(os.listdir(d)) == sorted(t + e for t in ts for e in (".out", ".err", ".json")),
              req, "T.out, T.err, T.json for %s" % ts, sorted(os.listdir(d)))
        for t, name in zip(ts, NAMES):
            with open(os.path.join(d, t + ".out"), "rb") as f:
                out = f.read()
            with open(os.path.join(d, t + ".err"), "rb") as f:
                err = f.read()
            with open(os.path.join(d, t + ".json")) as f:
                js = json.load(f)
            want = (("out-%s\npartial" % name).encode(), ("err-%s\n" % name).encode())
            check((out, err) == want, req, "%s: %r" % (t, want), (out, err))
            check(list(js) == HOST_KEYS and js["identity"] == name and
                  js["target"] == t and
                  js["exit_code"] == (4 if name == "node006" else 0) and
                  js["stdout"] == out.decode(), req,
                  "%s.json: the host object" % t, js)


def _targets(fleet, args, extra=()):
    p = fleet.client_run(fleet.gexec_fleet(args[0], "true", run_args=list(args[1:]) + ["--json"])
                         if not extra else extra)
    try:
        return p.returncode, [h["target"] for h in json.loads(p.stdout)["hosts"]]
    except ValueError:
        return p.returncode, p.stderr


def t_select(fleet):
    with tempfile.TemporaryDirectory() as d:
        nodes = os.path.join(d, "nodes")
        with open(nodes, "w") as f:
            f.write("node003\nnode007\n\nnode003\nnode[010-011]\n")
        groups = os.path.join(d, "groups")
        with open(groups, "w") as f:
            f.write("# test groups\nweb: node[004-005],node009\ndb: node012\n")
        cases = [
            ([ALL, "-x", "node[002-015]"], ["node001", "node016"]),
            (["node[001-004]", "-x", "node002,node004", "-x", "node003"], ["node001"]),
            (["^" + nodes], ["node003", "node007", "node010", "node011"]),
            (["@web", "--groups-file", groups], ["node004", "node005", "node009"]),
            (["@web,@db,node001", "--groups-file", groups, "-x", "node005"],
             ["node004", "node009", "node012", "node001"]),
            (["node[005-006],node005,node[006-007]"], ["node005", "node006", "node007"]),
        ]
        for args, want in cases:
            got = _targets(fleet, args)
            check(got == (0, want), "gexec run -w %s --json -- true" % " ".join(args),
                  (0, want), got)
    for pattern, msg in (
            ("node[3-1]", "gexec: -w 'node[3-1]': position 6: range 3-1 goes backwards"),
            ("node[001-", "gexec: -w 'node[001-': position 5: unclosed '['"),
            ("node[a-b]", "gexec: -w 'node[a-b]': position 6: expected a number"),
            ("n1,node]1", "gexec: -w 'node]1': position 5: ']' without '['")):
        p = fleet.client_run(fleet.gexec_fleet(pattern, "true"))
        got = (p.returncode, p.stdout, lines(p.stderr)[:1])
        check(got == (2, b"", [msg]), "gexec run -w %r -- true" % pattern,
              (2, b"", [msg]), got)
    p = fleet.client_run([hosts.GEXEC, "run", "-H", "node001:7443", "-w", "node002"] +
                         fleet.tls_args() + ["--", "true"])
    want = (2, b"", b"gexec: -H and -w cannot be used together (-H: one host, byte-exact; "
            b"-w: a fleet)\nTry 'gexec run --help'.\n")
    check((p.returncode, p.stdout, p.stderr) == want,
          "gexec run -H node001:7443 -w node002 -- true", want,
          (p.returncode, p.stdout, p.stderr))


def t_stdin(fleet):
    data = os.urandom(3 << 20)
    p = run(fleet, "sha256sum", run_args=["--stdin"], input=data, stdin=None)
    want = sorted("%s: %s  -" % (h, hashlib.sha256(data).hexdigest()) for h in NAMES)
    got = (p.returncode, sorted(lines(p.stdout)), p.stderr)
    check(got == (0, want, b""), "--stdin with 3 MiB of random bytes; sha256sum",
          (0, want[:2], b""), (got[0], got[1][:2], got[2]))


def t_no_stdin(fleet):
    argv = fleet.client_argv(fleet.gexec_fleet(ALL, "sh", "-c", "cat; echo done"))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out, stderr=err)
        try:
            proc.stdin.write(b"must not be read\n")
            proc.stdin.flush()
            rc = proc.wait(timeout=20)
        finally:
            proc.kill()
            proc.wait()
            proc.stdin.close()
        out.seek(0)
        err.seek(0)
        got = (rc, sorted(lines(out.read())), err.read())
    want = (0, ["%s: done" % h for h in NAMES], b"")
    check(got == want, "no --stdin, our stdin an open pipe; cat; echo done", want, got)


def t_fanout(fleet):
    p = run(fleet, "s=$(date +%s%N); sleep 0.2; echo $(date +%s%N) $s", run_args=["-f", "2"])
    spans = []
    for ln in lines(p.stdout):
        m = re.fullmatch(r"node\d{3}: (\d+) (\d+)", ln)
        if m:
            spans.append((int(m.group(2)), int(m.group(1))))
    most = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans) if spans else 0
    check((p.returncode, len(spans), most) == (0, 16, 2), "-f 2, each host sleeps 0.2 s",
          "exit 0, 16 spans, at most (and at some time) 2 running at once",
          (p.returncode, len(spans), most, p.stderr))


def t_unreachable_refused(fleet):
    down, refusing, foreign = fleet.host("node007"), fleet.host("node010"), fleet.host("node011")
    fleet.stop_daemon(down)
    fleet.set_policy(refusing, hosts.REFUSING_POLICY)
    fleet.use_foreign_ca(foreign)
    p = run(fleet, "case $(uname -n) in node00[1-3]) exit 3;; esac")
    got = summary_lines(p.stderr)
    req = "exit 3 on node001-003; node007 stopped, node010 refusing, node011 other CA"
    want = ["gexec: node[001-003]: exited with 3",
            "gexec: node007: unreachable (connection refused)",
            "gexec: node010: refused by policy: no policy rule matches this caller "
            "(tls cn 'gexec-fleet-client')",
            "gexec: node011: refused: TLS: the server's certificate failed verification",
            totals(10, 3, 0, 1, 2)]
    check((p.returncode, got) == (255, want), req, (255, want), (p.returncode, got))
    with tempfile.TemporaryDirectory() as d:
        p = run(fleet, "true", run_args=["--json", "--outdir", d], targets="node[006-008]")
        d_json = _json(p, "--json --outdir, node007 stopped")
        h = d_json["hosts"][1]
        want = dict({k: None for k in RUN_FIELDS}, target="node007", identity=None,
                    stdout="", stderr="", output_truncated=False, address="node007:7443",
                    error={"status": "UNAVAILABLE", "code": 14, "message": "connection refused"})
        got = {k: h[k] for k in want}
        check(p.returncode == 255 and list(h) == HOST_KEYS and got == want,
              "--json, node007 stopped", (255, want), (p.returncode, got))
        files = sorted(os.listdir(d))
        want_files = sorted(["node006.out", "node006.err", "node006.json", "node007.json",
                             "node008.out", "node008.err", "node008.json"])
        check(files == want_files, "--outdir, node007 stopped", want_files, files)
        with open(os.path.join(d, "node007.json")) as f:
            check(json.load(f) == h, "--outdir: node007.json", h, "different")


TESTS = [t_live_lines, t_closed_stdout, t_exit_signal, t_exit_timeout, t_gather, t_diff, t_json,
         t_outdir, t_select, t_stdin, t_no_stdin, t_fanout, t_unreachable_refused]

if __name__ == "__main__":
    sys.exit(fleetcheck.main(N, TESTS))
