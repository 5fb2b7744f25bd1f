/* Reading a rule's allow object; see policy.h for the format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_units.h"
#include "server/json_file.h"
#include "server/policy_load.h"
#include "server/validate.h"

/* Checks entry @p i (@p s) of list allow.@p key; 0 or -1. */
typedef int (*entry_check)(const gxd_pol_ctx *c, const char *key, size_t i,
                           const char *s);

/* A glob or path that can match an absolute path (commands, argv[0],
 * cwd): it starts with '/' or with a wildcard. */
static int absolute_pattern(const gxd_pol_ctx *c, const char *key, size_t i,
                            const char *s) {
  if (strchr("/*?[", s[0])) return 0;
  return gxd_pol_err(c,
                     "allow.%s[%zu]: '%.64s' is neither an absolute path "
                     "nor a glob that can match one",
                     key, i, s);
}

static int env_pattern(const gxd_pol_ctx *c, const char *key, size_t i,
                       const char *s) {
  if (!strchr(s, '=')) return 0;
  return gxd_pol_err(c, "allow.%s[%zu]: '%.64s' has '=' (names only)", key, i,
                     s);
}

static int known_profile(const gxd_pol_ctx *c, const char *key, size_t i,
                         const char *s) {
  char names[GXD_PROFILES_MAX * (GXI_PROFILE_NAME_MAX + 2)];
  if (gxd_profiles_find(c->table, s) >= 0) return 0;
  return gxd_pol_err(c, "allow.%s[%zu]: unknown profile '%.40s' (%s)", key, i,
                     s,
                     gxd_profiles_names(c->table, ", ", names, sizeof names));
}

static int known_user(const gxd_pol_ctx *c, const char *key, size_t i,
                      const char *s) {
  char where[40];
  uint32_t uid;
  if (strcmp(s, GXD_POL_CALLER) == 0) return 0;
  snprintf(where, sizeof where, "allow.%s[%zu]", key, i);
  return gxd_pol_lookup(c, where, s, 0, &uid);
}

/* Reads the array @p v of allow.@p key into @p out, each entry checked
 * by @p check (may be NULL). */
