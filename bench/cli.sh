#!/usr/bin/env bash
# Benchmarks of the gexec CLI as a person runs it (whole processes), beside
# bench/run.sh (which drives the daemon through libgexec). Builds -c opt,
# starts a private gexecd on a unix socket in a temporary directory, and
# prints Markdown tables (progress on stderr). See docs/BENCHMARKS.md,
# "The gexec CLI".
#
#  latency     `gexec run -n -- true` from process start to exit, beside
#              `ssh user@127.0.0.1 true` through an open ControlMaster
#              connection to a private sshd, and beside spawning /bin/true
#              locally; interleaved (bench/cmd_time), p50 / p90.
#  throughput  1 GiB through the CLI: into a remote `wc -c` (stdin) and out
#              of a remote `head -c 1G /dev/zero` (stdout), beside a local
#              pipe and beside libgexec's own rates (gexec_bench §2 / §3),
#              interleaved round by round; medians in MB/s.
#
# Usage (as root: the latency part installs openssh-server if missing and
# creates a throwaway user):
#   bash bench/cli.sh [latency] [throughput]      (default: both)
# Environment:
#   BAZEL_OUTPUT_BASE  if set, passed as `bazel --output_base=...`
#   CLI_RUNS=100       latency runs per series (after 5 warm-up rounds)
#   TP_RUNS=5          throughput rounds
#   BEFORE_CLI=PATH    another gexec binary measured beside this one
#   KEEP_TMP=1         keep the temporary directory
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(latency throughput)
for p in "${PARTS[@]}"; do
  case $p in latency | throughput) ;; *)
    echo "usage: bash bench/cli.sh [latency] [throughput]" >&2
    exit 2
    ;;
  esac
done
CLI_RUNS=${CLI_RUNS:-100}
TP_RUNS=${TP_RUNS:-5}
GIB=1073741824

# shellcheck source=bench/build_lib.sh
source "$ROOT/bench/build_lib.sh"
bench_build cli.sh //server:gexecd //server:gexec-launch //bench:gexec_bench \
  //bench:cmd_time //client/cli:gexec
GEXECD=$BIN/server/gexecd
BENCH=$BIN/bench/gexec_bench
CMD_TIME=$BIN/bench/cmd_time
CLI=$BIN/client/cli/gexec
bench_need cli.sh "$GEXECD" "$BENCH" "$CMD_TIME" "$CLI"

# sun_path holds 107 bytes: keep the sockets under a short /tmp path.
TMP=$(mktemp -d /tmp/gexec-cli.XXXXXX)
SOCK=$TMP/gexecd.sock
DPID=
STATUS=1
# shellcheck source=bench/ssh_lib.sh
source "$ROOT/bench/ssh_lib.sh"

