/* The profile table and the profiles file; see profiles.h. */
#include "server/profiles.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_units.h"
#include "server/json_file.h"
#include "server/validate.h"

void gxd_profiles_init(gxd_profiles *t) {
  memset(t, 0, sizeof *t);
  for (int i = 0; i < GXI_PROFILE_BUILTINS; i++)
    t->entry[t->n++] = *gxi_profile_builtin((gxi_builtin)i);
}

int gxd_profiles_find(const gxd_profiles *t, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->entry[i].name, name) == 0) return (int)i;
  return -1;
}

char *gxd_profiles_names(const gxd_profiles *t, const char *last_sep,
                         char *buf, size_t len) {
  size_t n = 0;
  if (len) buf[0] = '\0';
  for (size_t i = 0; i < t->n && n < len; i++) {
    const char *sep = i == 0 ? "" : i + 1 == t->n ? last_sep : ", ";
    int w = snprintf(buf + n, len - n, "%s%s", sep, t->entry[i].name);
    n += w > 0 ? (size_t)w : 0;
  }
  return buf;
}

/* ------------------------------------------------------------ parsing */

/* Where an error is: the file and the profile being read. */
typedef struct {
  const char *file;
  size_t index;     /* in the file's array */
  const char *name; /* NULL until the name was accepted */
  uint64_t max_open_files;
  char *why;
  size_t len;
} ctx;

static int err(const ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes "FILE: profile 'NAME': " (or "profiles[I]: ") and the message.
 * Returns -1. */
static int err(const ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gxd_json_entry_verr(c->why, c->len, c->file, "profile", c->name, c->index,
                      fmt, ap);
  va_end(ap);
  return -1;
}

/* Checks that every key of @p obj is in the NULL-terminated @p keys;
 * @p where prefixes the message ("" or "limits: "). */
static int known_keys(const ctx *c, json_object *obj, const char *where,
                      const char *const *keys, const char *expected) {
  const char *key = gxd_json_unknown_key(obj, keys);
  if (key)
    return err(c, "%sunknown key '%.40s' (expected %s)", where, key,
               expected);
  return 0;
}

static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > GXI_PROFILE_NAME_MAX) return 0;
  return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* Takes the entry's name into @p p (and c->name). */
static int take_name(ctx *c, json_object *entry, const gxd_profiles *t,
                     gxi_profile *p) {
  json_object *v;
  if (!json_object_object_get_ex(entry, "name", &v))
    return err(c, "name is missing");
  const char *s = gxd_json_text(v);
  if (!s)
    return err(c, "name: expected a string, not %s", gxd_json_type_name(v));
  if (!valid_name(s))
    return err(c, "name '%.40s' is not 1 to %d of a-z, 0-9, '_' and '-'",
               s, GXI_PROFILE_NAME_MAX);
  int k = gxd_profiles_find(t, s);
  if (k >= 0 && k < GXI_PROFILE_BUILTINS)
    return err(c, "name '%s' is a built-in profile's", s);
  if (k >= 0) return err(c, "name '%s' is defined twice", s);
  snprintf(p->name, sizeof p->name, "%s", s);
  c->name = p->name;
  return 0;
}

static int take_base(const ctx *c, json_object *entry, gxi_profile *p) {
  json_object *v;
  if (!json_object_object_get_ex(entry, "base", &v))
    return err(c, "base is missing (host, baseline or restricted)");
  const char *s = gxd_json_text(v);
  if (!s)
    return err(c, "base: expected a string, not %s", gxd_json_type_name(v));
  int b = gxi_profile_builtin_find(s);
  if (b < 0)
    return err(c, "base '%.40s' is not host, baseline or restricted", s);
  const gxi_profile *base = gxi_profile_builtin((gxi_builtin)b);
  p->base = (gxi_builtin)b;
  p->mechs = base->mechs;
  p->defaults = base->defaults;
  return 0;
}

