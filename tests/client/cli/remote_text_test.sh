#!/bin/bash
# Single-host `gexec run -H` and `gexec ping -H` against a hostile daemon
# (a grpcio server whose Exec/Run and Health/Check fail with a status
# message full of terminal escape sequences, a newline, a C1 control and
# UTF-8): the daemon's words reach our stderr escaped (client/cli/
# textsafe.h), on one line; valid UTF-8 is kept. They used to be printed
# raw (a retitled window, a cleared screen, a forged second line).
# Prints a TAP-like line per check and "N passed, N failed".
set -uo pipefail
gexec="${TEST_SRCDIR:?run me through bazel test}/gexec/client/cli/gexec"
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/remote_text.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "$TEST_SRCDIR/gexec/tests/client/cli/tap.sh"

cat >"$tmp/evil.py" <<'PY'
import sys
from concurrent import futures
import grpc
MSG = "evil\x1b]0;pwned\x07\x1b[2J\nsecond line \x9b\u00e9"
def run(requests, ctx):
    next(requests)
    ctx.abort(grpc.StatusCode.FAILED_PRECONDITION, MSG)
def check(req, ctx):
    ctx.abort(grpc.StatusCode.UNAVAILABLE, MSG)
same = lambda b: b
s = grpc.server(futures.ThreadPoolExecutor(4))
s.add_generic_rpc_handlers((
    grpc.method_handlers_generic_handler("gexec.v1.Exec", {
        "Run": grpc.stream_stream_rpc_method_handler(run, same, same)}),
    grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(check, same, same)})))
print(s.add_insecure_port("127.0.0.1:0"), flush=True)
s.start()
sys.stdin.read()  # until the test closes our stdin
PY
coproc EVIL { /usr/bin/python3 "$tmp/evil.py"; }
read -r port <&"${EVIL[0]}"
want_msg='evil\x1b]0;pwned\x07\x1b[2J\x0asecond line \xc2\x9b'$'\xc3\xa9'

err=$(timeout 60 "$gexec" run -H "127.0.0.1:$port" true 2>&1 >/dev/null)
rc=$?
check "run: exit 255" 255 "$rc"
check "run: the daemon's message escaped" "gexec: $want_msg" "$err"

err=$(timeout 60 "$gexec" ping -H "127.0.0.1:$port" 2>&1 >/dev/null)
rc=$?
check "ping: exit 255" 255 "$rc"
check "ping: the daemon's message escaped" \
  "gexec: gexecd at 127.0.0.1:$port: UNAVAILABLE: $want_msg" "$err"

exec {EVIL[1]}>&-
wait "$EVIL_PID" 2>/dev/null
tap_end
