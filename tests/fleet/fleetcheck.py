"""The fleet tests' common runner: one shared Fleet per test file, one
line per test ("PASS name" / "FAIL name" with request, expected and
actual), "N passed, N failed" at the end, and exit 1 on any failure or
when the fleet left a namespace or its directory behind.

    def t_something(fleet): check(cond, request, expected, actual)
    sys.exit(fleetcheck.main(16, [t_something, ...]))
"""

import os
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hosts  # noqa: E402


class Failure(AssertionError):
    pass


def check(cond, request, expected, actual):
    """Raises Failure (what was asked, wanted and got) unless cond."""
    if not cond:
        raise Failure("\n    request:  %s\n    expected: %s\n    actual:   %s"
                      % (request, expected, actual))


def lines(data):
    """bytes -> list of str lines (without their newlines)."""
    return data.decode("utf-8", "replace").splitlines()


def summary_lines(stderr):
    """The 'gexec: ...' lines of a fleet run's stderr, in order."""
    return [ln for ln in lines(stderr) if ln.startswith("gexec: ")]


def _cleanup_ok(fleet):
    left = subprocess.run(["ip", "netns", "list"], capture_output=True,
                          text=True).stdout
    mine = [ln for ln in left.splitlines() if ln.startswith(fleet.prefix + "-")]
    return not mine and not os.path.exists(fleet.dir)


def main(n, tests):
    """Starts an n-host Fleet, runs each test(fleet) in order, stops the
    fleet; returns the exit status (0: all passed)."""
    passed = failed = 0
    t0 = time.monotonic()
    fleet = hosts.Fleet(n)
    try:
        fleet.start()
        print("    (%d hosts up in %.1f s)" % (n, time.monotonic() - t0), flush=True)
        for t in tests:
            t1 = time.monotonic()
            try:
                t(fleet)
                print("PASS %s (%.1f s)" % (t.__name__, time.monotonic() - t1), flush=True)
                passed += 1
            except (Failure, subprocess.TimeoutExpired) as e:
                print("FAIL %s%s" % (t.__name__, e), flush=True)
                failed += 1
            except Exception:  # a broken test fails, the others still run
                print("FAIL %s\n%s" % (t.__name__, traceback.format_exc()), flush=True)
                failed += 1
    finally:
        fleet.stop()
    if not _cleanup_ok(fleet):
        print("FAIL cleanup: namespaces or %s left" % fleet.dir)
        failed += 1
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0
