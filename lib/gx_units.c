/* Sizes and durations of the command lines: see gx_units.h. */
#include "lib/gx_units.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Most significant fraction digits (trailing zeros dropped) that can
 * still land on a whole millisecond. The largest unit, 1 h = 3600000 ms
 * = 2^7 * 3^2 * 5^5, lets at most 7 through; 9 keeps f * unit (below
 * 10^9 * 3600000) far inside 64 bits. */
#define MAX_FRACTION_DIGITS 9

/* Sets *why to @p reason when the caller asked for one; returns @p rc. */
static int fail(const char **why, int rc, const char *reason) {
  if (why) *why = reason;
  return rc;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Returns the end of the run of digits that starts at @p s. */
static const char *skip_digits(const char *s) {
  while (is_digit(*s)) s++;
  return s;
}

/* Reads the digits in [s, end) into *@p v; -ERANGE past UINT64_MAX. */
static int read_u64(const char *s, const char *end, uint64_t *v) {
  uint64_t n = 0;
  for (; s < end; s++) {
    unsigned d = (unsigned)(*s - '0');
    if (n > (UINT64_MAX - d) / 10) return -ERANGE;
    n = n * 10 + d;
  }
  *v = n;
  return 0;
}

int gx_units_parse_size(const char *s, uint64_t *bytes, const char **why) {
  static const char suffixes[] = "KkMmGg";
  static const int shifts[] = {10, 10, 20, 20, 30, 30};
  const char *end, *suffix;
  int shift = 0;
  uint64_t v;
  if (!s || !is_digit(*s)) return fail(why, -EINVAL, "expected digits first");
  end = skip_digits(s);
  if (*end) {
    suffix = strchr(suffixes, *end);
    if (!suffix || end[1])
      return fail(why, -EINVAL, "unknown suffix (expected K, M or G)");
    shift = shifts[suffix - suffixes];
  }
  if (read_u64(s, end, &v) != 0 || v > (UINT64_MAX >> shift))
    return fail(why, -ERANGE, "too large");
  *bytes = v << shift;
  return 0;
}

/* Sets *@p ms to the milliseconds in one unit named @p u ("" is
 * seconds); -EINVAL for any other name. */
static int unit_ms(const char *u, uint64_t *ms) {
  static const struct {
    const char *name;
    uint64_t ms;
  } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000},
               {"h", 3600000}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
    if (strcmp(u, units[i].name) == 0) {
      *ms = units[i].ms;
      return 0;
    }
  }
  return -EINVAL;
}

/* Sets *@p ms to the fraction digits in [s, end) of a @p unit (in ms),
 * exactly; -EINVAL when that is not a whole number of milliseconds. */
static int fraction_ms(const char *s, const char *end, uint64_t unit,
                       uint64_t *ms) {
  uint64_t f = 0, scale = 1;
  while (end > s && end[-1] == '0') end--; /* they change nothing */
  if (end - s > MAX_FRACTION_DIGITS) return -EINVAL;
  for (; s < end; s++) {
    f = f * 10 + (uint64_t)(*s - '0');
    scale *= 10;
  }
  if (f * unit % scale != 0) return -EINVAL;
  *ms = f * unit / scale;
  return 0;
}

int gx_units_parse_duration_ms(const char *s, uint64_t *ms,
                               const char **why) {
  const char *int_end, *frac = NULL, *frac_end = NULL, *u;
  uint64_t unit, whole, part = 0;
  if (!s || !is_digit(*s)) return fail(why, -EINVAL, "expected digits first");
  int_end = u = skip_digits(s);
  if (*u == '.') {
    frac = u + 1;
    frac_end = u = skip_digits(frac);
    if (frac_end == frac)
      return fail(why, -EINVAL, "expected digits after '.'");
  }
  if (unit_ms(u, &unit) != 0)
    return fail(why, -EINVAL, "unknown unit (expected ms, s, m or h)");
  if (frac && fraction_ms(frac, frac_end, unit, &part) != 0)
    return fail(why, -EINVAL, "finer than a millisecond");
  if (read_u64(s, int_end, &whole) != 0 || whole > (UINT64_MAX - part) / unit)
    return fail(why, -ERANGE, "too large");
  *ms = whole * unit + part;
  return 0;
}
