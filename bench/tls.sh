#!/usr/bin/env bash
# What mutual TLS costs, in one run, beside plaintext and beside ssh
# (issue 9). Builds -c opt; in a fresh /tmp/gexec-tls.XXXXXX it makes a CA,
# a server certificate (SAN 127.0.0.1) and a client certificate (CN=carol)
# with openssl (tests/tls/mkcerts.sh), writes a policy, and starts
#   gexecd A: --listen unix:$TMP/a.sock --listen 127.0.0.1:0 (plaintext)
#   gexecd B: --listen 127.0.0.1:0 --tls-cert --tls-key --tls-client-ca (mTLS)
# both with --policy $TMP/policy.json, and a private sshd for a throwaway
# user (bench/ssh_lib.sh) whose clients all use -c aes128-gcm@openssh.com.
# Prints Markdown (progress on stderr). See docs/BENCHMARKS.md, "mTLS".
#
#  latency     cold `gexec run -n -- true` (whole process, connection and
#              handshake included) over the unix socket, plaintext TCP and
#              mTLS, beside a fresh `ssh USER@127.0.0.1 true`, ssh through
#              an open ControlMaster, and a local /bin/true; interleaved
#              (bench/cmd_time), p50 / p90.
#  rtt         warm round trip of /bin/true (gexec_run) and of a ping over
#              one open connection each: unix, mTLS, plaintext TCP;
#              interleaved (bench/rtt), p50 / p90 / p99.
#  throughput  1 GiB out of a remote `head -c 1G /dev/zero` into the CLI's
#              stdout (/dev/null) and 1 GiB from a pipe into the CLI's
#              stdin to a remote `sh -c 'cat >/dev/null'`, over unix,
#              plaintext TCP, mTLS and ssh; interleaved (cmd_time -s),
#              MB/s at the median; target: mTLS >= 600 MB/s both ways.
#  cpu         the CPU that 1 GiB each way costs over unix, plaintext TCP
#              and mTLS: the client side (the whole `sh -c` pipeline: CLI,
#              local head, sh; bash's `time`) and gexecd (all its threads,
#              /proc/PID/stat), the remote head / cat excluded; medians.
#
# Usage (as root: installs openssh-server if missing, adds a user):
#   bash bench/tls.sh [latency] [rtt] [throughput] [cpu]   (default: all)
# Environment:
#   BAZEL_OUTPUT_BASE  if set, passed as `bazel --output_base=...`
#   CLI_RUNS=100       latency runs per series (after 5 warm-up rounds)
#   RTT_RUNS=1000      round trips per series (after 50 warm-up rounds)
#   TP_RUNS=5          throughput runs per series (after 1 warm-up round)
#   CPU_RUNS=3         cpu rounds
#   BEFORE_CLI=PATH    another gexec binary: its mTLS throughput is
#                      measured beside this one (replaces the unix series)
#   KEEP_TMP=1         keep the temporary directory (logs, certificates)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(latency rtt throughput cpu)
for p in "${PARTS[@]}"; do
  case $p in latency | rtt | throughput | cpu) ;; *)
    echo "usage: bash bench/tls.sh [latency] [rtt] [throughput] [cpu]" >&2
    exit 2
    ;;
  esac
done
CLI_RUNS=${CLI_RUNS:-100}
RTT_RUNS=${RTT_RUNS:-1000}
TP_RUNS=${TP_RUNS:-5}
CPU_RUNS=${CPU_RUNS:-3}
GIB=1073741824
SSH_CIPHER=aes128-gcm@openssh.com

# shellcheck source=bench/build_lib.sh
source "$ROOT/bench/build_lib.sh"
bench_build tls.sh //server:gexecd //server:gexec-launch //bench:cmd_time \
  //bench:rtt //client/cli:gexec
GEXECD=$BIN/server/gexecd
CMD_TIME=$BIN/bench/cmd_time
RTT=$BIN/bench/rtt
CLI=$BIN/client/cli/gexec
bench_need tls.sh "$GEXECD" "$CMD_TIME" "$RTT" "$CLI"

# sun_path holds 107 bytes: keep the sockets under a short /tmp path.
TMP=$(mktemp -d /tmp/gexec-tls.XXXXXX)
DPIDS=()
STATUS=1
# shellcheck source=bench/ssh_lib.sh
source "$ROOT/bench/ssh_lib.sh"

