/**
 * @file udiff_lcs.h
 * Internal to udiff.c: the edit script between two sequences of line
 * classes (equal lines have equal class numbers), by Myers' O(ND)
 * algorithm in linear space (divide and conquer on the middle snake).
 *
 * The script is two "changed" flag arrays, one per side: a line of @p a
 * whose flag is set is deleted, a line of @p b whose flag is set is
 * inserted, and the unflagged lines of both sides, in order, are the
 * common subsequence. Each flag array has one zero sentinel before and
 * after it: ch[-1] and ch[n] exist and are 0 (callers allocate n + 2).
 */
#ifndef GXC_UDIFF_LCS_H
#define GXC_UDIFF_LCS_H

#include <stddef.h>
#include <stdint.h>

/** Work space of the search: caller-allocated, 2 * gxc__lcs_vlen(max_edit)
 *  longs, reused across the recursion. */
size_t gxc__lcs_vlen(size_t max_edit);

/**
 * Sets the flags of @p ca (n lines) and @p cb (m lines), which must be
 * all 0 on entry, to a minimal edit script of @p a into @p b when their
 * edit distance, once the common first and last lines are set aside, is
 * at most @p max_edit lines; past that, the lines between the common
 * first and last ones are marked changed as a whole (one replacement:
 * still a valid script, no longer minimal). @p v has
 * 2 * gxc__lcs_vlen(max_edit) longs.
 * Returns 1 when that fallback happened, 0 otherwise. Never allocates.
 */
int gxc__lcs(const uint32_t *a, size_t n, const uint32_t *b, size_t m,
             char *ca, char *cb, long *v, size_t max_edit);

/**
 * Slides each run of changed lines of one side (classes @p eq, flags
 * @p ch, @p n lines) as far down as it goes, merging runs that touch,
 * then back up where that lines it up with a run of changes of the other
 * side (flags @p och), as GNU diff does, so that the output's choice
 * among equally short scripts matches GNU diff's in the usual cases.
 * Keeps the script valid and its length.
 */
void gxc__lcs_shift(const uint32_t *eq, char *ch, size_t n, const char *och);

#endif
