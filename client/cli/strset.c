/* A set of borrowed strings: open addressing with linear probing, the
 * table a power of two at most half full. */
#include "client/cli/strset.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

/* The slot holding @p s, or the empty slot where it would go. */
static size_t find(const gxc__strset *set, const char *s) {
  size_t i = hash(s) & (set->cap - 1);
  while (set->slot[i] && strcmp(set->slot[i], s) != 0)
    i = (i + 1) & (set->cap - 1);
  return i;
}

static int grow(gxc__strset *set) {
  gxc__strset bigger = {NULL, set->n, set->cap ? set->cap * 2 : 64};
  bigger.slot = calloc(bigger.cap, sizeof *bigger.slot);
  if (!bigger.slot) return errno = ENOMEM, -1;
  for (size_t i = 0; i < set->cap; i++)
    if (set->slot[i]) bigger.slot[find(&bigger, set->slot[i])] = set->slot[i];
  free(set->slot);
  *set = bigger;
  return 0;
}

int gxc__strset_add(gxc__strset *set, const char *s) {
  size_t i;
  if ((set->n + 1) * 2 > set->cap && grow(set) != 0) return -1;
  i = find(set, s);
  if (set->slot[i]) return 0;
  set->slot[i] = s;
  set->n++;
  return 1;
}

int gxc__strset_has(const gxc__strset *set, const char *s) {
  return set->cap && set->slot[find(set, s)] != NULL;
}

void gxc__strset_free(gxc__strset *set) {
  free(set->slot);
  set->slot = NULL;
  set->n = set->cap = 0;
}