cleanup() {
  stop_ssh
  local p
  for p in "${DPIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p"
      wait "$p" 2>/dev/null || true
    fi
  done
  if [ "${KEEP_TMP:-0}" = 1 ] || [ "$STATUS" != 0 ]; then
    echo "tls.sh: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts gexecd with the arguments after $1 (its log: $TMP/$1.log) and
# waits until it is ready. With a TCP listener, sets PORT to its port.
start_daemon() {
  local name=$1 log=$TMP/$1.log
  shift
  "$GEXECD" --instance "gexec-tls-$$-$name" "$@" 2>"$log" &
  DPIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q 'gexecd ready' "$log" && break
    kill -0 "${DPIDS[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q 'gexecd ready' "$log"; then
    echo "tls.sh: gexecd $name did not come up; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  PORT=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$log")
}

sh "$ROOT/tests/tls/mkcerts.sh" "$TMP/pki"
CA=$TMP/pki/ca.pem
TLS_FLAGS="--ca $CA --cert $TMP/pki/client-cn.pem --key $TMP/pki/client-cn.key"
cat >"$TMP/policy.json" <<'EOF'
{"rules": [
  {"name": "root", "match": {"uid": 0}, "allow": {}},
  {"name": "loopback", "match": {"anonymous_loopback": true}, "allow": {}},
  {"name": "bench", "match": {"cn": "carol"}, "allow": {}}
]}
EOF
SOCK=$TMP/a.sock
start_daemon a --listen "unix:$SOCK" --listen 127.0.0.1:0 \
  --policy "$TMP/policy.json"
TCP=127.0.0.1:$PORT
start_daemon b --listen 127.0.0.1:0 --tls-cert "$TMP/pki/server.pem" \
  --tls-key "$TMP/pki/server.key" --tls-client-ca "$CA" \
  --policy "$TMP/policy.json"
MTLS=127.0.0.1:$PORT
echo "tls.sh: gexecd A (unix:$SOCK, plaintext $TCP) and B (mTLS $MTLS);" \
  "$(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# $1 with $TMP written as $TMP, for the docs.
tmp_var() { echo "${1//$TMP/\$TMP}"; }

# The gexec commands of every part: "gexec run -H TARGET [TLS flags]".
gexec_unix="$CLI run -H unix:$SOCK"
gexec_tcp="$CLI run -H $TCP"
gexec_mtls="$CLI run -H $MTLS $TLS_FLAGS"

# ssh on a fresh connection (no ControlMaster), as a command line.
fresh_ssh() {
  echo "ssh ${SSH_OPTS[*]} -o ControlMaster=no -o ControlPath=none $SSH_DEST"
}

bench_latency() {
  local fresh
  fresh=$(fresh_ssh)
  local cm="ssh -F /dev/null -o ControlPath=$SSH_CM -p $SSH_PORT $SSH_DEST"
  echo
  echo "### Cold start: whole processes, interleaved, $CLI_RUNS runs each" \
    "after 5 warm-up rounds"
  echo
  echo "Timed from posix_spawn to waitpid (bench/cmd_time), stdin and" \
    "stdout on /dev/null. mTLS: \`$(tmp_var "$gexec_mtls") -n -- true\`;" \
    "fresh ssh: \`$(tmp_var "$fresh") true\`."
  echo
  "$CMD_TIME" -n "$CLI_RUNS" -w 5 \
    "gexec unix=$gexec_unix -n -- true" \
    "gexec plaintext TCP=$gexec_tcp -n -- true" \
    "gexec mTLS=$gexec_mtls -n -- true" \
    "ssh -c aes128-gcm (fresh)=$fresh true" \
    "local /bin/true=/bin/true" \
    "ssh (ControlMaster)=$cm true"
}

bench_rtt() {
  echo
  echo "### Warm round trip: one open connection per series, interleaved," \
    "$RTT_RUNS rounds after 50 warm-up"
  echo
  echo "bench/rtt: \`gexec_run\` of /bin/true (stdin_null, default profile)" \
    "and \`gexec_ping\`, each timed from the call to its return."
  echo
  # shellcheck disable=SC2086 # TLS_FLAGS: words
  "$RTT" -n "$RTT_RUNS" -w 50 $TLS_FLAGS "unix=unix:$SOCK" \
    "mTLS=tls:$MTLS" "plaintext TCP=$TCP"
}

