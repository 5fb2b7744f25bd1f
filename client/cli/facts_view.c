/* Showing facts: paths, block, table, diff, selection (facts_view.h). */
#include "client/cli/facts_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/textsafe.h"

/* Longest FIELD path handled. */
#define PATH_MAX_LEN 512

const char *const gxc_facts_default_fields[] = {
    "hostname", "os.pretty_name", "kernel.release", "cpu.logical_count",
    "memory.total_bytes", NULL};

/* Top-level keys and the group the daemon sends them in. */
static const struct {
  const char *key, *group;
} groups_of[] = {
    {"hostname", "system"},      {"fqdn", "system"},
    {"machine_id", "system"},    {"boot_id", "system"},
    {"os", "os"},                {"kernel", "kernel"},
    {"boot_time_unix", "uptime"}, {"uptime_seconds", "uptime"},
    {"load", "load"},            {"cpu", "cpu"},
    {"memory", "memory"},        {"filesystems", "filesystems"},
    {"interfaces", "interfaces"}, {"daemon", "daemon"},
};

int gxc_facts_groups(const char *const *fields, size_t n,
                     const char **groups) {
  size_t ng = 0;
  if (n == 0) return -1;
  for (size_t i = 0; i < n; i++) {
    size_t klen = strcspn(fields[i], ".");
    const char *g = NULL;
    for (size_t k = 0; k < sizeof groups_of / sizeof *groups_of; k++)
      if (strlen(groups_of[k].key) == klen &&
          !strncmp(groups_of[k].key, fields[i], klen))
        g = groups_of[k].group;
    if (!g) return -1;
    size_t j = 0;
    while (j < ng && strcmp(groups[j], g)) j++;
    if (j == ng && ng < 15) groups[ng++] = g;
  }
  groups[ng] = NULL;
  return 0;
}

/* The element of array @p a that segment @p seg (length @p len) picks:
 * by index, else by its "name". */
static json_object *pick(json_object *a, const char *seg, size_t len) {
  size_t n = json_object_array_length(a), idx = 0, digits = 0;
  while (digits < len && seg[digits] >= '0' && seg[digits] <= '9' &&
         idx < 1000000)
    idx = idx * 10 + (size_t)(seg[digits++] - '0');
  if (digits == len && len > 0)
    return idx < n ? json_object_array_get_idx(a, idx) : NULL;
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(a, i), *nm;
    if (json_object_object_get_ex(e, "name", &nm) &&
        json_object_is_type(nm, json_type_string) &&
        strlen(json_object_get_string(nm)) == len &&
        !strncmp(json_object_get_string(nm), seg, len))
      return e;
  }
  return NULL;
}

/* One step of a path from @p v: the child named by seg[0..len). */
static json_object *step(json_object *v, const char *seg, size_t len) {
  char key[PATH_MAX_LEN];
  if (json_object_is_type(v, json_type_array)) return pick(v, seg, len);
  if (!json_object_is_type(v, json_type_object) || len >= sizeof key)
    return NULL;
  memcpy(key, seg, len);
  key[len] = '\0';
  json_object *c;
  return json_object_object_get_ex(v, key, &c) ? c : NULL;
}

json_object *gxc_facts_lookup(json_object *facts, const char *path) {
  json_object *v = facts;
  while (v && *path) {
    size_t len = strcspn(path, ".");
    v = step(v, path, len);
    path += len;
    if (*path == '.') path++;
  }
  return v;
}

const char *gxc_facts_text(json_object *v, char *buf, size_t len) {
  const char *s;
  if (!v || json_object_is_type(v, json_type_null))
    s = "-";
  else if (json_object_is_type(v, json_type_string))
    s = json_object_get_string(v);
  else
    s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                              JSON_C_TO_STRING_NOSLASHESCAPE);
  return gxc_text_safe(s ? s : "-", buf, len); /* a daemon's strings */
}

/* ------------------------------------------------------------- leaves */

typedef int (*leaf_fn)(void *ud, const char *path, json_object *v);

/* The segment of element @p i of array @p a: its name, else i. */
static void elem_seg(json_object *e, size_t i, char *buf, size_t len) {
  json_object *nm;
  if (json_object_is_type(e, json_type_object) &&
      json_object_object_get_ex(e, "name", &nm) &&
      json_object_is_type(nm, json_type_string) &&
      !strchr(json_object_get_string(nm), '.'))
    gxc_text_safe(json_object_get_string(nm), buf, len);
  else
    snprintf(buf, len, "%zu", i);
}

