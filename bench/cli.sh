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

BAZEL=(bazel)
if [ -n "${BAZEL_OUTPUT_BASE:-}" ]; then
  BAZEL+=("--output_base=$BAZEL_OUTPUT_BASE")
fi
FLAGS=(-c opt --symlink_prefix=/)

bash "$ROOT/deploy/install-deps.sh"

echo "cli.sh: building (bazel build ${FLAGS[*]})" >&2
"${BAZEL[@]}" build "${FLAGS[@]}" //server:gexecd //server:gexec-launch \
  //bench:gexec_bench //bench:cmd_time //client/cli:gexec \
  2> >(grep -v 'linux-sandbox' >&2)
BIN=$("${BAZEL[@]}" info "${FLAGS[@]}" bazel-bin 2>/dev/null)
GEXECD=$BIN/server/gexecd
BENCH=$BIN/bench/gexec_bench
CMD_TIME=$BIN/bench/cmd_time
CLI=$BIN/client/cli/gexec
for f in "$GEXECD" "$BENCH" "$CMD_TIME" "$CLI"; do
  [ -x "$f" ] || { echo "cli.sh: $f was not built" >&2; exit 1; }
done

# sun_path holds 107 bytes: keep the sockets under a short /tmp path.
TMP=$(mktemp -d /tmp/gexec-cli.XXXXXX)
SOCK=$TMP/gexecd.sock
DPID=
SSHD_PID=
SSH_USER=
MADE_RUN_SSHD=0
STATUS=1

stop_ssh() {
  if [ -S "$TMP/ssh/cm" ]; then
    ssh -F /dev/null -o ControlPath="$TMP/ssh/cm" -O exit x 2>/dev/null || true
  fi
  if [ -n "$SSHD_PID" ]; then
    kill -TERM "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
    SSHD_PID=
  fi
  if [ -n "$SSH_USER" ]; then
    # The user's session processes end with the master; any left are ours.
    local i pids
    for i in $(seq 1 20); do
      pids=$(pgrep -u "$SSH_USER" || true)
      [ -z "$pids" ] && break
      [ "$i" -lt 10 ] || kill -KILL $pids 2>/dev/null || true
      sleep 0.1
    done
    userdel -r "$SSH_USER" 2>/dev/null || userdel -r -f "$SSH_USER" || true
    SSH_USER=
  fi
  if [ "$MADE_RUN_SSHD" = 1 ]; then
    rmdir /run/sshd 2>/dev/null || true
  fi
}

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

# Prints a command, quoted for a shell, indented.
show() {
  local c
  c=$(printf '%q ' "$@")
  echo "    ${c% }"
}

# Prints a command as it runs it (the set-up commands go into the docs).
step() {
  show "$@"
  "$@"
}

# The same, with the command's own output on stderr.
step_quiet() {
  show "$@"
  "$@" >&2
}

# A free TCP port on 127.0.0.1 (free when asked; sshd takes it next).
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1])'
}

# Starts a private sshd for a throwaway user and opens a ControlMaster
# connection to it. Sets SSH_CMD: the command timed.
setup_ssh() {
  local d=$TMP/ssh port home
  mkdir -m 700 "$d"
  echo
  echo "ssh set-up, as run (as root; $TMP from mktemp -d):"
  echo
  echo '```sh'
  if [ ! -x /usr/sbin/sshd ]; then
    step_quiet apt-get update -qq
    step_quiet apt-get install -y -qq --no-install-recommends openssh-server
  fi
  if [ ! -d /run/sshd ]; then # sshd's privilege separation directory
    step mkdir -m 755 /run/sshd
    MADE_RUN_SSHD=1
  fi
  SSH_USER=gxb$$
  step useradd -m -s /bin/sh "$SSH_USER"
  step usermod -p '*' "$SSH_USER" # no password, but not locked: keys work
  home=$(getent passwd "$SSH_USER" | cut -d: -f6)
  step ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  step ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
  step install -d -m 700 -o "$SSH_USER" -g "$SSH_USER" "$home/.ssh"
  step install -m 600 -o "$SSH_USER" -g "$SSH_USER" "$d/client_key.pub" \
    "$home/.ssh/authorized_keys"
  port=$(free_port)
  cat >"$d/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $d/host_key
PidFile $d/sshd.pid
UsePAM no
AllowUsers $SSH_USER
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes yes
MaxStartups 256
MaxSessions 256
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel ERROR
EOF
  echo "    cat >$d/sshd_config <<EOF"
  sed "s/^/    /" "$d/sshd_config"
  echo "    EOF"
  step /usr/sbin/sshd -t -f "$d/sshd_config"
  echo "    /usr/sbin/sshd -f $d/sshd_config -D -e &"
  /usr/sbin/sshd -f "$d/sshd_config" -D -e 2>"$d/sshd.log" &
  SSHD_PID=$!
  echo "    echo \"[127.0.0.1]:$port \$(cut -d' ' -f1-2 $d/host_key.pub)\"" \
    ">$d/known_hosts"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$d/host_key.pub")" \
    >"$d/known_hosts"
  local opts=(-F /dev/null -p "$port" -i "$d/client_key"
    -o IdentitiesOnly=yes -o BatchMode=yes
    -o UserKnownHostsFile="$d/known_hosts" -o StrictHostKeyChecking=yes
    -o ControlPath="$d/cm")
  local ok=0
  for _ in $(seq 1 50); do # sshd binds after it started
    if ssh "${opts[@]}" -o ControlMaster=yes -o ControlPersist=yes -fN \
      "$SSH_USER@127.0.0.1" 2>"$d/master.err"; then
      ok=1
      break
    fi
    sleep 0.1
  done
  echo "    ssh ${opts[*]} -o ControlMaster=yes -o ControlPersist=yes -fN" \
    "$SSH_USER@127.0.0.1"
  echo '```'
  if [ "$ok" != 1 ]; then
    echo "cli.sh: cannot open the ssh master:" >&2
    cat "$d/master.err" "$d/sshd.log" >&2
    return 1
  fi
  SSH_CMD="ssh -F /dev/null -o ControlPath=$d/cm -p $port $SSH_USER@127.0.0.1 true"
  ssh -F /dev/null -o ControlPath="$d/cm" -O check "$SSH_USER@127.0.0.1" \
    2>/dev/null || { echo "cli.sh: the ssh master is not up" >&2; return 1; }
}

bench_latency() {
  setup_ssh
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
