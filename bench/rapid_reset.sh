#!/usr/bin/env bash
# HTTP/2 rapid reset (CVE-2023-44487) against gexecd, issue 9's pass/fail
# beside the figures: C connections each sending N HEADERS+RST_STREAM
# pairs (tests/attack/rapid_reset.py) to the unix socket and to loopback
# TCP while a legitimate client runs `gexec run -H unix:... -- true` one
# after another. Builds -c opt and prints a Markdown table (progress on
# stderr): daemon RSS before / peak / after (MiB), daemon CPU during the
# attack (s), the attack's length (s), how many attacking connections the
# daemon closed, the legit runs' count, p50 and p99 (ms), and PASS/FAIL
# (RSS growth < 200 MiB and p99 < 1 s). See docs/BENCHMARKS.md.
#
# Usage:
#   bash bench/rapid_reset.sh
# Environment:
#   BAZEL_OUTPUT_BASE  if set, passed as `bazel --output_base=...`
#   CONNS=4 PAIRS=100000  the attack
#   ROUNDS=3           measurements per row (each row prints the median
#                      round by legit p99, and the worst)
#   BEFORE_GEXECD=PATH another gexecd (e.g. built from main: no guard)
#                      measured in the same way, rows marked "before"
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CONNS=${CONNS:-4}
PAIRS=${PAIRS:-100000}
ROUNDS=${ROUNDS:-3}

BAZEL=(bazel)
if [ -n "${BAZEL_OUTPUT_BASE:-}" ]; then
  BAZEL+=("--output_base=$BAZEL_OUTPUT_BASE")
fi
FLAGS=(-c opt --symlink_prefix=/)

echo "rapid_reset.sh: building (bazel build ${FLAGS[*]})" >&2
"${BAZEL[@]}" build "${FLAGS[@]}" //server:gexecd //server:gexec-launch \
  //client/cli:gexec 2> >(grep -v 'linux-sandbox' >&2)
BIN=$("${BAZEL[@]}" info "${FLAGS[@]}" bazel-bin 2>/dev/null)
GEXECD=$BIN/server/gexecd
CLI=$BIN/client/cli/gexec

# One row: the median (by legit p99) and the worst of ROUNDS rounds.
row() { # label gexecd listener
  local label=$1 daemon=$2 listener=$3 i
  local out
  out=$(mktemp /tmp/gexec-rr.XXXXXX)
  for i in $(seq 1 "$ROUNDS"); do
    echo "rapid_reset.sh: $label, $listener, round $i of $ROUNDS" >&2
    /usr/bin/python3 "$ROOT/bench/rapid_reset_measure.py" --gexecd "$daemon" \
      --gexec "$CLI" --listener "$listener" \
      -c "$CONNS" -n "$PAIRS" --attack-timeout 300 >>"$out"
  done
  /usr/bin/python3 - "$label" "$listener" "$out" <<'EOF'
import json, sys
label, listener, path = sys.argv[1:4]
rs = sorted((json.loads(l) for l in open(path)),
            key=lambda r: r["legit_p99_ms"] or 1e9)
def cells(r):
    closed = sum(1 for c in r["attack"].get("connections", [])
                 if c.get("server_closed"))
    ok = (r["rss_peak_mib"] - r["rss_before_mib"] < 200 and
          (r["legit_p99_ms"] or 1e9) < 1000 and not r["legit_failed_n"])
    return "%.0f / %.0f / %.0f | %.1f | %.1f | %d of %d | %d%s | %s / %s | %s" % (
        r["rss_before_mib"], r["rss_peak_mib"], r["rss_after_mib"],
        r["daemon_cpu_s"], r["attack_wall_s"], closed,
        len(r["attack"].get("connections", [])), r["legit_runs"],
        " (%d failed)" % r["legit_failed_n"] if r["legit_failed_n"] else "",
        r["legit_p50_ms"], r["legit_p99_ms"], "PASS" if ok else "FAIL")
print("| %s | %s | median | %s |" % (label, listener, cells(rs[len(rs) // 2])))
print("| %s | %s | worst | %s |" % (label, listener, cells(rs[-1])))
EOF
  rm -f "$out"
}

echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $CONNS connections x $PAIRS pairs; $ROUNDS rounds per row"
echo
echo "| gexecd | listener | round | RSS MiB before / peak / after | daemon CPU s | attack s | attackers closed | legit runs | legit p50 / p99 ms | < 200 MiB, p99 < 1 s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for l in unix tcp; do
  if [ -n "${BEFORE_GEXECD:-}" ]; then row before "$BEFORE_GEXECD" "$l"; fi
  row guard "$GEXECD" "$l"
done
