#!/bin/bash
# libgexec as a C user outside this repository gets it:
#  1. deploy/install-lib.sh installs the tarball Bazel built
#     (//client/dist:libgexec-dist) into a temporary PREFIX: exact layout,
#     modes, symlinks, SONAME, libgexec.pc with PREFIX filled in; again over
#     the first install, and once more staged under $DESTDIR;
#  2. libgexec.so exports exactly the functions gexec.h declares, all
#     gexec_[a-z0-9]*, and libgexec.a the same; the archive leaves nothing
#     of this repository undefined;
#  3. the system's cc builds client/examples/run_example.c with
#     `pkg-config --cflags --libs libgexec` (the shared library, found
#     through an rpath) and with `pkg-config --static` and libgexec.a;
#  4. both programs run commands on a real gexecd: exact stdout, stderr
#     and exit codes.
#
# Arguments: extra compiler flags (the sanitizer flags of the
# configuration the libraries were built in; see BUILD).
set -euo pipefail

san_flags=("$@")
root=${TEST_SRCDIR:?run me through bazel test}/gexec
tmp=${TEST_TMPDIR:?run me through bazel test}
tarball=$root/client/dist/libgexec-dist.tar
prefix=$tmp/prefix
daemon=
sockdir=

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
  if [ "$2" != "$3" ]; then
    printf 'FAIL: %s\n--- got:\n%s\n--- want:\n%s\n' "$1" "$2" "$3" >&2
    exit 1
  fi
}

cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill -KILL "$daemon"
  fi
  if [ -n "$sockdir" ]; then rm -rf "$sockdir"; fi
}
trap cleanup EXIT

# ------------------------------------------------------------ 1. install

install_lib() { # PREFIX
  bash "$root/deploy/install-lib.sh" --tarball "$tarball" "$1" \
    2>"$tmp/install.log" || { cat "$tmp/install.log" >&2; fail "install-lib.sh $1"; }
}

# The tree under $1: path, type and mode, symlink target.
tree() {
  (cd "$1" && find . -mindepth 1 -printf '%P %y%m %l\n' | sort)
}

install_lib "$prefix"
version=$(sed -n 's/^#define GEXEC_VERSION "\(.*\)"$/\1/p' \
  "$prefix/include/gexec/gexec.h")
[[ $version =~ ^0\.[0-9]+\.[0-9]+$ ]] || fail "GEXEC_VERSION '$version' is not 0.N.N"
want_tree="include d755 
include/gexec d755 
include/gexec/gexec.h f644 
lib d755 
lib/libgexec.a f644 
lib/libgexec.so l777 libgexec.so.0
lib/libgexec.so.0 l777 libgexec.so.$version
lib/libgexec.so.$version f755 
lib/pkgconfig d755 
lib/pkgconfig/libgexec.pc f644 "
expect_eq "installed tree" "$(tree "$prefix")" "$want_tree"
cmp "$prefix/include/gexec/gexec.h" "$root/client/gexec.h" ||
  fail "installed gexec.h differs from client/gexec.h"
