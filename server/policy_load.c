/* Reading a policy file: rules and their match; see policy.h. The allow
 * object is read by policy_allow.c. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/json_file.h"
#include "server/policy_load.h"

int gxd_pol_err(const gxd_pol_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gxd_json_entry_verr(c->why, c->len, c->file, "rule", c->rule, c->index, fmt,
                      ap);
  va_end(ap);
  return -1;
}

int gxd_pol_keys(const gxd_pol_ctx *c, json_object *obj, const char *where,
                 const char *const *keys) {
  char expected[200];
  size_t n = 0;
  const char *bad;
  if (!json_object_is_type(obj, json_type_object))
    return gxd_pol_err(c, "%s: expected an object, not %s", where,
                       gxd_json_type_name(obj));
  if (!(bad = gxd_json_unknown_key(obj, keys))) return 0;
  expected[0] = '\0';
  for (size_t k = 0; keys[k] && n < sizeof expected; k++) {
    int w = snprintf(expected + n, sizeof expected - n, "%s%s", k ? ", " : "",
                     keys[k]);
    n += w > 0 ? (size_t)w : 0;
  }
  return gxd_pol_err(c, "%s: unknown key '%.40s' (expected %s)", where, bad,
                     expected);
}

int gxd_pol_string(const gxd_pol_ctx *c, json_object *v, const char *where,
                   size_t index, char **out) {
  char at[64];
  const char *s = gxd_json_text(v);
  if (index == SIZE_MAX)
    snprintf(at, sizeof at, "%s", where);
  else
    snprintf(at, sizeof at, "%s[%zu]", where, index);
  if (!s)
    return gxd_pol_err(c, "%s: expected a string, not %s", at,
                       gxd_json_type_name(v));
  if (!*s) return gxd_pol_err(c, "%s: empty", at);
  if (strlen(s) > GXD_POLICY_MAX_STRING)
    return gxd_pol_err(c, "%s: longer than %d bytes", at,
                       GXD_POLICY_MAX_STRING);
  if (!(*out = strdup(s))) return gxd_pol_err(c, "out of memory");
  return 0;
}

/* ------------------------------------------------------ users, groups */

/* Runs getpwnam_r (@p group 0) or getgrnam_r (1) for @p name with a
 * buffer grown as needed. Returns 0 with the id, ENOENT, or an errno. */
static int lookup(const char *name, int group, uint32_t *id) {
  size_t cap = 16384;
  int rc = ENOMEM;
  for (char *buf = NULL; cap <= (1u << 20); cap *= 2) {
    struct passwd pw, *pwr = NULL;
    struct group gr, *grr = NULL;
    char *nb = realloc(buf, cap);
    if (!nb) break;
    buf = nb;
    rc = group ? getgrnam_r(name, &gr, buf, cap, &grr)
               : getpwnam_r(name, &pw, buf, cap, &pwr);
    if (rc == ERANGE) continue;
    if (rc == 0 && !pwr && !grr) rc = ENOENT;
    if (rc == 0) *id = group ? grr->gr_gid : pwr->pw_uid;
    free(buf);
    return rc;
  }
  return rc;
}

int gxd_pol_lookup(const gxd_pol_ctx *c, const char *where, const char *name,
                   int group, uint32_t *id) {
  const char *kind = group ? "group" : "user";
  int rc = lookup(name, group, id);
  if (rc == ENOENT)
    return gxd_pol_err(c, "%s: unknown %s '%.64s'", where, kind, name);
  if (rc != 0)
    return gxd_pol_err(c, "%s: cannot look up %s '%.64s': %s", where, kind,
                       name, strerror(rc));
  return 0;
}

/* -------------------------------------------------------------- match */