/* Every mechanism's name, for messages. */
static const char *mech_list(char *buf, size_t len) {
  size_t n = 0;
  buf[0] = '\0';
  for (uint32_t b = 1; b & GXI_MECH_ALL && n < len; b <<= 1) {
    int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
                     gxi_mech_name((gxi_mech)b));
    n += w > 0 ? (size_t)w : 0;
  }
  return buf;
}

/* The mechanisms listed under @p key ("add" or "remove"), as bits. */
static int take_mechs(const ctx *c, json_object *entry, const char *key,
                      uint32_t *out) {
  json_object *v;
  char names[128];
  *out = 0;
  if (!json_object_object_get_ex(entry, key, &v)) return 0;
  if (!json_object_is_type(v, json_type_array))
    return err(c, "%s: expected an array of mechanism names, not %s", key,
               gxd_json_type_name(v));
  for (size_t i = 0; i < json_object_array_length(v); i++) {
    json_object *m = json_object_array_get_idx(v, i);
    const char *s = gxd_json_text(m);
    if (!s)
      return err(c, "%s[%zu]: expected a mechanism name, not %s", key, i,
                 gxd_json_type_name(m));
    uint32_t bit = gxi_mech_find(s);
    if (!bit)
      return err(c, "%s: unknown mechanism '%.40s' (%s)", key, s,
                 mech_list(names, sizeof names));
    *out |= bit;
  }
  return 0;
}

/* One default limit of the "limits" object. */
typedef struct {
  const char *key;
  int duration;      /* a duration string, else a size/number */
  uint64_t min, max; /* Start.limits' range */
} limit_spec;

/* Sizes and durations as everywhere else (lib/gx_units.h). */
static int parse_limit_text(int duration, const char *s, uint64_t *v) {
  return duration ? gx_units_parse_duration_ms(s, v, NULL)
                  : gx_units_parse_size(s, v, NULL);
}

static int take_limit(const ctx *c, const limit_spec *ls, json_object *v,
                      uint64_t *out) {
  const char *s = gxd_json_text(v);
  uint64_t n;
  if (json_object_is_type(v, json_type_int)) {
    int64_t i = json_object_get_int64(v);
    if (i < 0)
      return err(c, "limits.%s %lld is outside %llu..%llu (0 means none)",
                 ls->key, (long long)i, (unsigned long long)ls->min,
                 (unsigned long long)ls->max);
    n = (uint64_t)i;
  } else if (!s) {
    return err(c, "limits.%s: expected a string or a whole number, not %s",
               ls->key, gxd_json_type_name(v));
  } else if (parse_limit_text(ls->duration, s, &n) != 0) {
    return err(c, "limits.%s: '%.40s' is not %s", ls->key, s,
               ls->duration ? "a duration (a number with a unit: 500ms, "
                              "30s, 10m, 2h)"
                            : "a number with an optional K, M or G suffix");
  }
  if (n != 0 && (n < ls->min || n > ls->max))
    return err(c, "limits.%s %llu is outside %llu..%llu (0 means none)",
               ls->key, (unsigned long long)n, (unsigned long long)ls->min,
               (unsigned long long)ls->max);
  *out = n;
  return 0;
}

/* The "limits" object: each key given replaces the base's default; bit
 * k of *given says that limit k was given. */
