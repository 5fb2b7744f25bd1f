"""Namespace hosts for the fleet tests (shared/notes/fleet-testing.md).

A Fleet is N "hosts" on this machine, made by deploy/fleet-hosts.sh (one
implementation for the tests, the try-it-out script and the benchmark):
each host is a network namespace with its own UTS namespace (hostname
nodeNNN), its own address on a bridge in the client's namespace
(10.214.1.1 = node001, see the script's header) and its own gexecd with
mTLS on ADDRESS:7443. Every Fleet has its own namespace prefix (from the
pid), so parallel tests never share a namespace, an address space or an
instance lock; no address outside those namespaces is ever used.

    with Fleet(16) as fleet:
        h = fleet.hosts[0]                  # Host: name, address, netns
        fleet.client_run(fleet.gexec_single(h, "uname", "-n"))
        fleet.set_policy(h, REFUSING_POLICY)   # h refuses by policy
        fleet.use_foreign_ca(h)             # h's certificate: another CA
        fleet.stop_daemon(h)                # h unreachable
        fleet.pids(h, "MARKER")             # h's processes with MARKER

Needs root. Stopped on exit of the with-block, by stop(), or at exit.
Paths come from the environment when set (tests/fleet/fleet_test.sh):
GEXECD, GEXEC_CLI, FLEET_HOSTS_SH; else this checkout's bazel-bin.
"""

import atexit
import json
import os
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PORT = 7443
CLIENT_CN = "gexec-fleet-client"
START_TIMEOUT = 60.0

# A policy under which the test client has no rule: every run refused.
REFUSING_POLICY = {"rules": [
    {"name": "someone-else", "match": {"cn": "not-the-test-client"},
     "allow": {}}]}


def _path(env, rel):
    return os.environ.get(env) or os.path.join(ROOT, rel)


GEXECD = _path("GEXECD", "bazel-bin/server/gexecd")
GEXEC = _path("GEXEC_CLI", "bazel-bin/client/cli/gexec")
FLEET_HOSTS_SH = _path("FLEET_HOSTS_SH", "deploy/fleet-hosts.sh")
FLEET_CERTS_SH = os.path.join(os.path.dirname(FLEET_HOSTS_SH), "fleet-certs.sh")


class FleetError(RuntimeError):
    pass


def _wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() >= end:
            raise FleetError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


