#!/usr/bin/env bash
# How long a run outlives a SIGKILLed gexecd (docs/BENCHMARKS.md §6).
#
# Starts a private gexecd, starts RUNS runs spread over the three profiles
# (each `sh -c 'setsid sleep X.5 & sleep X.6'`: a process that left the
# run's process group and session, and one that did not), waits until all
# of them exist, SIGKILLs the daemon and measures the time until no
# process of any run is left on the host, and whether any run cgroup of
# the daemon's instance is left. Prints one line per repetition.
#
# Usage: bash bench/death.sh [RUNS] [REPETITIONS]     (default 30 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-30}
REPS=${2:-5}
bash deploy/install-deps.sh
FLAGS=(-c opt --symlink_prefix=/)
bazel build "${FLAGS[@]}" //server:gexecd //server:gexec-launch \
  //client/cli:gexec 2> >(grep -v 'linux-sandbox' >&2)
BIN=$(bazel info "${FLAGS[@]}" bazel-bin 2>/dev/null)
TMP=$(mktemp -d /tmp/gexec-death.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PROFILES=(host baseline restricted)
MARK=$((70000 + $$ % 10000))

gone() { ! pgrep -f "^sleep $MARK\\.[56]\$" >/dev/null; }

for rep in $(seq 1 "$REPS"); do
  INST=gexec-death-$$-$rep
  "$BIN/server/gexecd" --listen "unix:$TMP/s.sock" --instance "$INST" \
    2>"$TMP/log" &
  D=$!
  disown "$D" # no job report when it is SIGKILLed below
  for _ in $(seq 1 100); do [ -S "$TMP/s.sock" ] && break; sleep 0.1; done
  for i in $(seq 1 "$RUNS"); do
    "$BIN/client/cli/gexec" run -H "unix:$TMP/s.sock" -n \
      --profile "${PROFILES[$((i % 3))]}" -- \
      sh -c "setsid sleep $MARK.5 & sleep $MARK.6" >/dev/null 2>&1 &
  done
  for _ in $(seq 1 300); do
    [ "$(pgrep -fc "^sleep $MARK\\.[56]\$" || true)" -ge $((2 * RUNS)) ] && break
    sleep 0.05
  done
  n=$(pgrep -fc "^sleep $MARK\\.[56]\$" || true)
  t0=$(date +%s%N)
  kill -9 "$D"
  until gone; do sleep 0.002; done
  t1=$(date +%s%N)
  while kill -0 "$D" 2>/dev/null; do sleep 0.01; done
  sleep 0.2
  left=$(find /sys/fs/cgroup -maxdepth 4 -path "*/gexec/$INST*" 2>/dev/null | wc -l)
  echo "repetition $rep: $n run processes ($RUNS runs), all gone $(( (t1 - t0) / 1000000 )) ms after SIGKILL of gexecd; cgroup dirs of the instance left: $left"
  wait 2>/dev/null || true
  rm -f "$TMP/s.sock"
done
