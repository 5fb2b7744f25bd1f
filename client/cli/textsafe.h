/**
 * @file textsafe.h
 * Text that came from a daemon (status messages, facts strings) made
 * safe to print on a terminal: a hostile or broken daemon must not move
 * the cursor, retitle the window or break a line of the summary or the
 * facts table with escape sequences, control characters or newlines.
 */
#ifndef GXC_TEXTSAFE_H
#define GXC_TEXTSAFE_H

#include <stddef.h>

/**
 * Copies @p s into @p out (at most @p cap bytes, NUL-terminated, cut at
 * a whole character): valid UTF-8 is kept, except the C0 controls (tab
 * and newline included), DEL and the C1 controls U+0080..U+009F; those
 * and every byte of invalid UTF-8 become "\xNN". Returns @p out.
 */
const char *gxc_text_safe(const char *s, char *out, size_t cap);

#endif
