/**
 * @file udiff.h
 * A unified diff of two texts, as `diff -u` prints it, for
 * `gexec run -w ... -b --diff` (each group of hosts against the most
 * common output).
 *
 * Lines end at '\n' and are compared byte for byte (any byte, NUL
 * included; a last line without '\n' differs from the same line with
 * one). The diff is minimal (fewest '-' plus '+' lines, Myers' O(ND)
 * algorithm) and, among minimal diffs, slid the way GNU diff slides its
 * changes, so that it is usually the very text `diff -u` prints.
 *
 * Bounds and fallbacks (the output stays a valid diff that turns a into b):
 *  - Either text over GXC_UDIFF_MAX_BYTES or GXC_UDIFF_MAX_LINES lines:
 *    one hunk that deletes all of a and inserts all of b, streamed (no
 *    memory taken). So too when the lines' hashes collide far more than
 *    chance allows (crafted input: over 32 probes a line on average).
 *  - An edit distance (lines deleted + inserted, once the common first
 *    and last lines are set aside) over GXC_UDIFF_MAX_EDIT: the lines
 *    between the common first and last ones become one replacement
 *    (delete them all, insert them all), with the usual 3 lines of
 *    context. Up to the bound the diff is minimal.
 * Memory: about 40 to 55 bytes a line of a and b, plus 320 KiB at most
 * for the search (linear-space Myers: O(N + M + GXC_UDIFF_MAX_EDIT)).
 * Time: O((N + M) * D), D the edit distance (<= the bound); measured
 * 0.03 s for 200,000 lines with 10 changes, 0.3 s with 9,524 changes.
 */
#ifndef GXC_UDIFF_H
#define GXC_UDIFF_H

#include <stddef.h>

#define GXC_UDIFF_MAX_BYTES ((size_t)16 << 20) /**< per text */
#define GXC_UDIFF_MAX_LINES 1000000            /**< per text */
#define GXC_UDIFF_MAX_EDIT 20000 /**< lines deleted + inserted */

/**
 * The sink of the diff: called with successive chunks of it (@p len > 0;
 * @p data valid during the call only). Returns 0, or -1 to stop.
 */
typedef int (*gxc_udiff_put)(void *ud, const char *data, size_t len);

/**
 * Writes a unified diff (GNU diff -u format, 3 lines of context) of @p a
 * against @p b, compared line by line (a line ends at '\n'; a last line
 * without '\n' gets the "\ No newline at end of file" marker as GNU diff
 * prints it), to the sink @p put (called with chunks of bytes; returns 0
 * or -1 to stop: then gxc_udiff returns -1).
 * The headers are "--- " @p a_label "\n" and "+++ " @p b_label "\n" (no
 * timestamps; labels are NUL-terminated, written as they are), then
 * "@@ -l,s +l,s @@" hunks exactly as GNU diff -u writes them (",s"
 * omitted when s == 1, "l,0" for an empty side). Identical texts: writes
 * nothing, returns 0. @p a / @p b may be NULL when their length is 0.
 * Bounds and fallbacks: see the file comment. Nothing is written before
 * the memory is allocated, so -2 means nothing was written.
 * Returns 0, -1 (the sink failed) or -2 (out of memory).
 */
int gxc_udiff(const char *a, size_t a_len, const char *b, size_t b_len,
              const char *a_label, const char *b_label, gxc_udiff_put put,
              void *ud);

#endif
