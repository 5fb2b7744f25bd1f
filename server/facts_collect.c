/* The groups of facts and their reading into one FactsResponse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/facts.h"
#include "server/facts_read.h"

static const char *const group_names[] = {
    "system", "os",          "kernel",     "uptime", "load",
    "cpu",    "memory",      "filesystems", "interfaces", "daemon"};
#define FACTS_NGROUPS (sizeof group_names / sizeof *group_names)

void gxd_facts_group_names(unsigned groups, char *buf, size_t len) {
  size_t w = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < FACTS_NGROUPS && w < len; i++)
    if (groups & (1u << i)) {
      int n = snprintf(buf + w, len - w, "%s%s", w ? ", " : "",
                       group_names[i]);
      if (n < 0) break;
      w += (size_t)n;
    }
}

int gxd_facts_groups(char *const *names, size_t n, unsigned *out, char *why,
                     size_t why_len) {
  unsigned g = n ? 0 : GXD_FACTS_ALL;
  for (size_t k = 0; k < n; k++) {
    size_t i = 0;
    while (i < FACTS_NGROUPS && strcmp(names[k], group_names[i]) != 0) i++;
    if (i == FACTS_NGROUPS) {
      char known[160];
      gxd_facts_group_names(GXD_FACTS_ALL, known, sizeof known);
      snprintf(why, why_len, "unknown facts group '%.64s'; known: %s",
               names[k], known);
      return -1;
    }
    g |= 1u << i;
  }
  *out = g;
  return 0;
}

/* A zeroed sub-message of @p size bytes made by @p init, or NULL. */
static void *sub(size_t size, void (*init)(void *)) {
  void *m = malloc(size);
  if (m) init(m);
  return m;
}

#define SUB(type, init) \
  ((type *)sub(sizeof(type), (void (*)(void *))init))

static int daemon_group(const gxd_facts_src *src, Gexec__V1__FactsDaemon *d) {
  if (gxd_facts_set(&d->version, src->version) != 0) return -1;
  d->profiles = calloc(src->nprofiles ? src->nprofiles : 1,
                       sizeof *d->profiles);
  if (!d->profiles) return -1;
  for (size_t i = 0; i < src->nprofiles; i++) {
    const gxd_facts_profile *p = &src->profiles[i];
    Gexec__V1__FactsProfile *m =
        SUB(Gexec__V1__FactsProfile, gexec__v1__facts_profile__init);
    if (!m) return -1;
    d->profiles[d->n_profiles++] = m;
    m->full = p->full;
    m->served = p->served;
    if (gxd_facts_set(&m->name, p->name) != 0 ||
        gxd_facts_set(&m->tier, p->tier) != 0)
      return -1;
  }
  return 0;
}

/* The sub-messages of the groups asked; -1 only out of memory. */
static int alloc_groups(unsigned g, Gexec__V1__FactsResponse *r) {
  if ((g & GXD_FACTS_OS) &&
      !(r->os = SUB(Gexec__V1__FactsOs, gexec__v1__facts_os__init)))
    return -1;
  if ((g & GXD_FACTS_KERNEL) &&
      !(r->kernel = SUB(Gexec__V1__FactsKernel, gexec__v1__facts_kernel__init)))
    return -1;
  if ((g & GXD_FACTS_LOAD) &&
      !(r->load = SUB(Gexec__V1__FactsLoad, gexec__v1__facts_load__init)))
    return -1;
  if ((g & GXD_FACTS_CPU) &&
      !(r->cpu = SUB(Gexec__V1__FactsCpu, gexec__v1__facts_cpu__init)))
    return -1;
  if ((g & GXD_FACTS_MEMORY) &&
      !(r->memory = SUB(Gexec__V1__FactsMemory, gexec__v1__facts_memory__init)))
    return -1;
  if ((g & GXD_FACTS_DAEMON) &&
      !(r->daemon = SUB(Gexec__V1__FactsDaemon, gexec__v1__facts_daemon__init)))
    return -1;
  return 0;
}

/* Reads every group asked. A reader that fails (a file missing) leaves
 * its facts at zero; only running out of memory fails the call, which a
 * failing reader cannot tell apart here: the daemon answers with what
 * it has. */
static void read_groups(const gxd_facts_src *src, unsigned g, int pseudo,
                        Gexec__V1__FactsResponse *r) {
  const char *root = src->root;
  if (g & GXD_FACTS_SYSTEM) gxd_facts_system(root, src->live, r);
  if (r->os) gxd_facts_os(root, r->os);
  if (r->kernel) gxd_facts_kernel(root, r->kernel);
  if (g & GXD_FACTS_UPTIME) gxd_facts_uptime(root, r);
  if (r->load) gxd_facts_load(root, r->load);
  if (r->cpu) gxd_facts_cpu(root, r->cpu);
  if (r->memory) gxd_facts_memory(root, r->memory);
  if (g & GXD_FACTS_FILESYSTEMS)
    gxd_facts_filesystems(root, pseudo, src->live, r);
  if ((g & GXD_FACTS_INTERFACES) && src->live) gxd_facts_interfaces(root, r);
}

int gxd_facts_collect(const gxd_facts_src *src, unsigned groups, int pseudo,
                      Gexec__V1__FactsResponse **out) {
  Gexec__V1__FactsResponse *r =
      SUB(Gexec__V1__FactsResponse, gexec__v1__facts_response__init);
  if (!r || alloc_groups(groups, r) != 0 ||
      (r->daemon && daemon_group(src, r->daemon) != 0)) {
    if (r) gexec__v1__facts_response__free_unpacked(r, NULL);
    return -1;
  }
  read_groups(src, groups, pseudo, r);
  *out = r;
  return 0;
}
