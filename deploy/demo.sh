#!/usr/bin/env bash
# One-minute demo: installs what is missing, builds, starts a gexecd on a
# private unix socket, runs real remote commands through it, stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
echo "== building gexecd and gexec" >&2
bazel build -c opt //server:gexecd //client:gexec 2>&1 | grep -E 'ERROR|error:' >&2 || true
BIN=$(bazel info -c opt bazel-bin 2>/dev/null)
GEXECD="$BIN/server/gexecd"
GEXEC="$BIN/client/cli/gexec"
[ -x "$GEXECD" ] && [ -x "$GEXEC" ] || { echo "build failed" >&2; exit 1; }

DIR=$(mktemp -d /tmp/gexec-demo.XXXXXX)
export GEXEC_TARGET="unix:$DIR/gexecd.sock"
"$GEXECD" --listen "$GEXEC_TARGET" 2>"$DIR/gexecd.log" &
DAEMON=$!
trap 'kill -TERM $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null; rm -rf "$DIR"' EXIT

show() { printf '\n$ %s\n' "$*"; }
for _ in $(seq 1 100); do "$GEXEC" ping >/dev/null 2>&1 && break; sleep 0.1; done

show gexec ping
"$GEXEC" ping
show gexec run -- uname -sr
"$GEXEC" run -- uname -sr
show "printf 'hello\\nworld\\n' | gexec run -- tr a-z A-Z"
printf 'hello\nworld\n' | "$GEXEC" run -- tr a-z A-Z
show "gexec run -n -- sh -c 'echo out; echo err >&2; exit 3'; echo \"exit=\$?\""
set +e
"$GEXEC" run -n -- sh -c 'echo out; echo err >&2; exit 3'; echo "exit=$?"
show "gexec run -n -t 0.5 -- sleep 10; echo \"exit=\$?\"   # daemon-enforced timeout"
"$GEXEC" run -n -t 0.5 -- sleep 10; echo "exit=$?"
show "gexec run -n -- no-such-program; echo \"exit=\$?\""
"$GEXEC" run -n -- no-such-program; echo "exit=$?"
show "gexec run -n -v --profile restricted -- sh -c 'id -u; touch /etc/x'   # sandboxed"
"$GEXEC" run -n -v --profile restricted -- sh -c 'id -u; touch /etc/x'
set -e
show "gexec run --json -n -e GREETING=hi -C /tmp -- sh -c 'echo \$GREETING from \$(pwd)'"
"$GEXEC" run --json -n -e GREETING=hi -C /tmp -- sh -c 'echo $GREETING from $(pwd)'
show "gexec facts hostname os.pretty_name kernel.release memory.total_bytes   # no process run"
"$GEXEC" facts hostname os.pretty_name kernel.release memory.total_bytes
show "gexec run -w \$GEXEC_TARGET -b -- uname -s   # fleet mode (see README: A fleet)"
"$GEXEC" run -w "$GEXEC_TARGET" -b -- uname -s
echo
show "daemon log (one JSON line per run):"
grep '"event":"run"' "$DIR/gexecd.log" | tail -n 3
echo
echo "demo finished: gexecd ran every command above over $GEXEC_TARGET"
