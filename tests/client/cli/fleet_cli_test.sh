#!/bin/bash
# The fleet CLI (gexec run -w) against targets on this machine that need
# no daemon: loopback addresses on port 1 refuse the connection at once.
# Each case checks exact bytes (summary lines, files) and the exit status.
# Prints a TAP-like line per check and "N passed, N failed".
set -uo pipefail
gexec="${TEST_SRCDIR:?run me through bazel test}/gexec/client/cli/gexec"
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/fleet_cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "$TEST_SRCDIR/gexec/tests/client/cli/tap.sh"

# --outdir: each host's files are closed when it ends, so a fleet far
# larger than RLIMIT_NOFILE / 2 writes every host's files (it used to
# keep 2 descriptors per host until the whole run ended: "Too many open
# files" from the 27th host on with 64 descriptors).
t_outdir_fds() {
  local err rc
  err=$(ulimit -n 64 && "$gexec" run -f 8 -w '127.0.0.[1-150]:1' \
          --outdir "$tmp/out" true 2>&1 >/dev/null)
  rc=$?
  check "outdir: exit 255 (unreachable)" 255 "$rc"
  check "outdir: summary, no descriptor ran out" \
    "gexec: 127.0.0.[1-150]:1: unreachable (connection refused)
gexec: 150 hosts: 0 ok, 0 failed, 0 timed out, 150 unreachable, 0 refused" \
    "$err"
  check "outdir: a T.json a host (none ran: no T.out, T.err)" 150 \
    "$(ls "$tmp/out" | wc -l)"
  check "outdir: the last host's JSON names it" 1 \
    "$(grep -c '"target":"127.0.0.150:1"' "$tmp/out/127.0.0.150_1.json")"
}

# --outdir: two targets with the same file stem are a usage error before
# anything runs (the second host's files overwrote the first's).
t_outdir_clash() {
  local err rc
  err=$("$gexec" run -w 'unix:/nonexistent/x_y,unix:/nonexistent/x/y' \
          --outdir "$tmp/clash" true 2>&1 >/dev/null)
  rc=$?
  check "outdir clash: exit 2" 2 "$rc"
  check "outdir clash: names both targets" \
    "gexec: --outdir: targets 'unix:/nonexistent/x_y' and 'unix:/nonexistent/x/y' would both write unix__nonexistent_x_y.out, .err and .json" \
    "$err"
  check "outdir clash: nothing made" no "$([ -e "$tmp/clash" ] && echo yes || echo no)"
}

# A daemon that takes the call and never answers (a grpcio server whose
# Run handler sleeps) ends as failed GXC_FLEET_LATE_MS (10 s) after the
# run's timeout (-t 1), plus the kill grace, without --deadline: it used
# to hold the fleet run forever.
t_silent_daemon() {
  cat >"$tmp/stall.py" <<'PY'
import sys, time
from concurrent import futures
import grpc
def run(requests, ctx):
    time.sleep(60)
    return iter(())
h = grpc.method_handlers_generic_handler(
    "gexec.v1.Exec", {"Run": grpc.stream_stream_rpc_method_handler(run)})
s = grpc.server(futures.ThreadPoolExecutor(4))
s.add_generic_rpc_handlers((h,))
print(s.add_insecure_port("127.0.0.1:0"), flush=True)
s.start()
sys.stdin.read()  # until the test closes our stdin
PY
  local port err rc t0 t1
  coproc STALL { /usr/bin/python3 "$tmp/stall.py"; }
  read -r port <&"${STALL[0]}"
  t0=$(date +%s)
  err=$(timeout 40 "$gexec" run -w "127.0.0.1:$port" -t 1 --kill-grace 100ms \
          true 2>&1 >/dev/null)
  rc=$?
  t1=$(date +%s)
  exec {STALL[1]}>&-
  wait "$STALL_PID" 2>/dev/null
  check "silent daemon: exit 255, not held forever" 255 "$rc"
  check "silent daemon: summary" \
    "gexec: 127.0.0.1:$port: failed: no answer from the daemon after the run's timeout: cancelled
gexec: 1 host: 0 ok, 1 failed, 0 timed out, 0 unreachable, 0 refused" "$err"
  # not before -t + GXC_FLEET_LATE_MS (11 s); the upper bound only says
  # "not held until timeout(1)'s 40 s" (sanitizer builds are slow)
  check "silent daemon: ended 11-35 s after the start" yes \
    "$([ $((t1 - t0)) -ge 11 ] && [ $((t1 - t0)) -le 35 ] && echo yes ||
       echo "no: $((t1 - t0)) s")"
}

t_outdir_fds
t_outdir_clash
t_silent_daemon
tap_end