static int take_limits(const ctx *c, json_object *entry, gxi_profile *p,
                       unsigned *given) {
  static const char *const keys[] = {"memory", "pids", "cpu_time",
                                     "open_files", NULL};
  const limit_spec specs[4] = {
      {"memory", 0, GXD_LIMIT_MEMORY_MIN, GXD_LIMIT_MEMORY_MAX},
      {"pids", 0, GXD_LIMIT_PIDS_MIN, GXD_LIMIT_PIDS_MAX},
      {"cpu_time", 1, GXD_LIMIT_CPU_TIME_MIN_MS, GXD_LIMIT_CPU_TIME_MAX_MS},
      {"open_files", 0, GXD_LIMIT_OPEN_FILES_MIN, c->max_open_files},
  };
  uint64_t *dst[4] = {&p->defaults.memory_bytes, &p->defaults.pids,
                      &p->defaults.cpu_time_ms, &p->defaults.open_files};
  json_object *lim, *v;
  *given = 0;
  if (!json_object_object_get_ex(entry, "limits", &lim)) return 0;
  if (!json_object_is_type(lim, json_type_object))
    return err(c, "limits: expected an object, not %s",
               gxd_json_type_name(lim));
  if (known_keys(c, lim, "limits: ", keys,
                 "memory, pids, cpu_time, open_files") != 0)
    return -1;
  for (int i = 0; i < 4; i++) {
    if (!json_object_object_get_ex(lim, specs[i].key, &v)) continue;
    if (take_limit(c, &specs[i], v, dst[i]) != 0) return -1;
    *given |= 1u << i;
  }
  return 0;
}

/* The mechanisms: base, plus add, less remove; then what the limits
 * need (see profiles.h). */
static int settle_mechs(const ctx *c, gxi_profile *p, uint32_t add,
                        uint32_t remove, unsigned given) {
  uint32_t both = add & remove;
  if (both)
    return err(c, "%s is both added and removed",
               gxi_mech_name((gxi_mech)(both & -both)));
  p->mechs = (p->mechs | add) & ~remove;
  if ((p->mechs & GXI_MECH_RO_ROOT) && !(p->mechs & GXI_MECH_MOUNT))
    return err(c, "ro-root needs mount (the read-only root is built in "
                  "the run's mount namespace)");
  if (remove & GXI_MECH_CGROUP) {
    if ((given & 1) && p->defaults.memory_bytes)
      return err(c, "limits.memory needs the cgroup mechanism, which this "
                    "profile removes");
    if ((given & 2) && p->defaults.pids)
      return err(c, "limits.pids needs the cgroup mechanism, which this "
                    "profile removes");
    p->defaults.memory_bytes = p->defaults.pids = 0;
  }
  if (p->defaults.memory_bytes || p->defaults.pids)
    p->mechs |= GXI_MECH_CGROUP;
  return 0;
}

static int take_entry(ctx *c, json_object *entry, gxd_profiles *t) {
  static const char *const keys[] = {"name", "base", "add", "remove",
                                     "limits", NULL};
  gxi_profile p;
  uint32_t add, remove;
  unsigned given;
  memset(&p, 0, sizeof p);
  c->name = NULL;
  if (!json_object_is_type(entry, json_type_object))
    return err(c, "expected an object, not %s", gxd_json_type_name(entry));
  if (take_name(c, entry, t, &p) != 0 ||
      known_keys(c, entry, "", keys,
                 "name, base, add, remove, limits") != 0 ||
      take_base(c, entry, &p) != 0 ||
      take_mechs(c, entry, "add", &add) != 0 ||
      take_mechs(c, entry, "remove", &remove) != 0 ||
      take_limits(c, entry, &p, &given) != 0 ||
      settle_mechs(c, &p, add, remove, given) != 0)
    return -1;
  t->entry[t->n++] = p;
  c->name = NULL;
  return 0;
}

int gxd_profiles_parse(gxd_profiles *t, const char *file, const char *text,
                       size_t len, uint64_t max_open_files, char *why,
                       size_t why_len) {
  gxd_profiles next = *t;
  ctx c = {.file = file, .max_open_files = max_open_files, .why = why,
           .len = why_len};
  int rc = -1;
  json_object *root = gxd_json_parse(file, text, len, why, why_len);
  json_object *arr = root ? gxd_json_top_array(file, root, "profiles", why,
                                              why_len)
                         : NULL;
  if (!arr) goto out;
  size_t n = json_object_array_length(arr);
  if (n > GXD_PROFILES_MAX - next.n) {
    snprintf(why, why_len, "%s: %zu profiles; at most %zu besides the "
             "built-ins", file, n, (size_t)GXD_PROFILES_MAX - next.n);
    goto out;
  }
  for (c.index = 0; c.index < n; c.index++)
    if (take_entry(&c, json_object_array_get_idx(arr, c.index), &next) != 0)
      goto out;
  *t = next;
  rc = 0;
out:
  json_object_put(root);
  return rc;
}

