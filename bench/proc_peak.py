#!/usr/bin/python3
"""Runs a command and reports what the client cost while it ran
(bench/fleet.sh): the command's own peak thread count and peak RSS, and,
over its whole process tree (pdsh and clush fork one ssh per host), the
most processes and the largest summed RSS seen at once.

    proc_peak.py [--interval SECONDS] [--out FILE] -- COMMAND [ARG]...

The command's stdout and stderr pass through; its exit status is ours.
One line goes to FILE (default stderr):
    threads=T rss_kb=R tree_procs=P tree_rss_kb=S wall_s=W
threads and the tree figures are sampled from /proc every interval
(default 20 ms: a short-lived peak between samples is missed); rss_kb is
the command's VmHWM (the kernel's peak RSS of its memory since exec, as
last sampled; not wait4's ru_maxrss, which keeps the forking parent's
size across exec).
"""

import os
import subprocess
import sys
import time


def status_fields(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Threads", "VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def tree(root):
    """{pid: status fields} of root and its descendants (one small read
    of every process's stat for its parent, status only for the tree)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            kids.setdefault(ppid(int(d)), []).append(int(d))
    out, todo = {}, [root]
    while todo:
        p = todo.pop()
        f = status_fields(p)
        if f:
            out[p] = f
            todo.extend(kids.get(p, []))
    return out


def main(argv):
    interval, out_path = 0.02, None
    while argv and argv[0] != "--":
        if argv[0] == "--interval":
            interval = float(argv[1])
        elif argv[0] == "--out":
            out_path = argv[1]
        else:
            sys.exit("proc_peak.py: unknown option %r" % argv[0])
        argv = argv[2:]
    cmd = argv[1:]
    if not cmd:
        sys.exit("usage: proc_peak.py [--interval S] [--out FILE] -- COMMAND [ARG]...")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd)
    threads = procs = tree_rss = hwm = 0
    while True:
        t = tree(p.pid)
        if p.pid in t:
            threads = max(threads, t[p.pid].get("Threads", 0))
            hwm = max(hwm, t[p.pid].get("VmHWM", 0))
        procs = max(procs, len(t))
        tree_rss = max(tree_rss, sum(f.get("VmRSS", 0) for f in t.values()))
        pid, status = os.waitpid(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(interval)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    line = "threads=%d rss_kb=%d tree_procs=%d tree_rss_kb=%d wall_s=%.3f\n" % (
        threads, hwm, procs, tree_rss, wall)
    if out_path:
        with open(out_path, "w") as f:
            f.write(line)
    else:
        sys.stderr.write(line)
    return p.returncode if p.returncode >= 0 else 128 - p.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
