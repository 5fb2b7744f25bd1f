#!/usr/bin/python3
"""What the Python (grpcio) tests of gexecd share: settings, a daemon
started and stopped by the test (Daemon), a Run stream driven message by
message (Run, Result), checks, and the runner that prints one line per
test and the final "N passed, N failed" (run_one, run_tests, summary).

Imported by interop_test.py (the wire contract and bad input) and by the
other scripts of this directory (tls, keepalive, policy, facts, review9).

Nothing here sleeps to synchronise: every wait is on a condition (a log
line, a response message, a process state) with a generous upper bound,
because CI machines are small and loaded.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

PB_DIR = os.environ.get("GEXEC_INTEROP_PB_DIR") or os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, PB_DIR)

import grpc  # noqa: E402

import exec_pb2 as pb  # noqa: E402
import health_pb2 as hpb  # noqa: E402

# ------------------------------------------------------------------ settings

RPC_DEADLINE = 60.0     # any single RPC; a hang shows up as DEADLINE_EXCEEDED
READY_TIMEOUT = 60.0    # daemon start: "listening" lines + health SERVING
EXIT_TIMEOUT = 30.0     # daemon exit after SIGTERM; child reaping
POLL = 0.02             # granularity of condition polling (not a sync sleep)

CANARY_NAME = "GEXEC_INTEROP_CANARY"  # set in the daemon's env; must not leak
MAX_TIMEOUT_MS = 10 * 60 * 1000       # main daemon runs with --max-timeout 10m

SC = grpc.StatusCode


def find_gexecd():
    env = os.environ.get("GEXECD")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "bazel-bin", "server", "gexecd")


GEXECD = find_gexecd()
TMPDIR = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp(prefix="gexec-interop-")
LOGDIR = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or TMPDIR


class Failure(AssertionError):
    pass


def check(cond, request, expected, actual):
    """Fails with the three things a report needs: what was sent, what the
    contract says, what happened."""
    if not cond:
        raise Failure("\n    request:  %s\n    expected: %s\n    actual:   %s"
                      % (request, expected, actual))


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise Failure("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(POLL)


def pid_gone(pid):
    """True once pid is no longer a live (non-zombie) process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return st.rsplit(")", 1)[1].split()[0] in ("Z", "X")


# ------------------------------------------------------------------- daemon

# The policy test daemons run under unless a test gives its own: root
# over the unix socket, plaintext loopback and any verified certificate
# may do anything (the tests here are about the wire, not the policy).
TEST_POLICY = {"rules": [
    {"name": "test-root", "match": {"uid": 0}, "allow": {"facts": True}},
    {"name": "test-loopback", "match": {"anonymous_loopback": True},
     "allow": {}},
    {"name": "test-spiffe", "match": {"spiffe": "*"}, "allow": {}},
    {"name": "test-dns", "match": {"dns": "*"}, "allow": {}},
    {"name": "test-cn", "match": {"cn": "*"}, "allow": {}},
]}


def test_policy_path():
    """Writes TEST_POLICY once; returns its path."""
    path = os.path.join(TMPDIR, "test-policy.json")
    if not os.path.exists(path):
        with open(path, "w") as f:
            json.dump(TEST_POLICY, f)
    return path