soname=$(readelf -d "$prefix/lib/libgexec.so.$version" |
  sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
expect_eq SONAME "$soname" "libgexec.so.0"

install_lib "$prefix" # over the first one
expect_eq "tree after a second install" "$(tree "$prefix")" "$want_tree"
DESTDIR=$tmp/stage install_lib /opt/gexec
expect_eq "tree staged under DESTDIR" "$(tree "$tmp/stage/opt/gexec")" "$want_tree"
grep -qx 'prefix=/opt/gexec' "$tmp/stage/opt/gexec/lib/pkgconfig/libgexec.pc" ||
  fail "the staged libgexec.pc does not say prefix=/opt/gexec"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
expect_eq "pkg-config --modversion" "$(pkg-config --modversion libgexec)" "$version"
expect_eq "pkg-config --variable=prefix" \
  "$(pkg-config --variable=prefix libgexec)" "$prefix"
# pkg-config's output with its blanks normalized
words() {
  local w
  read -ra w <<<"$("$@")"
  echo "${w[*]}"
}
expect_eq "pkg-config --cflags-only-I" \
  "$(words pkg-config --cflags-only-I libgexec)" "-I$prefix/include"
expect_eq "pkg-config --libs" "$(words pkg-config --libs libgexec)" \
  "-L$prefix/lib -lgexec"
static_libs=" $(pkg-config --static --libs libgexec) "
for lib in -lgexec -lgrpc -lgpr -lprotobuf-c -luv -lpthread -ljson-c; do
  [[ $static_libs == *" $lib "* ]] ||
    fail "pkg-config --static --libs libgexec lacks $lib: $static_libs"
done

# ------------------------------------------------------------ 2. symbols

# Functions gexec.h declares: names followed by '(' once comments are gone.
declared=$(cc -E -P -x c "$prefix/include/gexec/gexec.h" |
  grep -oE '\bgexec_[A-Za-z0-9_]*[[:space:]]*\(' | tr -d '( \t' | sort -u)
[ -n "$declared" ] || fail "no function declarations found in gexec.h"
exported=$(nm -D --defined-only "$prefix/lib/libgexec.so" |
  awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort)
expect_eq "symbols libgexec.so exports (nm -D --defined-only)" \
  "$exported" "$declared"
bad=$(grep -v '^gexec_[a-z0-9]' <<<"$exported" || true)
expect_eq "exports outside gexec_[a-z0-9]*" "$bad" ""
expect_eq "libgexec.so's version node" \
  "$(nm -D --defined-only "$prefix/lib/libgexec.so" | awk '$2 == "A" { print $3 }')" \
  "LIBGEXEC_0"
expect_eq "global symbols libgexec.a defines" \
  "$(nm -g --defined-only "$prefix/lib/libgexec.a" | awk 'NF == 3 { print $3 }' | sort)" \
  "$declared"
# every object of this repository is in the archive: nothing of lib/,
# client/ or the generated protobuf-c code is left undefined
missing=$(nm -u "$prefix/lib/libgexec.a" | awk 'NF == 2 { print $2 }' |
  grep -E '^(gx_|gexec_|grpc__health__)' || true)
expect_eq "symbols of this repository libgexec.a leaves undefined" "$missing" ""

# ------------------------------------------------------------- 3. build

src=$root/client/examples/run_example.c
cflags=(-std=c11 -Wall -Wextra -Werror -pedantic "${san_flags[@]}")
echo "compiling the example with: ${cflags[*]}"
# shellcheck disable=SC2046 # pkg-config's output is meant to be split
cc "${cflags[@]}" -o "$tmp/ex_shared" "$src" \
  $(pkg-config --cflags --libs libgexec) -Wl,-rpath,"$prefix/lib" ||
  fail "cc against libgexec.so"
# shellcheck disable=SC2046
cc "${cflags[@]}" -o "$tmp/ex_static" "$src" $(pkg-config --cflags libgexec) \
  $(pkg-config --static --define-variable=gexec_lib=-l:libgexec.a --libs libgexec) ||
  fail "cc against libgexec.a"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
grep -qx libgexec.so.0 <<<"$(needed "$tmp/ex_shared")" ||
  fail "ex_shared does not need libgexec.so.0: $(needed "$tmp/ex_shared")"
loaded=$(ldd "$tmp/ex_shared" | awk '$1 == "libgexec.so.0" { print $3 }')
expect_eq "the libgexec.so.0 ex_shared loads" "$loaded" "$prefix/lib/libgexec.so.0"
if grep -q libgexec <<<"$(needed "$tmp/ex_static")"; then
  fail "ex_static needs a shared libgexec: $(needed "$tmp/ex_static")"
fi

# ------------------------------------------------------------- 4. run

sockdir=$(mktemp -d /tmp/gxi-XXXXXX) # sun_path is too short for TEST_TMPDIR
target=unix:$sockdir/gexecd.sock
"$root/server/gexecd" --listen="$target" 2>"$tmp/gexecd.log" &
daemon=$!
for _ in $(seq 600); do
  [ -S "$sockdir/gexecd.sock" ] && break
  kill -0 "$daemon" 2>/dev/null || { cat "$tmp/gexecd.log" >&2; fail "gexecd exited"; }
  sleep 0.1
done
[ -S "$sockdir/gexecd.sock" ] || fail "gexecd did not listen within 60 s"

# expect_run NAME RC STDOUT STDERR COMMAND...: runs COMMAND, compares its
# exit code, stdout and stderr byte for byte.
expect_run() {
  local name=$1 want_rc=$2 want_out=$3 want_err=$4 rc=0
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  printf '%s' "$want_out" >"$tmp/want_out"
  printf '%s' "$want_err" >"$tmp/want_err"
  cmp -s "$tmp/out" "$tmp/want_out" ||
    fail "$name: stdout: $(od -c "$tmp/out" | head -5); want $(od -c "$tmp/want_out" | head -5)"
  cmp -s "$tmp/err" "$tmp/want_err" ||
    fail "$name: stderr: $(cat "$tmp/err"); want $want_err"
  expect_eq "$name: exit code" "$rc" "$want_rc"
}

for ex in ex_shared ex_static; do
  expect_run "$ex: exit 3" 0 $'out\nexit status 3\n' $'err\n' \
    "$tmp/$ex" "$target" sh -c 'echo out; echo err >&2; exit 3'
  expect_run "$ex: \$GEXEC_TARGET, default command" 0 \
    "$(uname -sr)"$'\nexit status 0\n' "" \
    env GEXEC_TARGET="$target" "$tmp/$ex"
  expect_run "$ex: killed" 0 $'killed by signal 9\n' "" \
    "$tmp/$ex" "$target" sh -c 'kill -9 $$'
  # the reason after the example's prefix is libgexec's own message
  rc=0
  "$tmp/$ex" unix:/nonexistent/gexecd.sock >"$tmp/out" 2>"$tmp/err" || rc=$?
  expect_eq "$ex: no daemon: exit code" "$rc" 1
  expect_eq "$ex: no daemon: stdout" "$(cat "$tmp/out")" ""
  [[ $(cat "$tmp/err") == "run_example: cannot connect: "?* ]] ||
    fail "$ex: no daemon: stderr: $(cat "$tmp/err")"
  expect_eq "$ex: no daemon: stderr lines" "$(wc -l <"$tmp/err")" 1
done

kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
daemon=
expect_eq "gexecd's exit code after SIGTERM" "$rc" 0
echo "PASS"