static int take_uid(const gxd_pol_ctx *c, json_object *v, gxd_policy_rule *r) {
  if (!json_object_is_type(v, json_type_int))
    return gxd_pol_err(c, "match.uid: expected a number, not %s",
                       gxd_json_type_name(v));
  int64_t n = json_object_get_int64(v);
  if (n < 0 || n >= (int64_t)UINT32_MAX)
    return gxd_pol_err(c, "match.uid: %lld is not a uid", (long long)n);
  r->uids[0] = (uint32_t)n;
  r->nuids = 1;
  return 0;
}

static int take_name_key(const gxd_pol_ctx *c, json_object *v, const char *key,
                         gxd_policy_rule *r) {
  char *name = NULL;
  int group = strcmp(key, "match.group") == 0;
  int rc = gxd_pol_string(c, v, key, SIZE_MAX, &name);
  if (rc == 0)
    rc = gxd_pol_lookup(c, key, name, group, group ? &r->gid : &r->user_uid);
  free(name);
  return rc;
}

static int take_anon(const gxd_pol_ctx *c, json_object *v) {
  if (!json_object_is_type(v, json_type_boolean))
    return gxd_pol_err(c, "match.anonymous_loopback: expected true, not %s",
                       gxd_json_type_name(v));
  if (!json_object_get_boolean(v))
    return gxd_pol_err(c,
                       "match.anonymous_loopback: false matches nothing "
                       "(leave the key out)");
  return 0;
}

/* One key of the match object (@p bit its GXD_POL_M_ bit). */
static int take_match_key(const gxd_pol_ctx *c, const char *key, json_object *v,
                          gxd_policy_rule *r, unsigned bit) {
  char where[40];
  snprintf(where, sizeof where, "match.%s", key);
  switch (bit) {
    case GXD_POL_M_SPIFFE:
      return gxd_pol_string(c, v, where, SIZE_MAX, &r->spiffe);
    case GXD_POL_M_DNS: return gxd_pol_string(c, v, where, SIZE_MAX, &r->dns);
    case GXD_POL_M_CN: return gxd_pol_string(c, v, where, SIZE_MAX, &r->cn);
    case GXD_POL_M_UID: return take_uid(c, v, r);
    case GXD_POL_M_USER:
    case GXD_POL_M_GROUP: return take_name_key(c, v, where, r);
    default: return take_anon(c, v);
  }
}

static int take_match(const gxd_pol_ctx *c, json_object *m,
                      gxd_policy_rule *r) {
  static const char *const keys[] = {
      "spiffe", "dns", "cn", "uid", "user", "group", "anonymous_loopback",
      NULL};
  json_object *v;
  if (gxd_pol_keys(c, m, "match", keys) != 0) return -1;
  for (unsigned k = 0; keys[k]; k++) {
    if (!json_object_object_get_ex(m, keys[k], &v)) continue;
    if (take_match_key(c, keys[k], v, r, 1u << k) != 0) return -1;
    r->match |= 1u << k;
  }
  if (!r->match)
    return gxd_pol_err(c,
                       "match: no keys (a rule must say whom it is "
                       "for)");
  int kinds = !!(r->match & GXD_POL_M_TLS) + !!(r->match & GXD_POL_M_UNIX) +
              !!(r->match & GXD_POL_M_ANON_LOOPBACK);
  if (kinds > 1)
    return gxd_pol_err(c,
                       "match: mixes keys of different callers "
                       "(certificate: spiffe, dns, cn; unix: uid, user, "
                       "group; anonymous_loopback): no caller matches");
  return 0;
}

/* --------------------------------------------------------------- rule */

