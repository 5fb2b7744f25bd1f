/* The end of a fleet run: gathered output, JSON, summary (fleet_report.h). */
#include "client/cli/fleet_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/exitcode.h"
#include "client/cli/json_out.h"
#include "client/cli/nodeset.h"
#include "client/cli/udiff.h"

/* A folded host set is at most this long in a header or summary line. */
#define FOLD_MAX 4096
/* A reason is at most this long. */
#define REASON_MAX 700

/* A set of hosts (indexes into the host array) sharing something. */
typedef struct {
  size_t *idx;
  size_t n, cap;
} group;

typedef struct {
  group *v;
  size_t n, cap;
} groups;

static void groups_free(groups *g) {
  for (size_t i = 0; i < g->n; i++) free(g->v[i].idx);
  free(g->v);
}

/* Adds host @p h to group @p gi (a new one when gi == g->n). A group's
 * array grows as it fills: n hosts in n groups of one each (every host's
 * output differs) is O(n) memory, not n * n. */
static int groups_add(groups *g, size_t gi, size_t h) {
  if (gi == g->n && g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 4;
    group *nv = realloc(g->v, cap * sizeof *nv);
    if (!nv) return -2;
    g->v = nv;
    g->cap = cap;
  }
  if (gi == g->n) g->v[g->n++] = (group){NULL, 0, 0};
  group *e = &g->v[gi];
  if (e->n == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 4;
    size_t *ni = realloc(e->idx, cap * sizeof *ni);
    if (!ni) return -2;
    e->idx = ni;
    e->cap = cap;
  }
  e->idx[e->n++] = h;
  return 0;
}

const char *gxc_fleet_fold(const gxc_host *hosts, const size_t *idx, size_t k,
                           char *buf, size_t len) {
  const char **names = calloc(k ? k : 1, sizeof *names);
  if (!names) {
    snprintf(buf, len, "(%zu hosts)", k);
    return buf;
  }
  for (size_t i = 0; i < k; i++) names[i] = hosts[idx[i]].name;
  gxc_nodeset_fold(names, k, buf, len);
  free(names);
  return buf;
}

void gxc_fleet_count(const gxc_host *hosts, size_t n, gxc_fleet_counts *c) {
  memset(c, 0, sizeof *c);
  c->hosts = n;
  for (size_t i = 0; i < n; i++) {
    int st = gxc_host_status(&hosts[i]);
    if (hosts[i].outcome != GXC_OUTCOME_OK && st > c->max_status)
      c->max_status = st;
    switch (hosts[i].outcome) {
      case GXC_OUTCOME_OK: c->ok++; break;
      case GXC_OUTCOME_TIMED_OUT: c->timed_out++; break;
      case GXC_OUTCOME_UNREACHABLE: c->unreachable++; break;
      case GXC_OUTCOME_REFUSED: c->refused++; break;
      default: c->failed++; break;
    }
  }
}

int gxc_fleet_status(const gxc_host *hosts, size_t n) {
  gxc_fleet_counts c;
  gxc_fleet_count(hosts, n, &c);
  if (c.unreachable || c.refused) return GXC_EXIT_ERROR;
  return c.max_status;
}

/* ------------------------------------------------------------ summary */

/* Groups the hosts that did not succeed by their reason. */
static int group_reasons(const gxc_host *hosts, size_t n, groups *g) {
  char (*reasons)[REASON_MAX] = calloc(n ? n : 1, REASON_MAX);
  if (!reasons) return -2;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    gxc_host_reason(&hosts[i], reasons[i], REASON_MAX);
    if (!reasons[i][0]) continue;
    size_t gi = 0;
    while (gi < g->n && strcmp(reasons[g->v[gi].idx[0]], reasons[i])) gi++;
    rc = groups_add(g, gi, i);
  }
  free(reasons);
  return rc;
}

