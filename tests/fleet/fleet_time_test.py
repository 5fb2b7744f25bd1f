#!/usr/bin/python3
"""Time in `gexec run -w` on 16 namespace hosts (one shared Fleet):
stragglers, deadlines, hosts that never answer, and Ctrl-C.

- t_straggler: node005 runs `sleep & sleep; echo never` (a marker in its
  argv) with -t 3: the 15 other hosts' lines arrive before its timeout,
  gexec exits 124 well within 10 s with "node005: timed out after 3 s
  (process tree killed)", and then no process with the marker is left
  on node005 (the daemon killed the whole tree).
- t_deadline: --deadline 3 and no -t: the straggler is stopped by its
  daemon (timed out, tree gone), a blackholed address (on the bridge, a
  static neighbour entry to a MAC nobody has) and a host whose gexecd is
  SIGSTOPped are "unreachable (still connecting at the deadline)", and
  the run ends at about the deadline (< 5 s), exit 255.
- t_connect_timeout: --connect-timeout 1 on the blackholed address:
  "unreachable (timed out after 1000 ms)" in < 2.5 s; the other host's
  output is there, exit 255.
- t_ctrl_c_once: one SIGINT to gexec while 16 hosts wait in
  `trap "echo got INT; exit 5" INT`: each prints "got INT" and exits 5,
  gexec exits 5 with the folded summary.
- t_ctrl_c_twice: hosts that ignore SIGINT: a second SIGINT makes gexec
  exit 130 at once and the remote processes are gone on every host.
"""

import os
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fleetcheck  # noqa: E402
from fleetcheck import check, lines, summary_lines  # noqa: E402

N = 16
ALL = "node[001-016]"
NAMES = ["node%03d" % i for i in range(1, N + 1)]
BLACKHOLE = "10.214.200.1"   # on the bridge's /16, no host has it


def totals(ok, failed=0, timed_out=0, unreachable=0, refused=0, n=N):
    return ("gexec: %d hosts: %d ok, %d failed, %d timed out, %d unreachable, "
            "%d refused" % (n, ok, failed, timed_out, unreachable, refused))


