# shellcheck shell=bash
# Sourced by bench/run.sh, bench/cli.sh and bench/tls.sh (not run on its
# own): installs missing Debian packages and builds with -c opt. The
# caller sets ROOT (the repository root).

# Builds the Bazel targets after $1 (a name for the messages) with
# `-c opt --symlink_prefix=/` (no bazel-* symlinks are touched), with
# `--output_base=$BAZEL_OUTPUT_BASE` if that is set, and sets BIN to their
# bazel-bin directory.
bench_build() {
  local who=$1 bazel=(bazel) flags=(-c opt --symlink_prefix=/)
  shift
  [ -z "${BAZEL_OUTPUT_BASE:-}" ] ||
    bazel+=("--output_base=$BAZEL_OUTPUT_BASE")
  bash "$ROOT/deploy/install-deps.sh"
  echo "$who: building (bazel build ${flags[*]})" >&2
  "${bazel[@]}" build "${flags[@]}" "$@" 2> >(grep -v 'linux-sandbox' >&2)
  # shellcheck disable=SC2034 # for the caller
  BIN=$("${bazel[@]}" info "${flags[@]}" bazel-bin 2>/dev/null)
}

# Exits 1 unless every file after $1 (a name for the message) is an
# executable.
bench_need() {
  local who=$1 f
  shift
  for f in "$@"; do
    [ -x "$f" ] || { echo "$who: $f was not built" >&2; exit 1; }
  done
}
