/* Facts from /proc: cpuinfo, meminfo, loadavg, uptime, stat. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/facts_read.h"

/* ------------------------------------------------------------ cpuinfo */

/* One (physical id, core id) pair; -1 = absent. */
typedef struct {
  long phys, core;
} core_key;

typedef struct {
  core_key *keys; /* one per processor, its ids */
  size_t n, cap;
  uint32_t logical;
  char model[256];
  int model_rank; /* which key gave model: lower is better */
} cpu_scan;

/* "key<tabs/spaces>: value": splits @p line in place; returns 0 if it
 * has that form. */
static int split_kv(char *line, char **key, char **val) {
  char *colon = strchr(line, ':');
  if (!colon) return -1;
  char *e = colon;
  while (e > line && (e[-1] == ' ' || e[-1] == '\t')) e--;
  *e = '\0';
  *key = line;
  *val = colon + 1 + strspn(colon + 1, " \t");
  return 0;
}

static int push_processor(cpu_scan *c) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    core_key *k = realloc(c->keys, cap * sizeof *k);
    if (!k) return -1;
    c->keys = k;
    c->cap = cap;
  }
  c->keys[c->n++] = (core_key){-1, -1};
  c->logical++;
  return 0;
}

static void take_model(cpu_scan *c, const char *key, const char *val) {
  static const char *const names[] = {"model name", "Hardware", "Processor",
                                      "cpu model", "cpu"};
  for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
    if (strcmp(key, names[i]) == 0 && *val &&
        (!c->model[0] || i < c->model_rank)) {
      snprintf(c->model, sizeof c->model, "%s", val);
      c->model_rank = i;
    }
}

static int cpu_line(cpu_scan *c, char *line) {
  char *key, *val;
  if (split_kv(line, &key, &val) != 0) return 0;
  if (strcmp(key, "processor") == 0) return push_processor(c);
  if (c->n > 0 && strcmp(key, "physical id") == 0)
    c->keys[c->n - 1].phys = strtol(val, NULL, 10);
  else if (c->n > 0 && strcmp(key, "core id") == 0)
    c->keys[c->n - 1].core = strtol(val, NULL, 10);
  else
    take_model(c, key, val);
  return 0;
}

static int key_cmp(const void *a, const void *b) {
  const core_key *x = a, *y = b;
  if (x->phys != y->phys) return x->phys < y->phys ? -1 : 1;
  return x->core < y->core ? -1 : x->core > y->core;
}

/* Distinct pairs (cores) and distinct physical ids (sockets), over the
 * processors that have a physical id. */
static void count_cores(cpu_scan *c, Gexec__V1__FactsCpu *out) {
  size_t with = 0;
  for (size_t i = 0; i < c->n; i++)
    if (c->keys[i].phys >= 0) c->keys[with++] = c->keys[i];
  out->logical_count = c->logical;
  out->physical_count = c->logical;
  out->sockets = c->logical ? 1 : 0;
  if (with == 0) return;
  qsort(c->keys, with, sizeof *c->keys, key_cmp);
  uint32_t cores = 1, sockets = 1;
  for (size_t i = 1; i < with; i++) {
    if (key_cmp(&c->keys[i], &c->keys[i - 1]) != 0) cores++;
    if (c->keys[i].phys != c->keys[i - 1].phys) sockets++;
  }
  out->physical_count = cores;
  out->sockets = sockets;
}

int gxd_facts_cpu(const char *root, Gexec__V1__FactsCpu *out) {
  char *buf, *save = NULL;
  cpu_scan c = {0};
  int rc = -1;
  if (gxd_facts_read_file(root, "/proc/cpuinfo", GXD_FACTS_FILE_MAX, &buf) <
      0)
    return -1;
  for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
    if (cpu_line(&c, l) != 0) goto out;
  count_cores(&c, out);
  rc = gxd_facts_set(&out->model, c.model);
out:
  free(c.keys);
  free(buf);
  return rc;
}

/* ------------------------------------------------- meminfo and friends */

static const char *next_line(const char *l) {
  const char *nl = strchr(l, '\n');
  return nl ? nl + 1 : NULL;
}

/* The "kB" figure of @p key in meminfo @p text, in bytes; 0 if absent. */
static uint64_t meminfo_bytes(const char *text, const char *key) {
  size_t klen = strlen(key);
  for (const char *l = text; l && *l; l = next_line(l))
    if (strncmp(l, key, klen) == 0 && l[klen] == ':') {
      unsigned long long kb = strtoull(l + klen + 1, NULL, 10);
      return kb > UINT64_MAX / 1024 ? UINT64_MAX : (uint64_t)kb * 1024;
    }
  return 0;
}

int gxd_facts_memory(const char *root, Gexec__V1__FactsMemory *out) {
  char *t;
  if (gxd_facts_read_file(root, "/proc/meminfo", GXD_FACTS_SMALL_MAX, &t) < 0)
    return -1;
  out->total_bytes = meminfo_bytes(t, "MemTotal");
  out->available_bytes = meminfo_bytes(t, "MemAvailable");
  out->swap_total_bytes = meminfo_bytes(t, "SwapTotal");
  out->swap_free_bytes = meminfo_bytes(t, "SwapFree");
  free(t);
  return 0;
}

int gxd_facts_load(const char *root, Gexec__V1__FactsLoad *out) {
  char *t;
  int rc = -1;
  if (gxd_facts_read_file(root, "/proc/loadavg", GXD_FACTS_SMALL_MAX, &t) < 0)
    return -1;
  if (sscanf(t, "%lf %lf %lf", &out->avg1, &out->avg5, &out->avg15) == 3)
    rc = 0;
  free(t);
  return rc;
}

/* btime of /proc/stat; 0 if absent. */
static uint64_t stat_btime(const char *text) {
  for (const char *l = text; l && *l; l = next_line(l))
    if (strncmp(l, "btime ", 6) == 0) return strtoull(l + 6, NULL, 10);
  return 0;
}

int gxd_facts_uptime(const char *root, Gexec__V1__FactsResponse *r) {
  char *t;
  int rc = 0;
  if (gxd_facts_read_file(root, "/proc/uptime", GXD_FACTS_SMALL_MAX, &t) < 0)
    return -1;
  if (sscanf(t, "%lf", &r->uptime_seconds) != 1) rc = -1;
  free(t);
  /* /proc/stat grows with the CPUs (a line each) and interrupts */
  if (gxd_facts_read_file(root, "/proc/stat", GXD_FACTS_FILE_MAX, &t) < 0)
    return -1;
  r->boot_time_unix = stat_btime(t);
  free(t);
  return rc;
}
