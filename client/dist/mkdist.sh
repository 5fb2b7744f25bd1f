#!/bin/bash
# Builds the libgexec distribution tarball (the genrule :libgexec-dist):
# the install tree relative to a prefix, as deploy/install-lib.sh lays it
# out, with the release version (GEXEC_VERSION from gexec.h) in the shared
# library's file name and in the pkg-config template.
#
#   mkdist.sh OUT.tar SOVERSION HEADER LIB.so LIB.a PC.in
#
#   lib/libgexec.so.VERSION        the shared library (SONAME libgexec.so.SOVERSION)
#   lib/libgexec.so.SOVERSION      -> libgexec.so.VERSION
#   lib/libgexec.so                -> libgexec.so.SOVERSION
#   lib/libgexec.a
#   lib/pkgconfig/libgexec.pc.in   @PREFIX@ left for the install script
#   include/gexec/gexec.h
set -euo pipefail
out=$1 soversion=$2 header=$3 so=$4 archive=$5 pc_in=$6

version=$(sed -n 's/^#define GEXEC_VERSION "\([0-9][0-9.]*\)"$/\1/p' "$header")
if [ -z "$version" ]; then
  echo "mkdist: no '#define GEXEC_VERSION \"N.N.N\"' in $header" >&2
  exit 1
fi
case $version in
  "$soversion" | "$soversion".*) ;;
  *)
    echo "mkdist: version $version does not start with SONAME major $soversion" >&2
    exit 1
    ;;
esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib/pkgconfig" "$stage/include/gexec"
cp "$so" "$stage/lib/libgexec.so.$version"
ln -s "libgexec.so.$version" "$stage/lib/libgexec.so.$soversion"
ln -s "libgexec.so.$soversion" "$stage/lib/libgexec.so"
cp "$archive" "$stage/lib/libgexec.a"
sed "s/@VERSION@/$version/" "$pc_in" >"$stage/lib/pkgconfig/libgexec.pc.in"
cp "$header" "$stage/include/gexec/gexec.h"
chmod 0755 "$stage/lib/libgexec.so.$version"
chmod 0644 "$stage/lib/libgexec.a" "$stage/lib/pkgconfig/libgexec.pc.in" \
  "$stage/include/gexec/gexec.h"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  -C "$stage" -cf "$out" lib include