# Counts the runs in daemon log $1 whose line matches $2 and moved a GiB
# in field $3 ("bytes_in" or "bytes_out"), and those that did not.
check_bytes() {
  local ok bad
  ok=$(grep "$2" "$1" | grep -Ec "\"$3\":${GIB}[,}]" || true)
  bad=$(grep "$2" "$1" | grep -Evc "\"$3\":${GIB}[,}]" || true)
  echo "$ok $bad"
}

bench_throughput() {
  local ssh
  ssh=$(fresh_ssh)
  local src="head -c $GIB /dev/zero" sink="'cat >/dev/null'"
  local first=("unix" "$gexec_unix")
  if [ -n "${BEFORE_CLI:-}" ]; then
    first=("mTLS (BEFORE_CLI)" "$BEFORE_CLI run -H $MTLS $TLS_FLAGS")
  fi
  echo
  echo "### Throughput: 1 GiB each way, interleaved, $TP_RUNS runs each" \
    "after 1 warm-up round"
  echo
  echo "Each series through \`/bin/sh -c\` (bench/cmd_time -s -b $GIB):" \
    "stdout \`gexec run -H T -n -- $src >/dev/null\`, stdin" \
    "\`$src | gexec run -H T -- sh -c $sink\`; ssh: \`ssh -c" \
    "aes128-gcm@openssh.com … '$src' >/dev/null\` and" \
    "\`$src | ssh -c aes128-gcm@openssh.com … $sink\` (fresh" \
    "connections). MB/s = 10^6 bytes / s at the median time."
  echo
  "$CMD_TIME" -s -b "$GIB" -n "$TP_RUNS" -w 1 \
    "stdout ${first[0]}=${first[1]} -n -- $src >/dev/null" \
    "stdout plaintext TCP=$gexec_tcp -n -- $src >/dev/null" \
    "stdout mTLS=$gexec_mtls -n -- $src >/dev/null" \
    "stdout ssh=$ssh '$src' >/dev/null" \
    "stdin ${first[0]}=$src | ${first[1]} -- sh -c $sink" \
    "stdin plaintext TCP=$src | $gexec_tcp -- sh -c $sink" \
    "stdin mTLS=$src | $gexec_mtls -- sh -c $sink" \
    "stdin ssh=$src | $ssh $sink" | tee "$TMP/tp.md"
  echo
  summarize_throughput "$TMP/tp.md"
  local a b
  read -r a b < <(check_bytes "$TMP/a.log" '"argv":\["head"' bytes_out)
  echo
  echo "Bytes checked in the daemons' logs: gexecd A, $a stdout runs of" \
    "exactly 1 GiB ($b other);"
  read -r a b < <(check_bytes "$TMP/a.log" '"argv":\["sh","-c","cat' bytes_in)
  echo "stdin $a ($b other);"
  read -r a b < <(check_bytes "$TMP/b.log" '"argv":\["head"' bytes_out)
  echo "gexecd B, stdout $a ($b other);"
  read -r a b < <(check_bytes "$TMP/b.log" '"argv":\["sh","-c","cat' bytes_in)
  echo "stdin $a ($b other)."
}

