#!/usr/bin/env bash
# Builds gexecd, gexec-launch and gexec_bench (-c opt), starts a private gexecd on a unix
# socket in a temporary directory, runs the benchmark against it, stops the
# daemon with SIGTERM and prints the results. See docs/BENCHMARKS.md.
#
# Usage (from anywhere, typically the repository root):
#   bash bench/run.sh [gexec_bench options...]     e.g. --iterations 100
#   bash bench/run.sh --sections 6                 the soak (§6)
# Environment:
#   BAZEL_OUTPUT_BASE  if set, passed as `bazel --output_base=...`
#   KEEP_TMP=1         keep the temporary directory (daemon log, results)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

# shellcheck source=bench/build_lib.sh
source "$ROOT/bench/build_lib.sh"
bench_build run.sh //server:gexecd //server:gexec-launch //bench:gexec_bench \
  //client/cli:gexec
GEXECD=$BIN/server/gexecd
LAUNCHER=$BIN/server/gexec-launch # gexecd uses the one beside it; §5 runs it locally too
BENCH=$BIN/bench/gexec_bench
CLI=$BIN/client/cli/gexec # §6 kills clients: real processes
INSTANCE=gexec-bench-$$
bench_need run.sh "$GEXECD" "$LAUNCHER" "$BENCH" "$CLI"

# sun_path holds 107 bytes: keep the socket under a short /tmp path.
TMP=$(mktemp -d /tmp/gexec-bench.XXXXXX)
SOCK=$TMP/gexecd.sock
LOG=$TMP/gexecd.log
RESULTS=$TMP/results.md
DPID=

stop_daemon() {
  [ -n "$DPID" ] || return 0
  if kill -0 "$DPID" 2>/dev/null; then
    kill -TERM "$DPID"
    for _ in $(seq 1 150); do # drain: up to 15 s, then SIGKILL
      kill -0 "$DPID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$DPID" 2>/dev/null; then
      echo "run.sh: gexecd $DPID did not stop on SIGTERM; killing" >&2
      kill -KILL "$DPID" 2>/dev/null || true
    fi
  fi
  wait "$DPID" 2>/dev/null && DSTATUS=0 || DSTATUS=$?
  DPID=
}

cleanup() {
  stop_daemon
  if [ "${KEEP_TMP:-0}" = 1 ] || [ "${BENCH_STATUS:-1}" != 0 ]; then
    echo "run.sh: kept $TMP (gexecd.log, results.md)" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1000 sessions need ~2000 pipe fds in the daemon; match the systemd unit
# (LimitNOFILE=65536) as far as the hard limit allows.
HARD=$(ulimit -Hn)
if [ "$HARD" = unlimited ] || [ "$HARD" -ge 65536 ]; then
  ulimit -n 65536
else
  ulimit -n "$HARD"
fi

"$GEXECD" --listen "unix:$SOCK" --max-sessions 1024 --instance "$INSTANCE" \
  2>"$LOG" &
DPID=$!
for _ in $(seq 1 100); do
  [ -S "$SOCK" ] && break
  kill -0 "$DPID" 2>/dev/null || break
  sleep 0.1
done
if [ ! -S "$SOCK" ]; then
  echo "run.sh: gexecd did not come up; its log:" >&2
  cat "$LOG" >&2
  exit 1
fi

# §7's second daemon: exec per run, side by side with the fork server
"$GEXECD" --listen "unix:$TMP/exec.sock" --max-sessions 1024 \
  --instance "$INSTANCE-exec" --launch-mode exec 2>"$TMP/exec.log" &
XPID=$!
for _ in $(seq 1 100); do
  [ -S "$TMP/exec.sock" ] && break
  sleep 0.1
done

echo "run.sh: gexecd pid $DPID on unix:$SOCK (ulimit -n $(ulimit -n)," \
  "$(nproc) CPUs, kernel $(uname -r))" >&2
BENCH_STATUS=0
# A bound on a hung run; §1-5 take about a minute, the §6 soak minutes.
timeout 3600 "$BENCH" --target "unix:$SOCK" --daemon-pid "$DPID" \
  --launcher "$LAUNCHER" --cli "$CLI" --instance "$INSTANCE" \
  --exec-target "unix:$TMP/exec.sock" --exec-daemon-pid "$XPID" "$@" \
  >"$RESULTS" || BENCH_STATUS=$?
kill -TERM "$XPID" 2>/dev/null && wait "$XPID" 2>/dev/null || true
stop_daemon

cat "$RESULTS"
echo
echo "gexecd: exit status $DSTATUS after SIGTERM;" \
  "$(wc -l <"$LOG") log lines; $(grep -c '"level":"warn"\|"level":"error"' \
  "$LOG" || true) at warn/error"
[ "$DSTATUS" = 0 ] || BENCH_STATUS=1
exit "$BENCH_STATUS"
