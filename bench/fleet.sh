#!/usr/bin/env bash
# Fleet benchmark (issue 10): one command on 64 and 256 namespace hosts
# (deploy/fleet-hosts.sh --sshd: a gexecd with mTLS and an sshd per host),
# gexec fleet mode beside the anchors pdsh and ClusterShell over ssh,
# against the same hosts in the same run. Prints Markdown tables (progress
# on stderr): the median wall time of FLEET_RUNS runs per row, the rows of
# one size interleaved run by run; then one extra run per row under
# bench/proc_peak.py for the client's peak threads and RSS.
#
# Rows (each checks that every host answered, else the row is FAILED):
#   pdsh        pdsh -R ssh -f 32 -w node[...] uname -n
#   clush       clush -f 64 -w node[...] uname -n
#   gexec       gexec run -w node[...] -- uname -n     (only when
#               `gexec run --help` mentions -w)
#   clush facts clush -f 64 -w node[...] 'uname -a; cat /etc/os-release
#               /etc/machine-id /proc/loadavg /proc/uptime /proc/meminfo
#               /proc/cpuinfo; df -P; ip -o addr'
#   gexec facts gexec facts -w node[...] --json   (only when
#               `gexec facts --help` exists and mentions -w)
# ssh logs in as the user gxfleet, whose shell (/bin/sh) reads no start-up
# file (shared/notes/fleet-testing.md: root's .bashrc costs 180 ms).
#
# Usage (as root; installs pdsh and clustershell with apt-get if missing:
# bench-only tools, not CI dependencies):
#   bash bench/fleet.sh
# Environment:
#   FLEET_SIZES="64 256"  host counts
#   FLEET_RUNS=5          runs per row (median)
#   FLEET_WARMUP=1        untimed runs per row first (0: none)
#   GEXECD, GEXEC         binaries (default: bazel build -c opt)
#   BAZEL_OUTPUT_BASE     if set, passed as `bazel --output_base=...`
#   KEEP_HOSTS=1          leave the last hosts running (stop them with
#                         deploy/fleet-hosts.sh stop --dir /tmp/gexec-fleet-bench)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SIZES=${FLEET_SIZES:-64 256}
RUNS=${FLEET_RUNS:-5}
DIR=/tmp/gexec-fleet-bench
PREFIX=gxb
FACTS_CMD='uname -a; cat /etc/os-release /etc/machine-id /proc/loadavg /proc/uptime /proc/meminfo /proc/cpuinfo; df -P; ip -o addr'

say() { echo "fleet-bench: $*" >&2; }

[[ $(id -u) -eq 0 ]] || { say "needs root"; exit 2; }

install_anchors() {
  command -v pdsh >/dev/null && command -v clush >/dev/null && return 0
  say "installing pdsh and clustershell (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q pdsh clustershell >&2
}

build() {
  [[ -n "${GEXECD:-}" && -n "${GEXEC:-}" ]] && return 0
  local bz=(bazel)
  [[ -n "${BAZEL_OUTPUT_BASE:-}" ]] && bz+=(--output_base="$BAZEL_OUTPUT_BASE")
  say "building gexecd and gexec (-c opt)"
  "${bz[@]}" build -c opt //server:gexecd //client/cli:gexec 2>&1 |
    grep -E 'ERROR|error:' >&2 || true
  local bin
  bin=$("${bz[@]}" info -c opt bazel-bin 2>/dev/null)
  GEXECD=$bin/server/gexecd GEXEC=$bin/client/cli/gexec
  export GEXECD GEXEC
}

cleanup() {
  [[ -n "${KEEP_HOSTS:-}" ]] || bash "$ROOT/deploy/fleet-hosts.sh" stop --dir "$DIR" 2>/dev/null || true
  rm -rf "${OUT:-}"
}

# ----------------------------------------------------------------- rows