static int valid_name(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n <= GXD_POLICY_NAME_MAX &&
         strspn(s,
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789._-") == n;
}

/* Takes the rule's name (and makes it the context's). */
static int take_name(gxd_pol_ctx *c, json_object *entry, gxd_policy *p,
                     gxd_policy_rule *r) {
  json_object *v;
  if (!json_object_object_get_ex(entry, "name", &v))
    return gxd_pol_err(c, "name is missing");
  if (gxd_pol_string(c, v, "name", SIZE_MAX, &r->name) != 0) return -1;
  if (!valid_name(r->name))
    return gxd_pol_err(c,
                       "name '%.40s' is not 1 to %d of A-Z, a-z, 0-9, "
                       "'.', '_' and '-'",
                       r->name, GXD_POLICY_NAME_MAX);
  for (size_t i = 0; i < c->index; i++)
    if (strcmp(p->rule[i].name, r->name) == 0)
      return gxd_pol_err(c, "name '%s' is used by rules[%zu] too", r->name, i);
  c->rule = r->name;
  return 0;
}

static int take_rule(gxd_pol_ctx *c, json_object *entry, gxd_policy *p) {
  static const char *const keys[] = {"name", "match", "allow", "comment", NULL};
  gxd_policy_rule *r = &p->rule[c->index];
  json_object *m, *a, *note;
  c->rule = NULL;
  if (!json_object_is_type(entry, json_type_object))
    return gxd_pol_err(c, "expected an object, not %s",
                       gxd_json_type_name(entry));
  if (take_name(c, entry, p, r) != 0 ||
      gxd_pol_keys(c, entry, "rule", keys) != 0)
    return -1;
  if (json_object_object_get_ex(entry, "comment", &note) &&
      !gxd_json_text(note))
    return gxd_pol_err(c, "comment: expected a string, not %s",
                       gxd_json_type_name(note));
  if (!json_object_object_get_ex(entry, "match", &m))
    return gxd_pol_err(c, "match is missing");
  if (!json_object_object_get_ex(entry, "allow", &a))
    return gxd_pol_err(c, "allow is missing");
  return take_match(c, m, r) != 0 || gxd_pol_take_allow(c, a, r) != 0 ? -1 : 0;
}

/* The rules array of @p root, checked for size; NULL with a reason. */
static json_object *rules_of(const char *file, json_object *root, char *why,
                             size_t why_len) {
  json_object *arr = gxd_json_top_array(file, root, "rules", why, why_len);
  size_t n = arr ? json_object_array_length(arr) : 0;
  if (arr && n == 0)
    snprintf(why, why_len,
             "%s: rules: empty (no caller could run "
             "anything: leave --policy out, or write a rule)",
             file);
  else if (n > GXD_POLICY_MAX_RULES)
    snprintf(why, why_len, "%s: rules: %zu rules; at most %d", file, n,
             GXD_POLICY_MAX_RULES);
  else
    return arr;
  return NULL;
}

int gxd_policy_parse(const char *file, const char *text, size_t len,
                     const gxd_profiles *table, gxd_policy **out, char *why,
                     size_t why_len) {
  gxd_pol_ctx c = {.file = file, .table = table, .why = why, .len = why_len};
  gxd_policy *p = NULL;
  int rc = -1;
  json_object *root = gxd_json_parse(file, text, len, why, why_len);
  json_object *arr = NULL;
  if (root && gxd_json_check_keys(file, text, len, why, why_len) == 0)
    arr = rules_of(file, root, why, why_len);
  if (!arr) goto out;
  if (!(p = gxd_pol_alloc(json_object_array_length(arr)))) {
    snprintf(why, why_len, "%s: out of memory", file);
    goto out;
  }
  for (c.index = 0; c.index < p->n; c.index++)
    if (take_rule(&c, json_object_array_get_idx(arr, c.index), p) != 0)
      goto out;
  *out = p;
  p = NULL;
  rc = 0;
out:
  gxd_policy_unref(p);
  json_object_put(root);
  return rc;
}

int gxd_policy_load(const char *path, const gxd_profiles *table,
                    gxd_policy **out, char *why, size_t why_len) {
  char *text;
  size_t len;
  if (gxd_json_read(path, GXD_POLICY_FILE_MAX, &text, &len, why, why_len))
    return -1;
  int rc = gxd_policy_parse(path, text, len, table, out, why, why_len);
  free(text);
  return rc;
}
