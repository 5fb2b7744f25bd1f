#!/usr/bin/python3
"""One rapid-reset measurement of gexecd (bench/rapid_reset.sh runs it).

Starts GEXECD listening on a unix socket and on 127.0.0.1:PORT, lets it
settle, then at the same time:
  - runs tests/attack/rapid_reset.py (C connections x N pairs) against
    the chosen listener,
  - runs a legitimate client in a loop (`gexec run -H TARGET -- true`,
    one at a time) and times each run, until --tail seconds after the
    attack ended,
  - samples the daemon's VmRSS every 50 ms.
Then waits --settle seconds and stops the daemon.

Prints one JSON object: RSS before / peak / after (MiB; the peak is
max(VmHWM, samples)), daemon CPU seconds (user+sys) during the attack
window, the legit runs' count, p50, p99 and max (ms, runs that failed
counted as their duration and listed), and the attacker's report.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ATTACK = os.path.join(HERE, "..", "tests", "attack", "rapid_reset.py")


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(gexec, target, proc, secs=20):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit("gexecd exited at start-up (rc %d)" % proc.returncode)
        r = subprocess.run([gexec, "run", "-H", target, "--", "true"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    sys.exit("gexecd did not answer within %d s" % secs)


def pct(sorted_ms, p):
    if not sorted_ms:
        return None
    i = min(len(sorted_ms) - 1, int(round(p / 100.0 * (len(sorted_ms) - 1))))
    return round(sorted_ms[i], 1)


class Legit(threading.Thread):
    """`gexec run -- true` one after another until stopped."""

    def __init__(self, gexec, target):
        super().__init__(daemon=True)
        self.cmd = [gexec, "run", "-H", target, "--", "true"]
        self.ms, self.failed, self.slow = [], [], []
        self.t0 = time.monotonic()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            r = subprocess.run(self.cmd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
            ms = (time.monotonic() - t) * 1000
            self.ms.append(ms)
            if ms > 500:
                self.slow.append((round(t - self.t0, 2), round(ms)))
            if r.returncode != 0:
                self.failed.append({"rc": r.returncode, "ms": round(ms),
                                    "err": r.stderr.decode()[-200:]})


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_kb = pid, 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            except OSError:
                return
            time.sleep(0.05)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gexecd", required=True)
    p.add_argument("--gexec", required=True)
    p.add_argument("--listener", choices=["unix", "tcp"], default="unix")
    p.add_argument("--port", type=int, default=0,
                   help="TCP port (default: any free one)")
    p.add_argument("-c", type=int, default=4)
    p.add_argument("-n", type=int, default=100000)
    p.add_argument("--settle", type=float, default=3.0)
    p.add_argument("--tail", type=float, default=2.0,
                   help="seconds the legit client goes on after the attack "
                        "ended (a cut attack may last a fraction of a "
                        "second: too few runs for a p99)")
    p.add_argument("--no-read", action="store_true",
                   help="the attacker never reads the server's frames")
    p.add_argument("--attack-timeout", type=float, default=300,
                   help="seconds before the attacker is killed")
    p.add_argument("--instance", default="rrbench-%d" % os.getpid())
    p.add_argument("flags", nargs="*", help="more gexecd flags (after --)")
    a = p.parse_args()
    d = tempfile.mkdtemp(prefix="gxrr-")
    sock = os.path.join(d, "gexecd.sock")
    unix_t, tcp_t = "unix:" + sock, "127.0.0.1:%d" % a.port
    log = open(os.path.join(d, "gexecd.log"), "w")
    daemon = subprocess.Popen(
        [a.gexecd, "--listen", unix_t, "--listen", tcp_t,
         "--instance", a.instance] + a.flags, stderr=log)
    try:
        wait_ready(a.gexec, unix_t, daemon)
        tcp_t = "127.0.0.1:%d" % logged_port(os.path.join(d, "gexecd.log"))
        time.sleep(0.5)
        res = measure(a, daemon.pid, unix_t, tcp_t, sock)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    res["daemon_exit"] = daemon.returncode
    res["cut_log_lines"] = count_cut_lines(os.path.join(d, "gexecd.log"))
    print(json.dumps(res))


def logged_port(path):
    """The TCP port gexecd logged as listening on."""
    with open(path, errors="replace") as f:
        for line in f:
            if '"event":"listening"' in line and '"port":' in line:
                return json.loads(line)["port"]
    sys.exit("gexecd logged no TCP port")


def count_cut_lines(path):
    n = 0
    with open(path, errors="replace") as f:
        for line in f:
            if '"event":"connection_cut"' in line:
                n += 1
    return n


def measure(a, pid, unix_t, tcp_t, sock):
    before_kb = status_kb(pid, "VmRSS")
    legit = Legit(a.gexec, unix_t)
    sampler = Sampler(pid)
    cpu0 = cpu_s(pid)
    t0 = time.monotonic()
    sampler.start()
    legit.start()
    where = ["--unix", sock] if a.listener == "unix" else ["--tcp", tcp_t]
    att = subprocess.Popen(
        ["/usr/bin/python3", ATTACK, "--json", "-c", str(a.c), "-n",
         str(a.n)] + where + (["--no-read"] if a.no_read else []),
        stdout=subprocess.PIPE, start_new_session=True)
    try:
        out, _ = att.communicate(timeout=a.attack_timeout)
    except subprocess.TimeoutExpired:  # e.g. --no-read: writes block
        os.killpg(att.pid, signal.SIGKILL)
        out, _ = att.communicate()
    attack_s = time.monotonic() - t0
    cpu1 = cpu_s(pid)
    during = len(legit.ms)
    time.sleep(a.tail)
    legit.stop.set()
    legit.join()
    time.sleep(a.settle)
    sampler.stop.set()
    sampler.join()
    ms = sorted(legit.ms)
    try:
        report = json.loads(out)
    except ValueError:
        report = {"raw": out.decode()[-500:], "connections": []}
    for c in report.get("connections", []):
        c.pop("frames_in", None)
    return {
        "listener": a.listener, "connections": a.c, "pairs": a.n,
        "flags": a.flags,
        "rss_before_mib": round(before_kb / 1024, 1),
        "rss_peak_mib": round(max(sampler.peak_kb,
                                  status_kb(pid, "VmHWM")) / 1024, 1),
        "rss_after_mib": round(status_kb(pid, "VmRSS") / 1024, 1),
        "daemon_cpu_s": round(cpu1 - cpu0, 2),
        "attack_wall_s": round(attack_s, 2),
        "legit_runs": len(ms), "legit_runs_during_attack": during,
        "legit_p50_ms": pct(ms, 50),
        "legit_p99_ms": pct(ms, 99), "legit_max_ms": pct(ms, 100),
        "legit_failed": legit.failed[:5], "legit_failed_n": len(legit.failed),
        "legit_slow": legit.slow[:10],
        "attack": report,
    }


if __name__ == "__main__":
    main()