int gxd_profiles_load(gxd_profiles *t, const char *file,
                      uint64_t max_open_files, char *why, size_t why_len) {
  char *text;
  size_t len;
  if (gxd_json_read(file, GXD_PROFILES_FILE_MAX, &text, &len, why,
                    why_len) != 0)
    return -1;
  int rc = gxd_profiles_parse(t, file, text, len, max_open_files, why,
                              why_len);
  free(text);
  return rc;
}

/* -------------------------------------------------------------- flags */

static int check_flag(const gxd_profiles *t, const char *flag,
                      const char *name, char *why, size_t why_len) {
  char names[GXD_PROFILES_MAX * (GXI_PROFILE_NAME_MAX + 2)];
  if (gxd_profiles_find(t, name) >= 0) return 0;
  snprintf(why, why_len, "invalid value '%s' for %s: expected %s", name,
           flag, gxd_profiles_names(t, " or ", names, sizeof names));
  return -1;
}

int gxd_profiles_check_flags(const gxd_profiles *t, const gxd_config *cfg,
                             char *why, size_t why_len) {
  if (check_flag(t, "--default-profile", cfg->default_profile, why,
                 why_len) != 0)
    return -1;
  for (int i = 0; i < cfg->nallow_reduced; i++)
    if (check_flag(t, "--allow-reduced", cfg->allow_reduced[i], why,
                   why_len) != 0)
      return -1;
  unsigned char allowed[GXD_PROFILES_MAX];
  return gxd_profiles_allowed(t, cfg, allowed, why, why_len);
}

/* --allow-profiles: each comma-separated name must be in @p t. */
static int allow_list(const gxd_profiles *t, const char *list,
                      unsigned char allowed[GXD_PROFILES_MAX], char *why,
                      size_t why_len) {
  const char *at = list;
  for (;;) {
    size_t n = strcspn(at, ",");
    char name[GXI_PROFILE_NAME_MAX + 2];
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), at);
    if (n >= sizeof name - 1 || check_flag(t, "--allow-profiles", name, why,
                                           why_len) != 0) {
      if (n >= sizeof name - 1)
        snprintf(why, why_len, "invalid value '%.*s' for --allow-profiles: "
                 "not a profile name", (int)(n > 64 ? 64 : n), at);
      return -1;
    }
    allowed[gxd_profiles_find(t, name)] = 1;
    if (!at[n]) return 0;
    at += n + 1;
  }
}

int gxd_profiles_allowed(const gxd_profiles *t, const gxd_config *cfg,
                         unsigned char allowed[GXD_PROFILES_MAX], char *why,
                         size_t why_len) {
  int def = gxd_profiles_find(t, cfg->default_profile);
  memset(allowed, 0, GXD_PROFILES_MAX);
  if (def < 0)
    return check_flag(t, "--default-profile", cfg->default_profile, why,
                      why_len);
  if (cfg->allow_profiles) {
    if (allow_list(t, cfg->allow_profiles, allowed, why, why_len) != 0)
      return -1;
    if (!allowed[def])
      return snprintf(why, why_len, "--default-profile %s is not in "
                      "--allow-profiles %s", cfg->default_profile,
                      cfg->allow_profiles), -1;
    return 0;
  }
  uint32_t need = cfg->default_profile_set ? t->entry[def].mechs : 0;
  for (size_t i = 0; i < t->n; i++)
    allowed[i] = (t->entry[i].mechs & need) == need;
  return 0;
}