/* Calls @p fn for every leaf under @p v, whose path is @p path. */
static int leaves(json_object *v, char *path, size_t plen, leaf_fn fn,
                  void *ud) {
  size_t cap = PATH_MAX_LEN;
  int rc = 0;
  if (json_object_is_type(v, json_type_object)) {
    json_object_object_foreach(v, k, c) {
      snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k);
      if ((rc = leaves(c, path, strlen(path), fn, ud)) != 0) break;
    }
  } else if (json_object_is_type(v, json_type_array) &&
             json_object_array_length(v) > 0) {
    for (size_t i = 0; i < json_object_array_length(v) && rc == 0; i++) {
      char seg[128];
      json_object *e = json_object_array_get_idx(v, i);
      elem_seg(e, i, seg, sizeof seg);
      snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", seg);
      rc = leaves(e, path, strlen(path), fn, ud);
    }
  } else {
    rc = fn(ud, path, v);
  }
  path[plen] = '\0';
  return rc;
}

/* Calls @p fn for every leaf under each field (all when nf == 0). */
static int each_leaf(json_object *facts, const char *const *fields,
                     size_t nf, leaf_fn fn, void *ud) {
  char path[PATH_MAX_LEN] = "";
  if (nf == 0) return leaves(facts, path, 0, fn, ud);
  for (size_t i = 0; i < nf; i++) {
    json_object *v = gxc_facts_lookup(facts, fields[i]);
    snprintf(path, sizeof path, "%s", fields[i]);
    int rc = v ? leaves(v, path, strlen(path), fn, ud)
               : fn(ud, fields[i], NULL);
    if (rc != 0) return rc;
  }
  return 0;
}

/* -------------------------------------------------------------- block */

static int block_line(void *ud, const char *path, json_object *v) {
  char val[4096];
  gxc_out *o = ud;
  gxc_facts_text(v, val, sizeof val);
  return gxc_out_puts(o, path) || gxc_out_put(o, ": ", 2) ||
                 gxc_out_puts(o, val) || gxc_out_put(o, "\n", 1)
             ? -1
             : 0;
}

int gxc_facts_block(json_object *facts, const char *const *fields, size_t n,
                    gxc_out *o) {
  return each_leaf(facts, fields, n, block_line, o);
}

/* -------------------------------------------------------------- table */

static void cell(json_object *facts, const char *field, char *buf,
                 size_t len) {
  char v[4096];
  gxc_facts_text(facts ? gxc_facts_lookup(facts, field) : NULL, v, sizeof v);
  if (strlen(v) > GXC_FACTS_CELL_MAX)
    snprintf(buf, len, "%.*s...", GXC_FACTS_CELL_MAX - 3, v);
  else
    snprintf(buf, len, "%s", v);
}

/* Writes one row: @p cells[0..n) padded to @p width. */
static int row(char (*cells)[GXC_FACTS_CELL_MAX + 8], const size_t *width,
               size_t n, gxc_out *o) {
  for (size_t c = 0; c < n; c++) {
    size_t l = strlen(cells[c]);
    if (gxc_out_puts(o, cells[c])) return -1;
    for (size_t k = l; c + 1 < n && k < width[c] + 2; k++)
      if (gxc_out_put(o, " ", 1)) return -1;
  }
  return gxc_out_put(o, "\n", 1);
}

int gxc_facts_table(const char *const *names, json_object *const *facts,
                    size_t n, const char *const *fields, size_t nf,
                    gxc_out *o) {
  size_t cols = nf + 1;
  char (*cells)[GXC_FACTS_CELL_MAX + 8] = calloc(cols, sizeof *cells);
  size_t *width = calloc(cols, sizeof *width);
  int rc = cells && width ? 0 : -1;
  for (int pass = 0; pass < 2 && rc == 0; pass++) {
    for (size_t r = 0; r <= n && rc == 0; r++) { /* r == 0: the header */
      snprintf(cells[0], sizeof cells[0], "%.*s", GXC_FACTS_CELL_MAX,
               r ? names[r - 1] : "HOST");
      for (size_t c = 0; c < nf; c++) {
        if (r)
          cell(facts[r - 1], fields[c], cells[c + 1], sizeof cells[0]);
        else
          snprintf(cells[c + 1], sizeof cells[0], "%.*s", GXC_FACTS_CELL_MAX,
                   fields[c]);
      }
      for (size_t c = 0; c < cols && pass == 0; c++)
        if (strlen(cells[c]) > width[c]) width[c] = strlen(cells[c]);
      if (pass == 1) rc = row(cells, width, cols, o);
    }
  }
  free(cells);
  free(width);
  return rc;
}