class Live:
    """A gexec started in the client's namespace whose stdout is read as
    it comes: (seconds since start, line) pairs."""

    def __init__(self, fleet, argv):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(fleet.client_argv(argv), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.got = []
        self._buf = b""
        self.err = b""

    def read_until(self, pred, timeout):
        """Reads stdout lines until pred(self.got) or EOF or timeout."""
        end = time.monotonic() + timeout
        fds = [self.proc.stdout, self.proc.stderr]
        while not pred(self.got) and fds and time.monotonic() < end:
            ready, _, _ = select.select(fds, [], [], max(0, end - time.monotonic()))
            for f in ready:
                data = os.read(f.fileno(), 65536)
                if not data:
                    fds.remove(f)
                elif f is self.proc.stderr:
                    self.err += data
                else:
                    self._buf += data
                    *done, self._buf = self._buf.split(b"\n")
                    t = time.monotonic() - self.t0
                    self.got += [(t, ln.decode()) for ln in done]
        return self.got

    def finish(self, timeout=30):
        """Reads to EOF; (exit status or None if still running after
        timeout, seconds since start). Ends the process either way."""
        self.read_until(lambda g: False, timeout)
        try:
            rc = self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - self.t0
        self.kill()
        return rc, took

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def wait_gone(fleet, hs, marker, timeout=5.0):
    """{host: pids} of what is still there after up to timeout s."""
    end = time.monotonic() + timeout
    while True:
        left = {h.name: fleet.pids(h, marker) for h in hs}
        left = {k: v for k, v in left.items() if v}
        if not left or time.monotonic() >= end:
            return left
        time.sleep(0.05)


def blackhole(fleet):
    """Makes BLACKHOLE reachable on the bridge but answered by nobody."""
    subprocess.run(["ip", "-n", fleet.client_netns, "neigh", "replace", BLACKHOLE,
                    "lladdr", "02:00:00:00:00:01", "dev", "br0", "nud", "permanent"],
                   check=True)


def t_straggler(fleet):
    mark = "60.4711"
    h = fleet.host("node005")
    script = ("[ $(uname -n) = node005 ] && { sleep %s & sleep %s; echo never; }; "
              "uname -n" % (mark, mark))
    live = Live(fleet, fleet.gexec_fleet(ALL, "sh", "-c", script, run_args=["-t", "3"]))
    try:
        others = ["%s: %s" % (n, n) for n in NAMES if n != "node005"]
        got = live.read_until(lambda g: len(g) >= 15, 10)
        running = fleet.pids(h, mark)
        rc, took = live.finish()
    finally:
        live.kill()
    req = "-t 3, node005 runs `sleep %s & sleep %s`" % (mark, mark)
    first = got[:15]
    check(sorted(ln for _, ln in first) == others and max(t for t, _ in first) < 2.5,
          req, "the 15 others' lines within 2.5 s (before the timeout)", first)
    check(len(running) == 3, req, "sh and two sleeps running on node005 meanwhile", running)
    want = ["gexec: node005: timed out after 3 s (process tree killed)", totals(15, 0, 1)]
    check((rc, [ln for _, ln in live.got[15:]], summary_lines(live.err)) == (124, [], want)
          and took < 10, req, "exit 124 in < 10 s, no 'never', summary %s" % want,
          (rc, "%.1f s" % took, live.got[15:], live.err))
    left = fleet.pids(h, mark)
    check(left == [], req, "no process with %s on node005 afterwards" % mark, left)


def t_deadline(fleet):
    mark = "60.4712"
    stopped = fleet.host("node016")
    blackhole(fleet)
    os.kill(stopped.daemon_pid(), signal.SIGSTOP)
    try:
        script = ("[ $(uname -n) = node005 ] && { sleep %s & sleep %s; echo never; }; "
                  "uname -n" % (mark, mark))
        live = Live(fleet, fleet.gexec_fleet(ALL + "," + BLACKHOLE, "sh", "-c", script,
                                             run_args=["--deadline", "3"]))
        rc, took = live.finish()
    finally:
        os.kill(stopped.daemon_pid(), signal.SIGCONT)
    req = "--deadline 3; node005 sleeps, node016's gexecd stopped, %s blackholed" % BLACKHOLE
    out = sorted(ln for _, ln in live.got)
    want_out = sorted("%s: %s" % (n, n) for n in NAMES if n not in ("node005", "node016"))
    summ = summary_lines(live.err)
    want = [r"gexec: node005: timed out after (2\.\d|3|3\.0) s \(process tree killed\)",
            re.escape("gexec: %s,node016: unreachable (still connecting at the deadline)"
                      % BLACKHOLE),
            re.escape(totals(14, 0, 1, 2, n=17))]
    check(rc == 255 and 2.8 < took < 5 and out == want_out and len(summ) == 3 and
          all(re.fullmatch(w, s) for w, s in zip(want, summ)), req,
          "exit 255 in 2.8..5 s, the 14 others' lines, summary %s" % want,
          (rc, "%.1f s" % took, out, summ))
    left = fleet.pids(fleet.host("node005"), mark)
    check(left == [], req, "no process with %s on node005 afterwards" % mark, left)


def t_connect_timeout(fleet):
    blackhole(fleet)
    t0 = time.monotonic()
    p = fleet.client_run(fleet.gexec_fleet("node001," + BLACKHOLE, "uname", "-n",
                                           run_args=["--connect-timeout", "1"]))
    took = time.monotonic() - t0
    want = (255, b"node001: node001\n",
            ["gexec: %s: unreachable (timed out after 1000 ms)" % BLACKHOLE,
             totals(1, 0, 0, 1, n=2)])
    got = (p.returncode, p.stdout, lines(p.stderr))
    check(got == want and took < 2.5, "--connect-timeout 1 on node001,%s" % BLACKHOLE,
          (want, "< 2.5 s"), (got, "%.1f s" % took))


def _ready(n):
    return lambda g: sum(1 for _, ln in g if ln.endswith(": ready")) >= n


def t_ctrl_c_once(fleet):
    mark = "30.2461"
    live = Live(fleet, fleet.gexec_fleet(
        ALL, "sh", "-c", 'trap "echo got INT; exit 5" INT; echo ready; sleep %s' % mark))
    try:
        live.read_until(_ready(N), 15)
        # sh and its sleep on every host: a SIGINT before the fork would
        # reach sh alone, and sh runs a trap only after its foreground
        # sleep ended (POSIX), 30 s later
        end = time.monotonic() + 10
        while (sum(len(fleet.pids(h, mark)) for h in fleet.hosts) < 2 * N and
               time.monotonic() < end):
            time.sleep(0.02)
        live.proc.send_signal(signal.SIGINT)
        rc, took = live.finish(15)
    finally:
        live.kill()
    out = sorted(ln for _, ln in live.got)
    want_out = sorted(["%s: ready" % n for n in NAMES] + ["%s: got INT" % n for n in NAMES])
    want = ["gexec: node[001-016]: exited with 5", totals(0, 16)]
    got = (rc, out, summary_lines(live.err))
    check(got == (5, want_out, want) and took < 10, "one SIGINT to gexec -w %s" % ALL,
          (5, "ready and got INT from each host", want),
          (rc, [ln for ln in out if "ready" not in ln], live.err, "%.1f s" % took))


def t_ctrl_c_twice(fleet):
    mark = "31.5813"
    live = Live(fleet, fleet.gexec_fleet(ALL, "sh", "-c",
                                         'trap "" INT; echo ready; exec sleep %s' % mark))
    try:
        live.read_until(_ready(N), 15)
        running = sum(len(fleet.pids(h, mark)) for h in fleet.hosts)
        live.proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        t1 = time.monotonic()
        live.proc.send_signal(signal.SIGINT)
        rc, _ = live.finish(15)
        took = time.monotonic() - t1
    finally:
        live.kill()
    req = "two SIGINTs to gexec -w %s, the runs ignore SIGINT" % ALL
    check(running == N, req, "a marked sleep on each host before", running)
    check(rc == 130 and took < 2, req, "exit 130 within 2 s of the second",
          (rc, "%.1f s" % took, live.err))
    left = wait_gone(fleet, fleet.hosts, mark)
    check(left == {}, req, "no marked process left on any host", left)


TESTS = [t_straggler, t_deadline, t_connect_timeout, t_ctrl_c_once, t_ctrl_c_twice]

if __name__ == "__main__":
    sys.exit(fleetcheck.main(N, TESTS))
