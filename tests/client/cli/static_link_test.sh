#!/bin/bash
# Checks how the gexec CLI links gRPC (third_party/grpc_static.bzl): with
# "static", none of gRPC, its dependencies or libstdc++ may be a shared
# library the binary needs (DT_NEEDED), and libuv must be; with "dynamic"
# (--config=tsan), libgrpc must be needed. Prints a TAP-like line per check.
set -euo pipefail
mode=${1:?usage: static_link_test.sh static|dynamic}
bin="${TEST_SRCDIR:?run me through bazel test}/gexec/client/cli/gexec"
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
pass=0
fail=0
check() { # $1 = description, $2 = 0 if it holds
  if [ "$2" = 0 ]; then
    echo "ok - $1"
    pass=$((pass + 1))
  else
    echo "not ok - $1 (NEEDED: $(echo $needed))"
    fail=$((fail + 1))
  fi
}
has() { grep -Eq "^lib($1)[.-]" <<<"$needed"; }
static_libs='grpc|gpr|upb|address_sorting|re2|cares|z|ssl|crypto'
static_libs+='|protobuf-c|json-c|absl_[a-z0-9_]+|stdc\+\+|gcc_s'
if [ "$mode" = static ]; then
  has "$static_libs" && rc=1 || rc=0
  check "no shared gRPC, Abseil, OpenSSL, protobuf-c, json-c or libstdc++" $rc
  has uv && rc=0 || rc=1
  check "libuv stays shared" $rc
else
  has grpc && rc=0 || rc=1
  check "libgrpc is shared (dynamic fallback)" $rc
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
