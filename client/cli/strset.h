/**
 * @file strset.h
 * A set of borrowed strings (open addressing, FNV-1a), internal to the
 * targets library: duplicate and exclusion look-ups in linear time.
 */
#ifndef GXC_STRSET_H
#define GXC_STRSET_H

#include <stddef.h>

/** Zero-initialize. The strings are borrowed: they must outlive the set. */
typedef struct {
  const char **slot;
  size_t n, cap;
} gxc__strset;

/** Adds @p s. Returns 1 if added, 0 if already there, -1 (ENOMEM). */
int gxc__strset_add(gxc__strset *set, const char *s);

/** 1 if @p s is in the set, else 0. */
int gxc__strset_has(const gxc__strset *set, const char *s);

/** Frees the table (not the strings); leaves the set empty. */
void gxc__strset_free(gxc__strset *set);

#endif
