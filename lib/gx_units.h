/**
 * @file gx_units.h
 * The one parser per unit of the command lines of gexecd, gexec-launch
 * and gexec: sizes and durations. Pure (no I/O, no allocation, no
 * globals), so that the launcher can link it without anything else.
 *
 * Sizes: digits, then at most one suffix.
 *
 *     SIZE := DIGITS [ "K" | "k" | "M" | "m" | "G" | "g" ]
 *
 * K, M and G are powers of 1024 (1K = 1024 bytes, 1G = 2^30). "0" is a
 * size; callers decide which range they accept.
 *
 * Durations: digits, an optional fraction, then at most one unit.
 *
 *     DUR  := DIGITS [ "." DIGITS ] [ "ms" | "s" | "m" | "h" ]
 *
 * A bare number is seconds: "1.5", "30s", "500ms", "0.25h" and "2m" are
 * all valid; units are lower case only. The result is in milliseconds and
 * must be a whole number of them: a value finer than 1 ms ("1.0005",
 * "0.5ms", "0.0000001h") is refused, never rounded, so what is accepted is
 * exactly what is used. Trailing zeros are fine ("1.000s" = 1000 ms).
 *
 * Both refuse NULL, the empty string, blanks anywhere, a sign, an
 * exponent, hex, "inf"/"nan", any other suffix, and values that do not
 * fit in 64 bits. Durations also refuse an empty fraction ("1.") and an
 * empty integer part (".5": write "0.5"). DIGITS may have leading zeros.
 *
 * Results: 0, or a negative errno value: -EINVAL for a malformed string
 * (or one finer than a millisecond), -ERANGE for one that does not fit.
 * On failure the output is left untouched and, when @p why is not NULL,
 * *why is set to a short static reason ("unknown unit", "too large"...).
 */
#ifndef GX_UNITS_H
#define GX_UNITS_H

#include <stdint.h>

/** The syntax of DUR, as every --help text that takes one explains it. */
#define GX_UNITS_DUR_HELP                                                \
  "DUR is a number with an optional fraction and a unit ms, s, m or h\n" \
  "(none = seconds): 500ms, 30s, 1.5, 2m, 0.25h. It must come to whole\n" \
  "milliseconds: 0.5ms and 1.0005 are refused.\n"

/** The syntax of SIZE, as every --help text that takes one explains it. */
#define GX_UNITS_SIZE_HELP                                               \
  "SIZE is a number of bytes with an optional suffix K, M or G (powers\n" \
  "of 1024, either case): 4096, 512K, 64M, 2G.\n"

/**
 * Parses a size (see above) into @p bytes. Returns 0, -EINVAL or
 * -ERANGE; on failure sets *@p why (if @p why is not NULL) to a static
 * reason.
 */
int gx_units_parse_size(const char *s, uint64_t *bytes, const char **why);

/**
 * Parses a duration (see above) into @p ms, in milliseconds. Returns 0,
 * -EINVAL (malformed, or not a whole number of milliseconds) or -ERANGE;
 * on failure sets *@p why (if @p why is not NULL) to a static reason.
 */
int gx_units_parse_duration_ms(const char *s, uint64_t *ms,
                               const char **why);

#endif