/* --------------------------------------------------------------- diff */

typedef struct {
  char **paths;
  size_t n, cap;
  int oom;
} path_set;

static int add_path(void *ud, const char *path, json_object *v) {
  path_set *s = ud;
  (void)v;
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->paths[i], path)) return 0;
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    char **np = realloc(s->paths, cap * sizeof *np);
    if (!np) return s->oom = 1, -1;
    s->paths = np;
    s->cap = cap;
  }
  if (!(s->paths[s->n] = strdup(path))) return s->oom = 1, -1;
  s->n++;
  return 0;
}

/* Whether the value at @p path differs between answering hosts. */
static int differs(json_object *const *facts, size_t n, const char *path) {
  char first[4096], v[4096];
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    if (!facts[i]) continue;
    gxc_facts_text(gxc_facts_lookup(facts[i], path), v, sizeof v);
    if (!seen++) memcpy(first, v, sizeof v);
    else if (strcmp(first, v)) return 1;
  }
  return 0;
}

long gxc_facts_differing(json_object *const *facts, size_t n,
                         const char *const *fields, size_t nf, char ***out) {
  path_set all = {0};
  for (size_t i = 0; i < n && !all.oom; i++)
    if (facts[i]) each_leaf(facts[i], fields, nf, add_path, &all);
  if (all.oom) {
    gxc_facts_paths_free(all.paths, all.n);
    return -1;
  }
  size_t k = 0;
  for (size_t i = 0; i < all.n; i++) {
    if (differs(facts, n, all.paths[i]))
      all.paths[k++] = all.paths[i];
    else
      free(all.paths[i]);
  }
  *out = all.paths;
  return (long)k;
}

void gxc_facts_paths_free(char **paths, size_t n) {
  for (size_t i = 0; i < n; i++) free(paths[i]);
  free(paths);
}

/* ------------------------------------------------------------- select */

/* Copies the value at @p path of @p src into @p dst (both objects). */
static int select_path(json_object *dst, json_object *src, const char *path) {
  size_t len = strcspn(path, ".");
  char key[PATH_MAX_LEN];
  if (len >= sizeof key) return 0;
  memcpy(key, path, len);
  key[len] = '\0';
  json_object *c;
  if (!json_object_object_get_ex(src, key, &c)) return 0;
  const char *rest = path[len] == '.' ? path + len + 1 : NULL;
  if (!rest || !*rest || json_object_is_type(c, json_type_array)) {
    json_object *v = c;
    if (rest && *rest) { /* an element: its array, holding that element */
      size_t sl = strcspn(rest, ".");
      json_object *e = pick(c, rest, sl);
      if (!e) return 0;
      json_object *have, *arr = json_object_object_get_ex(dst, key, &have)
                                    ? have : json_object_new_array();
      if (!arr) return -1;
      if (arr != have) json_object_object_add(dst, key, arr);
      return json_object_array_add(arr, json_object_get(e));
    }
    return json_object_object_add(dst, key, json_object_get(v));
  }
  if (!json_object_is_type(c, json_type_object)) return 0;
  json_object *sub;
  if (!json_object_object_get_ex(dst, key, &sub)) {
    if (!(sub = json_object_new_object())) return -1;
    json_object_object_add(dst, key, sub);
  }
  return select_path(sub, c, rest);
}

json_object *gxc_facts_select(json_object *facts, const char *const *fields,
                              size_t n) {
  if (n == 0) return json_object_get(facts);
  json_object *o = json_object_new_object();
  for (size_t i = 0; o && i < n; i++)
    if (select_path(o, facts, fields[i]) != 0) {
      json_object_put(o);
      return NULL;
    }
  return o;
}
