/**
 * @file policy_load.h
 * What the files that read a policy file share (policy_load.c: the
 * file, its rules and their match; policy_allow.c: a rule's allow).
 * Not for other modules.
 */
#ifndef GXD_POLICY_LOAD_H
#define GXD_POLICY_LOAD_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "server/policy_internal.h"

/** Where a load error is: the file and the rule being read. */
typedef struct {
  const char *file;
  size_t index;               /**< in the rules array */
  const char *rule;           /**< its name, NULL until accepted */
  const gxd_profiles *table;  /**< the profile table */
  char *why;
  size_t len;
} gxd_pol_ctx;

/** Writes "FILE: rule 'NAME': MESSAGE" (or "FILE: rules[I]: ...") to
 *  c->why. Returns -1. */
int gxd_pol_err(const gxd_pol_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Checks that @p obj is an object whose keys are all in the
 *  NULL-terminated @p keys; @p where names it. Returns 0 or -1. */
int gxd_pol_keys(const gxd_pol_ctx *c, json_object *obj, const char *where,
                 const char *const *keys);

/** Copies the non-empty string of at most GXD_POLICY_MAX_STRING bytes
 *  in @p v to *@p out (malloc'd); @p where and @p index (SIZE_MAX:
 *  none) name it. Returns 0 or -1. */
int gxd_pol_string(const gxd_pol_ctx *c, json_object *v, const char *where,
                   size_t index, char **out);

/** Resolves user (@p group 0) or group (1) @p name to its id. Returns 0,
 *  or -1 for an unknown name or a failed lookup. */
int gxd_pol_lookup(const gxd_pol_ctx *c, const char *where, const char *name,
                   int group, uint32_t *id);

/** Reads a rule's allow object @p a into @p r. Returns 0 or -1. */
int gxd_pol_take_allow(const gxd_pol_ctx *c, json_object *a,
                       gxd_policy_rule *r);

#endif