static int take_list(const gxd_pol_ctx *c, json_object *v, const char *key,
                     entry_check check, gxd_pol_list *out) {
  char where[40];
  snprintf(where, sizeof where, "allow.%s", key);
  if (!json_object_is_type(v, json_type_array))
    return gxd_pol_err(c, "%s: expected an array, not %s", where,
                       gxd_json_type_name(v));
  size_t n = json_object_array_length(v);
  if (n > GXD_POLICY_MAX_LIST)
    return gxd_pol_err(c, "%s: %zu entries; at most %d", where, n,
                       GXD_POLICY_MAX_LIST);
  if (!(out->v = calloc(n ? n : 1, sizeof *out->v)))
    return gxd_pol_err(c, "out of memory");
  for (size_t i = 0; i < n; i++) {
    if (gxd_pol_string(c, json_object_array_get_idx(v, i), where, i,
                       &out->v[i]) != 0)
      return -1;
    out->n++;
    if (check && check(c, key, i, out->v[i]) != 0) return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- argv */

/* Checks pattern @p i: a program first, "**" last only. */
static int check_pattern(const gxd_pol_ctx *c, size_t i,
                         const gxd_pol_list *pat) {
  if (pat->n == 0)
    return gxd_pol_err(c,
                       "allow.argv[%zu]: empty (element 0 is the "
                       "program)",
                       i);
  if (strchr("/*?[", pat->v[0][0]) == NULL || strcmp(pat->v[0], "**") == 0)
    return gxd_pol_err(c,
                       "allow.argv[%zu][0]: '%.64s' is not a program "
                       "(an absolute path or a glob)",
                       i, pat->v[0]);
  for (size_t k = 1; k + 1 < pat->n; k++)
    if (strcmp(pat->v[k], "**") == 0)
      return gxd_pol_err(c,
                         "allow.argv[%zu][%zu]: \"**\" may only be the "
                         "last element",
                         i, k);
  return 0;
}

static int take_argv(const gxd_pol_ctx *c, json_object *v, gxd_policy_rule *r) {
  if (!json_object_is_type(v, json_type_array))
    return gxd_pol_err(c, "allow.argv: expected an array of arrays, not %s",
                       gxd_json_type_name(v));
  size_t n = json_object_array_length(v);
  if (n > GXD_POLICY_MAX_LIST)
    return gxd_pol_err(c, "allow.argv: %zu patterns; at most %d", n,
                       GXD_POLICY_MAX_LIST);
  if (!(r->argv = calloc(n ? n : 1, sizeof *r->argv)))
    return gxd_pol_err(c, "out of memory");
  for (size_t i = 0; i < n; i++) {
    char key[32];
    json_object *pat = json_object_array_get_idx(v, i);
    snprintf(key, sizeof key, "argv[%zu]", i);
    r->nargv++;
    if (json_object_is_type(pat, json_type_array) &&
        json_object_array_length(pat) > GXD_POLICY_MAX_PATTERN)
      return gxd_pol_err(c, "allow.argv[%zu]: %zu elements; at most %d", i,
                         json_object_array_length(pat), GXD_POLICY_MAX_PATTERN);
    if (take_list(c, pat, key, NULL, &r->argv[i]) != 0 ||
        check_pattern(c, i, &r->argv[i]) != 0)
      return -1;
  }
  return 0;
}

/* -------------------------------------------------------------- limits */

/* One limit of allow.limits: its key, syntax and range. */
typedef struct {
  const char *key;
  enum { NUMBER, SIZE, DURATION } kind;
  uint64_t min, max;
} limit_spec;

/* A duration string into @p ms (> 0), for allow.@p key. */
static int take_duration(const gxd_pol_ctx *c, json_object *v, const char *key,
                         uint64_t *ms) {
  const char *s = gxd_json_text(v), *why = NULL;
  if (!s)
    return gxd_pol_err(c,
                       "allow.%s: expected a duration string (500ms, "
                       "30s, 10m, 2h), not %s",
                       key, gxd_json_type_name(v));
  if (gx_units_parse_duration_ms(s, ms, &why) != 0)
    return gxd_pol_err(c, "allow.%s: '%.40s' is not a duration: %s", key, s,
                       why);
  return 0;
}

static int take_limit(const gxd_pol_ctx *c, const limit_spec *ls,
                      json_object *v, uint64_t *out) {
  char key[32];
  const char *s = gxd_json_text(v), *why = NULL;
  snprintf(key, sizeof key, "limits.%s", ls->key);
  if (ls->kind == DURATION) {
    if (take_duration(c, v, key, out) != 0) return -1;
  } else if (json_object_is_type(v, json_type_int)) {
    int64_t i = json_object_get_int64(v);
    *out = i < 0 ? UINT64_MAX : (uint64_t)i;
  } else if (ls->kind == SIZE && s) {
    if (gx_units_parse_size(s, out, &why) != 0)
      return gxd_pol_err(c, "allow.%s: '%.40s' is not a size: %s", key, s, why);
  } else {
    return gxd_pol_err(
        c, "allow.%s: expected %s, not %s", key,
        ls->kind == SIZE ? "a size string or a number" : "a number",
        gxd_json_type_name(v));
  }
  if (*out < ls->min || *out > ls->max)
    return gxd_pol_err(c, "allow.%s %.40s is outside %llu..%llu", key,
                       json_object_get_string(v), (unsigned long long)ls->min,
                       (unsigned long long)ls->max);
  return 0;
}

static int take_limits(const gxd_pol_ctx *c, json_object *v, gxi_limits *out) {
  static const char *const keys[] = {"memory", "pids", "cpu_time", "open_files",
                                     NULL};
  static const limit_spec specs[4] = {
      {"memory", SIZE, GXD_LIMIT_MEMORY_MIN, GXD_LIMIT_MEMORY_MAX},
      {"pids", NUMBER, GXD_LIMIT_PIDS_MIN, GXD_LIMIT_PIDS_MAX},
      {"cpu_time", DURATION, GXD_LIMIT_CPU_TIME_MIN_MS,
       GXD_LIMIT_CPU_TIME_MAX_MS},
      {"open_files", NUMBER, GXD_LIMIT_OPEN_FILES_MIN,
       GXD_LIMIT_OPEN_FILES_MAX},
  };
  uint64_t *dst[4] = {&out->memory_bytes, &out->pids, &out->cpu_time_ms,
                      &out->open_files};
  json_object *x;
  if (gxd_pol_keys(c, v, "allow.limits", keys) != 0) return -1;
  for (int i = 0; i < 4; i++)
    if (json_object_object_get_ex(v, keys[i], &x) &&
        take_limit(c, &specs[i], x, dst[i]) != 0)
      return -1;
  return 0;
}

/* --------------------------------------------------------------- allow */

static int take_facts(const gxd_pol_ctx *c, json_object *v, int *facts) {
  if (!json_object_is_type(v, json_type_boolean))
    return gxd_pol_err(c, "allow.facts: expected true or false, not %s",
                       gxd_json_type_name(v));
  *facts = json_object_get_boolean(v);
  return 0;
}

static int take_max_timeout(const gxd_pol_ctx *c, json_object *v,
                            uint64_t *ms) {
  if (take_duration(c, v, "max_timeout", ms) != 0) return -1;
  if (*ms == 0)
    return gxd_pol_err(c,
                       "allow.max_timeout: 0 would refuse every run "
                       "(leave the key out for no cap)");
  return 0;
}

/* Allow key @p k (its GXD_POL_A_ bit is 1 << k) with value @p v. */
static int take_allow_key(const gxd_pol_ctx *c, unsigned k, const char *key,
                          json_object *v, gxd_policy_rule *r) {
  switch (1u << k) {
    case GXD_POL_A_COMMANDS:
      return take_list(c, v, key, absolute_pattern, &r->commands);
    case GXD_POL_A_ARGV: return take_argv(c, v, r);
    case GXD_POL_A_PROFILES:
      return take_list(c, v, key, known_profile, &r->profiles);
    case GXD_POL_A_RUN_AS: return take_list(c, v, key, known_user, &r->run_as);
    case GXD_POL_A_MAX_TIMEOUT:
      return take_max_timeout(c, v, &r->max_timeout_ms);
    case GXD_POL_A_LIMITS: return take_limits(c, v, &r->limits);
    case GXD_POL_A_ENV: return take_list(c, v, key, env_pattern, &r->env);
    case GXD_POL_A_CWD: return take_list(c, v, key, absolute_pattern, &r->cwd);
    default: return take_facts(c, v, &r->facts);
  }
}

int gxd_pol_take_allow(const gxd_pol_ctx *c, json_object *a,
                       gxd_policy_rule *r) {
  /* in GXD_POL_A_* bit order */
  static const char *const keys[] = {
      "commands", "argv", "profiles", "run_as", "max_timeout",
      "limits",   "env",  "cwd",      "facts",  NULL};
  json_object *v;
  if (gxd_pol_keys(c, a, "allow", keys) != 0) return -1;
  for (unsigned k = 0; keys[k]; k++) {
    if (!json_object_object_get_ex(a, keys[k], &v)) continue;
    if (take_allow_key(c, k, keys[k], v, r) != 0) return -1;
    r->allow |= 1u << k;
  }
  if (r->commands.n + r->nargv > GXD_POLICY_MAX_PROGRAMS)
    return gxd_pol_err(c,
                       "allow: commands and argv name %zu programs; at "
                       "most %d together",
                       r->commands.n + r->nargv, GXD_POLICY_MAX_PROGRAMS);
  return 0;
}
