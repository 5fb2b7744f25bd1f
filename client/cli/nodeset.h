/**
 * @file nodeset.h
 * Node sets in the ClusterShell/pdsh style: expanding a pattern with
 * bracketed ranges ("node[01-64]", "rack[1-2]-n[1-8]") into names, and
 * folding a list of names back into the shortest such text
 * ("node[01-40,42]"). Pure: no I/O, no globals.
 */
#ifndef GXC_NODESET_H
#define GXC_NODESET_H

#include <stddef.h>

/** Most names one gxc_nodeset_expand call produces. */
#define GXC_NODESET_MAX 65536

/** Longest name gxc_nodeset_expand produces, in bytes (NUL excluded). */
#define GXC_NODESET_NAME_MAX 255

/** Most digits of one number inside brackets. */
#define GXC_NODESET_DIGITS_MAX 9

/** A growable list of strings. Zero-initialize it; every string is owned
 *  by the list (copied in by gxc_names_add) and freed by gxc_names_free. */
typedef struct {
  char **v;
  size_t n, cap;
} gxc_names;

/** Frees every string and the array; leaves @p l empty and reusable. */
void gxc_names_free(gxc_names *l);

/** Appends a copy of @p s. Returns 0, or -1 (ENOMEM; @p l unchanged). */
int gxc_names_add(gxc_names *l, const char *s);

/** Frees the strings from index @p n on and shrinks @p l to @p n names. */
void gxc_names_truncate(gxc_names *l, size_t n);

/**
 * Expands one pattern with ClusterShell/pdsh ranges ("node[01-64]",
 * "rack[1-2]-n[1-8]", "10.0.0.[1-9]", "n[1,3,5-7]", "x" without brackets)
 * into names, appended to @p out in order (the leftmost range varies
 * slowest). Padding: "[01-64]" gives node01..node64 (the width of the
 * lower bound's text). Limits: at most GXC_NODESET_MAX names per call,
 * names at most GXC_NODESET_NAME_MAX bytes, numbers at most
 * GXC_NODESET_DIGITS_MAX digits. Characters outside brackets are not
 * checked (the caller validates host names).
 * Returns 0, or -1 with @p out as it was and a reason in @p why that
 * quotes the pattern and gives the 1-based position of the problem, e.g.
 * "'node[3-1]': position 6: range 3-1 goes backwards".
 */
int gxc_nodeset_expand(const char *pattern, gxc_names *out, char *why,
                       size_t why_len);

/**
 * Folds names into the shortest ClusterShell-style text: node01..node40,
 * node42 -> "node[01-40,42]"; rack1-n1..rack2-n8 -> "rack[1-2]-n[1-8]";
 * 10.214.0.1..16 -> "10.214.0.[1-16]"; "10.214.0.5:7443".."10.214.0.9:7443"
 * -> "10.214.0.[5-9]:7443". Any digit run may vary (runs longer than
 * GXC_NODESET_DIGITS_MAX are constant text); names without digits stay
 * as they are; duplicates count once; groups are separated by ','.
 * Padding is kept (node1 and node01 are different).
 * Writes at most @p cap bytes NUL-terminated into @p out (nothing when
 * @p cap is 0); if the text does not fit, it ends with "..." (as much as
 * fits). Returns the length the whole text needs (like snprintf), or 0
 * with "" when memory runs out. Deterministic: groups sorted by their
 * text before the first number, then by their numbers.
 */
size_t gxc_nodeset_fold(const char *const *names, size_t n, char *out,
                        size_t cap);

/**
 * Writes the error "'ITEM': position POS: MESSAGE" into @p why (bounded),
 * ITEM quoted with bytes outside printable ASCII as \\xNN and cut to 200
 * bytes with "...". Returns -1 (for "return gxc_nodeset_error(...)").
 */
int gxc_nodeset_error(char *why, size_t why_len, const char *item,
                      size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** Writes @p s quoted as gxc_nodeset_error does (no quote marks) into
 *  @p out, at most @p cap bytes NUL-terminated. */
void gxc_nodeset_quote(const char *s, char *out, size_t cap);

#endif
