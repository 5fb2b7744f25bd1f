#!/usr/bin/env bash
# Installs libgexec, the C client library, for programs outside this
# repository:
#
#   PREFIX/lib/libgexec.so.VERSION   the shared library (SONAME libgexec.so.0)
#   PREFIX/lib/libgexec.so.0         -> libgexec.so.VERSION
#   PREFIX/lib/libgexec.so           -> libgexec.so.0
#   PREFIX/lib/libgexec.a            the static library (all of libgexec)
#   PREFIX/lib/pkgconfig/libgexec.pc
#   PREFIX/include/gexec/gexec.h     #include <gexec/gexec.h>
#
# usage: deploy/install-lib.sh [--tarball FILE] PREFIX
#
# Without --tarball: installs the Debian packages the build needs
# (deploy/install-deps.sh), builds //client/dist:libgexec-dist with
# -c opt and installs that tarball. $BAZEL is the command run as bazel
# (default "bazel"; split on blanks, so it may carry startup options:
# BAZEL="bazel --output_base=/tmp/ob"). With --tarball FILE: installs
# FILE, a tarball that target built (//tests/install:install_test installs
# the one Bazel built for it this way).
#
# $DESTDIR, when set, is put before every path written (staged installs
# for packaging); libgexec.pc still names PREFIX. Files are replaced, not
# rewritten in place, so programs running on the old library are safe.
set -euo pipefail

usage() {
  echo "usage: $0 [--tarball FILE] PREFIX" >&2
  exit 2
}

tarball=
if [ "${1:-}" = --tarball ]; then
  [ $# -ge 2 ] || usage
  tarball=$2
  shift 2
fi
[ $# -eq 1 ] || usage
prefix=${1%/}
case $prefix in
  /*) ;;
  *) echo "install-lib: PREFIX must be an absolute path: '$1'" >&2; exit 2 ;;
esac
# pkg-config splits its fields on blanks and reads quotes and '$' itself
if [[ $prefix =~ [[:space:]\"\'\\\$] ]]; then
  echo "install-lib: PREFIX must not contain blanks, quotes, \\ or \$: '$1'" >&2
  exit 2
fi

# Builds the tarball; prints its path.
build_tarball() {
  local bazel bin
  cd "$(dirname "$0")/.."
  bash deploy/install-deps.sh >&2
  read -ra bazel <<<"${BAZEL:-bazel}"
  "${bazel[@]}" build -c opt //client/dist:libgexec-dist >&2
  bin=$("${bazel[@]}" info -c opt bazel-bin 2>/dev/null)
  echo "$bin/client/dist/libgexec-dist.tar"
}

if [ -z "$tarball" ]; then
  tarball=$(build_tarball)
fi
[ -f "$tarball" ] || { echo "install-lib: no tarball '$tarball'" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tar -xf "$tarball" -C "$stage" --no-same-owner
pc_in=$stage/lib/pkgconfig/libgexec.pc.in
[ -f "$pc_in" ] || { echo "install-lib: $tarball has no libgexec.pc.in" >&2; exit 1; }

dest=${DESTDIR:-}$prefix
install -d -m 0755 "$dest/lib/pkgconfig" "$dest/include/gexec"

# lib/: the files first, then the symlinks that point at them
for f in "$stage"/lib/libgexec.*; do
  name=${f##*/}
  if [ ! -L "$f" ]; then
    case $name in
      *.a) install -m 0644 "$f" "$dest/lib/$name" ;;
      *) install -m 0755 "$f" "$dest/lib/$name" ;;
    esac
  fi
done
for f in "$stage"/lib/libgexec.*; do
  if [ -L "$f" ]; then
    ln -sfn "$(readlink "$f")" "$dest/lib/${f##*/}"
  fi
done
for f in "$stage"/include/gexec/*.h; do
  install -m 0644 "$f" "$dest/include/gexec/${f##*/}"
done

# libgexec.pc: the template with the prefix filled in
pc=$dest/lib/pkgconfig/libgexec.pc
tmp_pc=$(mktemp "$pc.XXXXXX")
while IFS= read -r line || [ -n "$line" ]; do
  printf '%s\n' "${line//@PREFIX@/$prefix}"
done <"$pc_in" >"$tmp_pc"
chmod 0644 "$tmp_pc"
mv -f "$tmp_pc" "$pc"

version=$(sed -n 's/^Version: //p' "$pc")
echo "install-lib: libgexec $version installed under $dest" >&2
echo "install-lib: compile with: cc prog.c \$(pkg-config --cflags --libs libgexec)" >&2
if [ -z "${DESTDIR:-}" ] && { [ "$prefix" = /usr ] || [ "$prefix" = /usr/local ]; }; then
  # the loader finds $prefix/lib through its cache
  if [ "$(id -u)" -eq 0 ]; then ldconfig; else echo "install-lib: run ldconfig as root" >&2; fi
else
  echo "install-lib: $prefix/lib is not in the loader's or pkg-config's path:" \
    "set PKG_CONFIG_PATH=$prefix/lib/pkgconfig, and link with" \
    "-Wl,-rpath,$prefix/lib or set LD_LIBRARY_PATH" >&2
fi