# The throughput table by transport, from cmd_time's table in $1.
summarize_throughput() {
  /usr/bin/python3 - "$1" <<'EOF'
import sys
rate = {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 8 and cells[0].split(" ", 1)[0] in ("stdout", "stdin"):
        d, who = cells[0].split(" ", 1)
        rate.setdefault(who, {})[d] = float(cells[7])
ref = rate["plaintext TCP"]
print("| transport | stdout MB/s | stdin MB/s | stdout / plaintext TCP "
      "| stdin / plaintext TCP |")
print("|---|---|---|---|---|")
for who, r in rate.items():
    print(f"| {who} | {r['stdout']:.0f} | {r['stdin']:.0f} "
          f"| {r['stdout'] / ref['stdout']:.2f}× "
          f"| {r['stdin'] / ref['stdin']:.2f}× |")
m = rate["mTLS"]
ok = m["stdout"] >= 600 and m["stdin"] >= 600
print(f"\nTarget mTLS >= 600 MB/s both ways: {'MET' if ok else 'MISSED'} "
      f"(stdout {m['stdout']:.0f}, stdin {m['stdin']:.0f} MB/s).")
EOF
}

# gexecd's CPU time so far (all threads), in clock ticks.
daemon_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Runs "sh -c $3" once; appends "$1 USER SYS TICKS" to $TMP/cpu: the user
# and system seconds of the sh and of everything it waited for, and the
# clock ticks gexecd $2 used meanwhile.
cpu_once() {
  local d0 d1 t TIMEFORMAT='%3U %3S'
  d0=$(daemon_ticks "$2")
  t=$({ time sh -c "$3" >/dev/null; } 2>&1)
  d1=$(daemon_ticks "$2")
  echo "$1 $t $((d1 - d0))" >>"$TMP/cpu"
}

bench_cpu() {
  local src="head -c $GIB /dev/zero" sink="'cat >/dev/null'" r
  local a=${DPIDS[0]} b=${DPIDS[1]}
  : >"$TMP/cpu"
  for r in $(seq 1 "$CPU_RUNS"); do
    echo "tls.sh: cpu round $r of $CPU_RUNS" >&2
    cpu_once "unix stdout" "$a" "$gexec_unix -n -- $src"
    cpu_once "plaintext_TCP stdout" "$a" "$gexec_tcp -n -- $src"
    cpu_once "mTLS stdout" "$b" "$gexec_mtls -n -- $src"
    cpu_once "unix stdin" "$a" "$src | $gexec_unix -- sh -c $sink"
    cpu_once "plaintext_TCP stdin" "$a" "$src | $gexec_tcp -- sh -c $sink"
    cpu_once "mTLS stdin" "$b" "$src | $gexec_mtls -- sh -c $sink"
  done
  echo
  echo "### CPU per GiB: $CPU_RUNS rounds, medians (seconds of CPU)"
  echo
  echo "Client: user + system time of the \`sh -c\` pipeline (CLI, and for" \
    "stdin the local head); gexecd: utime + stime of all its threads" \
    "(/proc/PID/stat). The remote head / cat are not counted."
  echo
  /usr/bin/python3 - "$TMP/cpu" "$(getconf CLK_TCK)" <<'EOF'
import statistics, sys
hz, v = int(sys.argv[2]), {}
for line in open(sys.argv[1]):
    who, d, u, s, ticks = line.split()
    v.setdefault((who.replace("_", " "), d), []).append(
        (float(u) + float(s), int(ticks) / hz))
print("| transport | stdout: client | gexecd | total | stdin: client "
      "| gexecd | total |")
print("|---|---|---|---|---|---|---|")
for who in ("unix", "plaintext TCP", "mTLS"):
    cells = []
    for d in ("stdout", "stdin"):
        c = statistics.median(x[0] for x in v[(who, d)])
        g = statistics.median(x[1] for x in v[(who, d)])
        cells += [f"{c:.2f}", f"{g:.2f}", f"{c + g:.2f}"]
    print(f"| {who} | " + " | ".join(cells) + " |")
EOF
}

echo "## mTLS beside plaintext and ssh ($(date -u +%Y-%m-%d), $(nproc) CPUs," \
  "load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "gexecd set-up, as run (\$TMP from mktemp -d; ports from the logs):"
echo
echo '```sh'
echo "    sh tests/tls/mkcerts.sh \$TMP/pki # CA, server, client CN=carol"
echo "    cat >\$TMP/policy.json <<'EOF'"
sed 's/^/    /' "$TMP/policy.json"
echo "    EOF"
echo "    gexecd --instance gexec-tls-$$-a --listen unix:\$TMP/a.sock" \
  "--listen 127.0.0.1:0 --policy \$TMP/policy.json &"
echo "    gexecd --instance gexec-tls-$$-b --listen 127.0.0.1:0" \
  "--tls-cert \$TMP/pki/server.pem --tls-key \$TMP/pki/server.key" \
  "--tls-client-ca \$TMP/pki/ca.pem --policy \$TMP/policy.json &"
echo '```'
case " ${PARTS[*]} " in *" latency "* | *" throughput "*)
  setup_ssh
  echo
  echo "ssh's negotiated cipher: $($(fresh_ssh) -v true 2>&1 |
    sed -n 's/.*kex: server->client cipher: \([^ ]*\).*/\1/p')"
  ;;
esac
for p in "${PARTS[@]}"; do
  "bench_$p"
done
STATUS=0
