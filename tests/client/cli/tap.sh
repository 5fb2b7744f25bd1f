# Sourced by the CLI's shell tests: a TAP-like line per check and a
# closing count. Provides:
#   check DESCRIPTION WANT GOT   exact comparison; on a difference, both
#                                sides shell-quoted (GOT cut to 600)
#   tap_end                      prints "N passed, N failed"; its status
#                                is the test's: 0 only if none failed
pass=0
fail=0
check() { # $1 = description, $2 = want, $3 = got
  if [ "$2" == "$3" ]; then
    echo "ok - $1"
    pass=$((pass + 1))
  else
    echo "not ok - $1"
    echo "  want: $(printf '%q' "$2")"
    echo "  got:  $(printf "%q" "${3:0:600}")"
    fail=$((fail + 1))
  fi
}
tap_end() {
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
}