# argv_ROW: sets ARGV to the row's command, run in the client's namespace
# (its /etc/hosts names the hosts; ip and env exec, so the client process
# keeps the pid: bench/proc_peak.py measures the client itself)
C_NS() { ARGV=(ip netns exec "$PREFIX-c" "$@"); }
TLS() { echo --ca "$DIR/ca.pem" --cert "$DIR/client.pem" --key "$DIR/client.key"; }
argv_pdsh() {
  C_NS env PDSH_SSH_ARGS="-F $DIR/ssh/config -a -x -l%u %h" \
    pdsh -R ssh -f 32 -w "$NODES" uname -n
}
argv_clush() { C_NS clush -f 64 -o "-F $DIR/ssh/config" -w "$NODES" uname -n; }
# shellcheck disable=SC2046 # TLS: paths without spaces
argv_gexec() { C_NS "$GEXEC" run -w "$NODES" $(TLS) -- uname -n; }
argv_clush_facts() { C_NS clush -f 64 -o "-F $DIR/ssh/config" -w "$NODES" "$FACTS_CMD"; }
# shellcheck disable=SC2046
argv_gexec_facts() { C_NS "$GEXEC" facts -w "$NODES" --json $(TLS); }

# check ROW FILE: every host named in the output (uname -n: every host's
# own name; facts: each host's prefix)
check_out() {
  local n
  n=$(grep -oE 'node[0-9]+' "$2" | sort -u | wc -l)
  [[ "$n" -eq "$N" ]] || { say "$1: $n of $N hosts in its output"; return 1; }
}

# time_row ROW: runs it once; prints its wall time in seconds (or FAILED)
time_row() {
  local t0 t1 rc=0
  "argv_$1"
  t0=$(date +%s%N)
  "${ARGV[@]}" >"$OUT/$1.out" 2>"$OUT/$1.err" || rc=$?
  t1=$(date +%s%N)
  if [[ $rc -ne 0 ]] || ! check_out "$1" "$OUT/$1.out"; then
    say "$1: exit $rc; stderr: $(head -c 300 "$OUT/$1.err")"
    echo FAILED
    return 0
  fi
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0 || v[1] == "FAILED") { print "FAILED"; exit }
  print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

rows() {
  ROWS=(pdsh clush)
  # the help text is read whole first: grep -q closing the pipe early
  # would kill gexec with SIGPIPE and, under pipefail, drop the row
  local help
  help=$("$GEXEC" run --help 2>&1)
  grep -qE '(^|[ ,])-w[ ,]' <<<"$help" && ROWS+=(gexec)
  ROWS+=(clush_facts)
  help=$("$GEXEC" facts --help 2>&1)
  grep -qE '(^|[ ,])-w[ ,]' <<<"$help" && ROWS+=(gexec_facts)
  return 0
}

bench_size() {
  N=$1
  local t0=$SECONDS r row
  say "starting $N hosts with sshd"
  bash "$ROOT/deploy/fleet-hosts.sh" start "$N" --dir "$DIR" --prefix "$PREFIX" --sshd >/dev/null
  say "$N hosts up in $((SECONDS - t0)) s"
  NODES="node[$(head -n1 "$DIR/nodes" | cut -c5-)-$(tail -n1 "$DIR/nodes" | cut -c5-)]"
  for row in "${ROWS[@]}"; do
    : > "$OUT/$row.times"
    for r in $(seq 1 "${FLEET_WARMUP:-1}"); do time_row "$row" >/dev/null; done
  done
  for r in $(seq 1 "$RUNS"); do
    for row in "${ROWS[@]}"; do time_row "$row" >> "$OUT/$row.times"; done
    say "$N hosts: run $r of $RUNS"
  done
  for row in "${ROWS[@]}"; do
    "argv_$row"
    python3 "$ROOT/bench/proc_peak.py" --out "$OUT/$row.peak" -- "${ARGV[@]}" \
      >/dev/null 2>&1 || true
    printf '| %s | %s | %s | %s | %s |\n' "$N" "${row//_/ }" \
      "$(median < "$OUT/$row.times")" "$(tr '\n' ' ' < "$OUT/$row.times")" \
      "$(cat "$OUT/$row.peak" 2>/dev/null | tr -d '\n')"
  done
}

main() {
  install_anchors
  build
  OUT=$(mktemp -d /tmp/fleet-bench.XXXXXX)
  trap cleanup EXIT
  rows
  echo "Fleet: \`uname -n\` and facts on namespace hosts; median of $RUNS runs"
  echo "(seconds; rows interleaved run by run); client cost of one more run"
  echo "(bench/proc_peak.py: threads and rss_kb of the client process itself,"
  echo "tree_* of it and everything it forked: ssh per host for pdsh/clush)."
  echo
  echo "| hosts | client | median s | runs | client cost |"
  echo "|---|---|---|---|---|"
  for n in $SIZES; do bench_size "$n"; done
}

main