int gxc_fleet_summary(const gxc_host *hosts, size_t n, gxc_out *err) {
  groups g = {0};
  char fold[FOLD_MAX], reason[REASON_MAX], line[FOLD_MAX + REASON_MAX + 16];
  int rc = group_reasons(hosts, n, &g);
  for (size_t i = 0; i < g.n && rc == 0; i++) {
    gxc_fleet_fold(hosts, g.v[i].idx, g.v[i].n, fold, sizeof fold);
    gxc_host_reason(&hosts[g.v[i].idx[0]], reason, sizeof reason);
    snprintf(line, sizeof line, "gexec: %s: %s\n", fold, reason);
    rc = gxc_out_puts(err, line);
  }
  gxc_fleet_counts c;
  gxc_fleet_count(hosts, n, &c);
  if (rc == 0 && c.ok < c.hosts) {
    snprintf(line, sizeof line,
             "gexec: %zu host%s: %zu ok, %zu failed, %zu timed out, "
             "%zu unreachable, %zu refused\n",
             c.hosts, c.hosts == 1 ? "" : "s", c.ok, c.failed, c.timed_out,
             c.unreachable, c.refused);
    rc = gxc_out_puts(err, line);
  }
  groups_free(&g);
  return rc;
}

/* ------------------------------------------------------------- gather */

static int ran(const gxc_host *h) {
  return h->has_exit || h->cap[0].len || h->cap[1].len;
}

static int same_output(const gxc_host *a, const gxc_host *b) {
  for (int s = 0; s < 2; s++)
    if (a->cap[s].len != b->cap[s].len ||
        (a->cap[s].len &&
         memcmp(a->cap[s].buf, b->cap[s].buf, a->cap[s].len)))
      return 0;
  return gxc_host_status(a) == gxc_host_status(b);
}

static int group_outputs(const gxc_host *hosts, size_t n, groups *g) {
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (!ran(&hosts[i])) continue;
    size_t gi = 0;
    while (gi < g->n && !same_output(&hosts[g->v[gi].idx[0]], &hosts[i]))
      gi++;
    rc = groups_add(g, gi, i);
  }
  return rc;
}

/* Writes @p len bytes of stderr as lines prefixed "@p fold: ". */
static int prefixed(gxc_out *o, const char *fold, const uint8_t *p,
                    size_t len) {
  while (len > 0) {
    const uint8_t *nl = memchr(p, '\n', len);
    size_t k = nl ? (size_t)(nl - p) : len;
    if (gxc_out_puts(o, fold) || gxc_out_put(o, ": ", 2) ||
        gxc_out_put(o, p, k) || gxc_out_put(o, "\n", 1))
      return -1;
    p += nl ? k + 1 : k;
    len -= nl ? k + 1 : k;
  }
  return 0;
}

static int print_group(const gxc_host *hosts, const group *g, gxc_out *out,
                       gxc_out *err) {
  char fold[FOLD_MAX], head[FOLD_MAX + 64];
  const gxc_host *h = &hosts[g->idx[0]];
  gxc_fleet_fold(hosts, g->idx, g->n, fold, sizeof fold);
  snprintf(head, sizeof head,
           "---------------\n%s (%zu)\n---------------\n", fold, g->n);
  if (gxc_out_puts(out, head) ||
      gxc_out_put(out, h->cap[0].buf, h->cap[0].len))
    return -1;
  if (h->cap[0].len && h->cap[0].buf[h->cap[0].len - 1] != '\n' &&
      gxc_out_put(out, "\n", 1))
    return -1;
  return prefixed(err, fold, h->cap[1].buf, h->cap[1].len);
}

static int diff_put(void *ud, const char *data, size_t len) {
  return gxc_out_put(ud, data, len);
}

/* "HOSTS (N hosts)" and, for stderr, " (stderr)". */
static void label(const gxc_host *hosts, const group *g, int is_err,
                  char *buf, size_t len) {
  char fold[FOLD_MAX];
  gxc_fleet_fold(hosts, g->idx, g->n, fold, sizeof fold);
  snprintf(buf, len, "%s (%zu host%s)%s", fold, g->n, g->n == 1 ? "" : "s",
           is_err ? " (stderr)" : "");
}