def _alive(pid):
    """True while pid is a live process (not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Host:
    """One namespace host. dir holds server.pem/.key, policy.json,
    start.sh, gexecd.log and gexecd.pid."""

    def __init__(self, fleet, name, address):
        self.name = name
        self.address = address
        self.netns = "%s-%s" % (fleet.prefix, name)
        self.dir = os.path.join(fleet.dir, name)
        self.target = "%s:%d" % (address, PORT)

    @property
    def log_path(self):
        return os.path.join(self.dir, "gexecd.log")

    def daemon_pid(self):
        with open(os.path.join(self.dir, "gexecd.pid")) as f:
            return int(f.read())

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def __repr__(self):
        return "Host(%s, %s)" % (self.name, self.address)


class Fleet:
    """N namespace hosts with gexecd; see the module docstring."""

    def __init__(self, n, sshd=False, workdir=None):
        self.n = n
        self.sshd = sshd
        # 1..6 of [a-z0-9] (the script's rule): unique per process
        self.prefix = "t" + _base36(os.getpid())[-5:]
        self.dir = os.path.join(workdir or tempfile.gettempdir(),
                                "fleet-%s" % self.prefix)
        self.client_netns = self.prefix + "-c"
        self.ca = os.path.join(self.dir, "ca.pem")
        self.cert = os.path.join(self.dir, "client.pem")
        self.key = os.path.join(self.dir, "client.key")
        self.hosts = []
        self._started = False

    # ------------------------------------------------------- life cycle

    def start(self):
        """Makes the hosts (in parallel); raises FleetError, having
        removed what it made, when that fails."""
        atexit.register(self.stop)
        self._started = True
        env = dict(os.environ, GEXECD=GEXECD, GEXEC=GEXEC)
        args = ["bash", FLEET_HOSTS_SH, "start", str(self.n), "--dir", self.dir,
                "--prefix", self.prefix] + (["--sshd"] if self.sshd else [])
        p = subprocess.run(args, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            self.stop()
            raise FleetError("%s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr))
        with open(os.path.join(self.dir, "hosts")) as f:
            for line in f:
                address, name = line.split()
                self.hosts.append(Host(self, name, address))
        return self

    def stop(self):
        """Removes every namespace, process and file of this fleet.
        Idempotent."""
        if not self._started:
            return
        self._started = False
        subprocess.run(["bash", FLEET_HOSTS_SH, "stop", "--dir", self.dir],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def host(self, name):
        """The host called name (e.g. "node003")."""
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    # ----------------------------------------------------------- client

    def client_argv(self, argv):
        """argv run in the client's namespace (its /etc/hosts names the
        hosts)."""
        return ["ip", "netns", "exec", self.client_netns] + list(argv)

    def client_run(self, argv, timeout=60, **kw):
        """Runs argv in the client's namespace; a CompletedProcess with
        bytes stdout and stderr."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(self.client_argv(argv), capture_output=True,
                              timeout=timeout, **kw)

    def tls_args(self):
        """The CLI's TLS flags for the test client identity."""
        return ["--ca", self.ca, "--cert", self.cert, "--key", self.key]

    def gexec_single(self, host, *argv, run_args=()):
        """gexec run -H ADDRESS:7443 (single-host mode) on host."""
        return ([GEXEC, "run", "-H", host.target] + self.tls_args() +
                ["--tls-server-name", host.name] + list(run_args) + ["--"] +
                list(argv))

    def gexec_fleet(self, targets, *argv, run_args=()):
        """gexec run -w TARGETS (fleet mode)."""
        return ([GEXEC, "run", "-w", targets] + self.tls_args() +
                list(run_args) + ["--"] + list(argv))

    def all_targets(self):
        """node[001-N]: every host by name (resolved in the client's
        namespace)."""
        first, last = self.hosts[0].name[4:], self.hosts[-1].name[4:]
        return "node[%s-%s]" % (first, last) if first != last else self.hosts[0].name

    # ------------------------------------------------------------ knobs

    def set_policy(self, host, policy):
        """Restarts host's gexecd under policy (a dict, the JSON policy)."""
        with open(os.path.join(host.dir, "policy.json"), "w") as f:
            json.dump(policy, f)
        self.restart_daemon(host)

    def use_foreign_ca(self, host):
        """Gives host a server certificate (same names) signed by another
        CA, which the test client does not trust; restarts its gexecd."""
        ca = os.path.join(self.dir, "other-ca.pem")
        if not os.path.exists(ca):
            subprocess.run(["sh", FLEET_CERTS_SH, "ca", self.dir, "other-ca",
                            "some other CA"], check=True)
        subprocess.run(["sh", FLEET_CERTS_SH, "servers", self.dir, "other-ca",
                        "%s:%s" % (host.name, host.address)], check=True)
        self.restart_daemon(host)

    def stop_daemon(self, host, sig=signal.SIGKILL):
        """Stops host's gexecd (its address then refuses connections)."""
        pid = host.daemon_pid()
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        _wait(lambda: not _alive(pid), 30, "%s's gexecd (pid %d) to exit" % (host.name, pid))

    def start_daemon(self, host):
        """Starts host's gexecd again (its start.sh) and waits until it
        listens."""
        with open(host.log_path, "w") as log:
            p = subprocess.Popen(["setsid", "ip", "netns", "exec", host.netns,
                                  "unshare", "-u", "sh", os.path.join(host.dir, "start.sh")],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        with open(os.path.join(host.dir, "gexecd.pid"), "w") as f:
            f.write("%d\n" % p.pid)
        _wait(lambda: '"listening"' in host.log() or p.poll() is not None,
              START_TIMEOUT, "%s's gexecd to listen" % host.name)
        if p.poll() is not None:
            raise FleetError("%s's gexecd exited %s:\n%s" % (host.name, p.returncode, host.log()))
        p.returncode = 0  # not ours to reap: stop() kills it with the namespace

    def restart_daemon(self, host):
        """stop_daemon (SIGTERM: it drains) then start_daemon."""
        self.stop_daemon(host, signal.SIGTERM)
        self.start_daemon(host)

    # ------------------------------------------------- inside the hosts

    def host_argv(self, host, argv):
        """argv run inside host: its network and UTS namespaces (those of
        its gexecd), so `uname -n` prints its hostname."""
        return ["nsenter", "-t", str(host.daemon_pid()), "-n", "-u"] + list(argv)

    def host_run(self, host, argv, timeout=60):
        """Runs argv inside host (host_argv); a CompletedProcess."""
        return subprocess.run(self.host_argv(host, argv), capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)

    def pids(self, host, marker):
        """Pids of the processes in host's network namespace whose argv
        contains marker (bytes or str). The hosts share one pid namespace:
        this matches by network namespace and by argv, never by name."""
        if isinstance(marker, str):
            marker = marker.encode()
        want = os.stat("/run/netns/%s" % host.netns)
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                ns = os.stat("/proc/%s/ns/net" % d)
                if (ns.st_dev, ns.st_ino) != (want.st_dev, want.st_ino):
                    continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if marker in f.read() and _alive(int(d)):
                        found.append(int(d))
            except OSError:
                continue
        return found


def _base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        n, r = divmod(n, 36)
        s = digits[r] + s
        if n == 0:
            return s