cleanup() {
  stop_ssh
  if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
    kill -TERM "$DPID"
    wait "$DPID" 2>/dev/null || true
  fi
  if [ "${KEEP_TMP:-0}" = 1 ] || [ "$STATUS" != 0 ]; then
    echo "cli.sh: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$GEXECD" --listen "unix:$SOCK" --instance "gexec-cli-$$" 2>"$TMP/gexecd.log" &
DPID=$!
for _ in $(seq 1 100); do
  [ -S "$SOCK" ] && break
  kill -0 "$DPID" 2>/dev/null || break
  sleep 0.1
done
if [ ! -S "$SOCK" ]; then
  echo "cli.sh: gexecd did not come up; its log:" >&2
  cat "$TMP/gexecd.log" >&2
  exit 1
fi
echo "cli.sh: gexecd pid $DPID on unix:$SOCK ($(nproc) CPUs," \
  "kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2

bench_latency() {
  setup_ssh
  SSH_CMD="ssh -F /dev/null -o ControlPath=$SSH_CM -p $SSH_PORT $SSH_DEST true"
  local series=("gexec run -n -- true=$CLI run -H unix:$SOCK -n -- true")
  if [ -n "${BEFORE_CLI:-}" ]; then
    series+=("gexec (BEFORE_CLI) run -n -- true=$BEFORE_CLI run -H unix:$SOCK -n -- true")
    series+=("gexec (BEFORE_CLI) --version=$BEFORE_CLI --version")
  fi
  series+=("gexec --version=$CLI --version" "local /bin/true=/bin/true"
    "ssh (ControlMaster) true=$SSH_CMD")
  echo
  echo "### Cold start: whole processes, interleaved, $CLI_RUNS runs each" \
    "after 5 warm-up rounds"
  echo
  echo "Timed from posix_spawn to waitpid, stdin and stdout on /dev/null." \
    "The ssh command is \`${SSH_CMD//$TMP/\$TMP}\`."
  echo
  "$CMD_TIME" -n "$CLI_RUNS" -w 5 "${series[@]}"
  stop_ssh
}

# Microseconds since the epoch (bash 5; no process started).
now_us() { echo "${EPOCHREALTIME/./}"; } # (in $(...): a subshell, no exec)

# 1 GiB into a remote `wc -c` through the CLI $2; the time goes to $TMP/tp
# as "$1_stdin MICROSECONDS"; the count wc prints is checked.
tp_stdin() {
  local t out
  t=$(now_us)
  out=$(head -c "$GIB" /dev/zero | "$2" run -H "unix:$SOCK" -- wc -c)
  [ "$out" = "$GIB" ] || { echo "cli.sh: remote wc -c said '$out'" >&2; return 1; }
  echo "$1_stdin $(($(now_us) - t))" >>"$TMP/tp"
}

# 1 GiB out of a remote `head -c` through the CLI $2, into /dev/null.
tp_stdout() {
  local t
  t=$(now_us)
  "$2" run -H "unix:$SOCK" -n -- head -c "$GIB" /dev/zero >/dev/null
  echo "$1_stdout $(($(now_us) - t))" >>"$TMP/tp"
}

# One round: the CLI's stdin and stdout (and BEFORE_CLI's), the local
# pipe, libgexec's §2/§3 (GB/s, from gexec_bench's table).
tp_round() {
  local t
  tp_stdin cli "$CLI"
  tp_stdout cli "$CLI"
  if [ -n "${BEFORE_CLI:-}" ]; then
    tp_stdin before "$BEFORE_CLI"
    tp_stdout before "$BEFORE_CLI"
  fi
  t=$(now_us)
  head -c "$GIB" /dev/zero | cat >/dev/null
  echo "local_pipe $(($(now_us) - t))" >>"$TMP/tp"
  "$BENCH" --target "unix:$SOCK" --sections 23 --bytes "$GIB" \
    2>/dev/null >"$TMP/bench.md"
  awk -F'|' '$2 ~ /^ 2 $/ && $3 ~ /stdout:/ {print "lib_stdout", $4}
             $2 ~ /^ 3 $/ && $3 ~ /stdin:/ {print "lib_stdin", $4}' \
    "$TMP/bench.md" | sed 's/ GB\/s//' >>"$TMP/tp"
}

bench_throughput() {
  : >"$TMP/tp"
  for r in $(seq 1 "$TP_RUNS"); do
    echo "cli.sh: throughput round $r of $TP_RUNS" >&2
    tp_round
  done
  echo
  echo "### Throughput: 1 GiB through the CLI, $TP_RUNS interleaved rounds," \
    "medians"
  echo
  /usr/bin/python3 - "$TMP/tp" "$GIB" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    rows.setdefault(k, []).append(float(v))
gib = int(sys.argv[2])
def mbps(k, v):  # µs for the CLI and the pipe, GB/s from gexec_bench
    return v * 1000 if k.startswith("lib_") else gib / v
def rate(k):
    return statistics.median(mbps(k, v) for v in rows[k])
pipe = rate("local_pipe")
print("| direction | CLI (whole process) | libgexec (gexec_bench) "
      "| CLI / libgexec | local pipe | CLI / local pipe |")
print("|---|---|---|---|---|---|")
for who in ("cli", "before"):
    for d, what in (
            ("stdin", "`head -c 1G /dev/zero \\| gexec run -- wc -c`"),
            ("stdout", "`gexec run -n -- head -c 1G /dev/zero >/dev/null`")):
        if who + "_" + d not in rows:
            continue
        c, l = rate(who + "_" + d), rate("lib_" + d)
        name = d + (" (BEFORE_CLI)" if who == "before" else "")
        print(f"| {name}: {what} | {c:.0f} MB/s | {l:.0f} MB/s "
              f"| {c / l:.2f}× | {pipe:.0f} MB/s | {c / pipe:.2f}× |")
print()
print("Rounds (MB/s): " + "; ".join(
    k + " " + ", ".join(
        f"{mbps(k, v):.0f}" for v in vs) for k, vs in rows.items()))
EOF
}

echo "## gexec CLI benchmarks ($(date -u +%Y-%m-%d), $(nproc) CPUs," \
  "load $(cut -d' ' -f1-3 /proc/loadavg))"
for p in "${PARTS[@]}"; do
  "bench_$p"
done
STATUS=0