static int print_diff(const gxc_host *hosts, const group *ref,
                      const group *g, gxc_out *out) {
  char la[FOLD_MAX + 64], lb[FOLD_MAX + 64];
  const gxc_host *a = &hosts[ref->idx[0]], *b = &hosts[g->idx[0]];
  for (int s = 0; s < 2; s++) {
    label(hosts, ref, s, la, sizeof la);
    label(hosts, g, s, lb, sizeof lb);
    int rc = gxc_udiff((const char *)a->cap[s].buf, a->cap[s].len,
                       (const char *)b->cap[s].buf, b->cap[s].len, la, lb,
                       diff_put, out);
    if (rc != 0) return rc;
  }
  return 0;
}

int gxc_fleet_gather(const gxc_host *hosts, size_t n, int diff, gxc_out *out,
                     gxc_out *err) {
  groups g = {0};
  int rc = group_outputs(hosts, n, &g);
  size_t ref = 0;
  for (size_t i = 1; i < g.n; i++)
    if (g.v[i].n > g.v[ref].n) ref = i;
  for (size_t i = 0; i < g.n && rc == 0; i++) {
    if (!diff)
      rc = print_group(hosts, &g.v[i], out, err);
    else if (i != ref)
      rc = print_diff(hosts, &g.v[ref], &g.v[i], out);
  }
  groups_free(&g);
  return rc;
}

/* --------------------------------------------------------------- JSON */

json_object *gxc_fleet_json_summary(const gxc_host *hosts, size_t n,
                                    int64_t wall_us) {
  gxc_fleet_counts c;
  gxc_fleet_count(hosts, n, &c);
  json_object *s = json_object_new_object();
  if (!s) return NULL;
  json_object_object_add(s, "hosts", json_object_new_int64((int64_t)c.hosts));
  json_object_object_add(s, "ok", json_object_new_int64((int64_t)c.ok));
  json_object_object_add(s, "failed", json_object_new_int64((int64_t)c.failed));
  json_object_object_add(s, "timed_out",
                         json_object_new_int64((int64_t)c.timed_out));
  json_object_object_add(s, "unreachable",
                         json_object_new_int64((int64_t)c.unreachable));
  json_object_object_add(s, "refused",
                         json_object_new_int64((int64_t)c.refused));
  json_object_object_add(s, "max_exit_code", json_object_new_int(c.max_status));
  json_object_object_add(s, "wall_time_us", json_object_new_int64(wall_us));
  return s;
}

/* One host's object: single-host's, plus address and identity. */
static json_object *host_json(const gxc_host *h, const char *const *argv) {
  gxc_json_run r = {
      .target = h->name, .argv = argv, .has_exit = h->has_exit,
      .exit = h->exit, .pid = h->pid, .run_id = h->run_id,
      .out = h->cap[0].buf, .out_len = h->cap[0].len,
      .err = h->cap[1].buf, .err_len = h->cap[1].len,
      .capture_truncated = h->cap[0].truncated || h->cap[1].truncated,
      .rc = h->rc, .error = &h->err};
  json_object *o = gxc_json_build(&r);
  if (!o) return NULL;
  json_object_object_add(o, "address", json_object_new_string(h->address));
  json_object_object_add(o, "identity",
                         h->identity[0] ? json_object_new_string(h->identity)
                                        : NULL);
  return o;
}

json_object *gxc_fleet_json(const gxc_host *hosts, size_t n,
                            const char *const *argv, int64_t wall_us) {
  json_object *doc = json_object_new_object(), *arr = json_object_new_array();
  json_object *sum = gxc_fleet_json_summary(hosts, n, wall_us);
  int ok = doc && arr && sum;
  for (size_t i = 0; i < n && ok; i++) {
    json_object *h = host_json(&hosts[i], argv);
    ok = h && json_object_array_add(arr, h) == 0;
  }
  if (!ok) {
    json_object_put(doc);
    json_object_put(arr);
    json_object_put(sum);
    return NULL;
  }
  json_object_object_add(doc, "hosts", arr);
  json_object_object_add(doc, "summary", sum);
  return doc;
}