class Daemon:
    """One gexecd child process, its stderr log and channels to it."""

    def __init__(self, name, listens, extra_args=(), prefix=(), test_policy=True):
        """prefix: a command that runs gexecd by exec (e.g. ip netns exec);
        test_policy: without --policy in extra_args, run under TEST_POLICY
        (False: the daemon's built-in policy)."""
        self.name = name
        self.listens = list(listens)
        args = list(prefix) + [GEXECD]
        for addr in self.listens:
            args += ["--listen", addr]
        args += list(extra_args)
        if test_policy and "--policy" not in args:
            args += ["--policy", test_policy_path()]
        self.args = args
        env = dict(os.environ)
        env[CANARY_NAME] = "this-must-not-leak"
        self.log_path = os.path.join(LOGDIR, "gexecd-%s.log" % name)
        self.log_file = open(self.log_path, "w")
        self.lines = []
        self.events = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.log_file,
                                     stderr=subprocess.PIPE, env=env)
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()
        self.channels = []
        self.targets = {}

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log_file.write(line + "\n")
            self.log_file.flush()
            try:
                ev = json.loads(line)
            except ValueError:
                ev = None
            with self.cond:
                self.lines.append(line)
                if isinstance(ev, dict):
                    self.events.append(ev)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def listening_events(self):
        return [e for e in self.events if e.get("event") == "listening"]

    def wait_listening(self):
        """Waits for one "listening" line per --listen, returns them."""
        end = time.monotonic() + READY_TIMEOUT
        with self.cond:
            while len(self.listening_events()) < len(self.listens):
                if self.proc.poll() is not None:
                    raise Failure("gexecd %s exited with %s before listening; log:\n%s"
                                  % (self.name, self.proc.returncode, self.log_tail()))
                left = end - time.monotonic()
                if left <= 0:
                    raise Failure("gexecd %s: no 'listening' line for each of %s within %.0fs; log:\n%s"
                                  % (self.name, self.listens, READY_TIMEOUT, self.log_tail()))
                self.cond.wait(min(left, 0.5))
            return list(self.listening_events())

    def start(self):
        events = self.wait_listening()
        for addr in self.listens:
            if addr.startswith("unix:"):
                self.targets[addr] = addr
            else:
                host = addr.rsplit(":", 1)[0]
                port = None
                for ev in events:
                    if ev.get("address") == addr and isinstance(ev.get("port"), int):
                        port = ev["port"]
                check(port and port > 0, "gexecd --listen %s" % addr,
                      'a "listening" log line with "address":"%s" and a nonzero "port"' % addr,
                      events)
                self.targets[addr] = "%s:%d" % (host, port)
        for addr in self.listens:
            ch = self.channel(addr)
            resp = health_check(ch, "", wait_for_ready=True, timeout=READY_TIMEOUT)
            check(resp.status == hpb.HealthCheckResponse.SERVING,
                  "Health/Check(service='') via %s" % addr, "SERVING", resp)
        return self

    def channel(self, addr=None):
        target = self.targets[addr or self.listens[0]]
        ch = grpc.insecure_channel(target, options=[
            ("grpc.enable_http_proxy", 0),
            ("grpc.max_receive_message_length", 16 << 20),
        ])
        self.channels.append(ch)
        return ch

    def close_channels(self):
        for ch in self.channels:
            ch.close()
        self.channels = []

    def alive(self):
        return self.proc.poll() is None

    def log_tail(self, n=40):
        with self.cond:
            return "\n".join(self.lines[-n:])

    def terminate(self, timeout=EXIT_TIMEOUT):
        """SIGTERM; returns the exit status, or None if it did not exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        self.close_channels()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        self.log_file.close()


def health_check(channel, service, wait_for_ready=False, timeout=RPC_DEADLINE):
    mc = channel.unary_unary("/grpc.health.v1.Health/Check",
                             request_serializer=hpb.HealthCheckRequest.SerializeToString,
                             response_deserializer=hpb.HealthCheckResponse.FromString)
    return mc(hpb.HealthCheckRequest(service=service), timeout=timeout,
              wait_for_ready=wait_for_ready)


# ----------------------------------------------------------------- exec Run

_END = object()


class Run:
    """One Exec/Run stream; requests are fed through a queue so that a test
    can send in reaction to what it has received."""

    def __init__(self, channel, raw=False, deadline=RPC_DEADLINE):
        self.q = queue.Queue()
        ser = (lambda b: b) if raw else pb.RunRequest.SerializeToString
        mc = channel.stream_stream("/gexec.v1.Exec/Run", request_serializer=ser,
                                   response_deserializer=pb.RunResponse.FromString)
        self.call = mc(self._requests(), timeout=deadline)
        self.responses = []
        self.code = None
        self.details = None
        self.sent = []
        self.label = None  # describe() text for requests too big to print

    def _requests(self):
        while True:
            m = self.q.get()
            if m is _END:
                return
            yield m

    def send(self, msg):
        self.sent.append(msg)
        self.q.put(msg)
        return self

    def start(self, **kw):
        return self.send(pb.RunRequest(start=pb.Start(**kw)))

    def stdin(self, data):
        return self.send(pb.RunRequest(stdin=data))

    def eof(self):
        return self.send(pb.RunRequest(stdin_eof=pb.StdinEof()))

    def signal(self, number):
        return self.send(pb.RunRequest(signal=pb.Signal(number=number)))

    def close_send(self):
        self.q.put(_END)

    def recv(self):
        """Next response, or None at the end of the stream (status in .code)."""
        if self.code is not None:
            return None
        try:
            r = next(self.call)
        except StopIteration:
            self.code, self.details = SC.OK, self.call.details() or ""
            self.close_send()
            return None
        except grpc.RpcError as e:
            self.code, self.details = e.code(), e.details() or ""
            self.close_send()
            return None
        self.responses.append(r)
        return r

    def recv_kind(self, kind):
        """Reads until a response of `kind`; fails if the stream ends first."""
        while True:
            r = self.recv()
            if r is None:
                raise Failure("stream ended with %s %r before a '%s' message; got %s"
                              % (self.code, self.details, kind, kinds(self.responses)))
            if r.WhichOneof("event") == kind:
                return getattr(r, kind)

    def finish(self):
        while self.recv() is not None:
            pass
        return self

    def cancel(self):
        self.call.cancel()
        self.close_send()

    def describe(self):
        if self.label:
            return self.label
        parts = []
        for m in self.sent:
            if isinstance(m, bytes):
                parts.append("raw%r" % m)
                continue
            k = m.WhichOneof("event")
            if k == "start":
                s = m.start
                fields = ["argv=%r" % list(s.argv)]
                if s.env:
                    fields.append("env=%r" % dict(s.env))
                for f in ("cwd", "timeout_ms", "stdin_mode", "stdout_mode",
                          "stderr_mode", "kill_grace_ms", "max_output_bytes"):
                    v = getattr(s, f)
                    if v:
                        fields.append("%s=%r" % (f, v))
                parts.append("start{%s}" % ", ".join(fields))
            elif k == "stdin":
                d = m.stdin
                parts.append("stdin(%d bytes)" % len(d) if len(d) > 32 else "stdin(%r)" % d)
            elif k == "stdin_eof":
                parts.append("stdin_eof")
            elif k == "signal":
                parts.append("signal{number=%d}" % m.signal.number)
            else:
                parts.append("<empty RunRequest>")
        return " -> ".join(parts)

    def outcome(self):
        return "responses=%s, status=%s %r" % (kinds(self.responses),
                                               self.code.name if self.code else None,
                                               self.details)


def kinds(responses):
    return [r.WhichOneof("event") for r in responses]


class Result:
    def __init__(self, run):
        self.run = run
        self.started = None
        self.exited = None
        self.stdout = b""
        self.stderr = b""
        for r in run.responses:
            k = r.WhichOneof("event")
            if k == "started":
                self.started = r.started
            elif k == "exited":
                self.exited = r.exited
            elif k == "stdout":
                self.stdout += r.stdout
            elif k == "stderr":
                self.stderr += r.stderr


def check_ok_run(run):
    """Checks the normal shape: started, output chunks, exited, status OK."""
    ks = kinds(run.responses)
    req = run.describe()
    check(run.code == SC.OK, req, "status OK", run.outcome())
    check(len(ks) >= 2 and ks[0] == "started" and ks[-1] == "exited"
          and all(k in ("stdout", "stderr") for k in ks[1:-1]),
          req, "started, stdout/stderr chunks..., exited (in that order)", ks)
    res = Result(run)
    check(res.started.pid > 0, req, "started.pid > 0", res.started)
    check(res.started.run_id > 0, req, "started.run_id > 0", res.started)
    return res


def run_cmd(channel, stdin_chunks=(), eof=True, **start):
    run = Run(channel).start(**start)
    for c in stdin_chunks:
        run.stdin(c)
    if eof:
        run.eof()
    run.finish()
    return run


def ex(r):
    e = r.exited
    return "exited{exit_code=%d, signal=%d, timed_out=%s, core_dumped=%s}" % (
        e.exit_code, e.signal, e.timed_out, e.core_dumped) if e else "no exited"


def run_one(name, fn):
    """Runs one test, prints its PASS or FAIL line; True if it passed."""
    t0 = time.monotonic()
    try:
        fn()
    except Failure as e:
        print("FAIL %s (%.2fs): %s" % (name, time.monotonic() - t0, e))
        return False
    except Exception:
        print("FAIL %s (%.2fs): unexpected exception" % (name, time.monotonic() - t0))
        traceback.print_exc(file=sys.stdout)
        return False
    finally:
        sys.stdout.flush()
    print("PASS %s (%.2fs)" % (name, time.monotonic() - t0))
    sys.stdout.flush()
    return True


def setup_failed():
    """Reports an exception outside any test (setup, teardown); returns
    the one failure it counts as."""
    print("FAIL setup: unexpected exception")
    traceback.print_exc(file=sys.stdout)
    return 1


def summary(passed, failed, d):
    """Prints daemon @d's last log lines if anything failed, then the
    final "N passed, N failed" line; returns the exit status."""
    if failed and d:
        print("--- gexecd log (last lines):\n%s" % d.log_tail(40))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run_tests(tests, daemon, only=()):
    """Runs each t_* of @tests (those named in @only, if any), then stops
    @daemon with SIGTERM (which must exit 0). Returns (passed, failed)."""
    passed = failed = 0
    for t in tests:
        name = t.__name__[2:]
        if only and name not in only:
            continue
        if run_one(name, t):
            passed += 1
        else:
            failed += 1
    daemon.close_channels()
    rc = daemon.terminate()
    if rc != 0:
        failed += 1
        print("FAIL sigterm: gexecd exited with %s" % rc)
    return passed, failed


def socket_dir():
    """Directory for the unix sockets: $TEST_TMPDIR itself, or, when that
    path is too long for sun_path (108 bytes; Bazel's sandbox paths often
    are), a short symlink to it under /tmp. The sockets still live in
    $TEST_TMPDIR. Returns (dir, symlink to remove or None)."""
    if len(os.path.join(TMPDIR, "main.sock").encode()) <= 100:
        return TMPDIR, None
    link = os.path.join(tempfile.mkdtemp(prefix="gexec-interop-", dir="/tmp"), "t")
    os.symlink(TMPDIR, link)
    return link, link
