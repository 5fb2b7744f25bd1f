#include "server/isolation/profile.h"

#include <string.h>

static const gxi_profile profiles[] = {
    {.name = "host", .no_new_privs = 0},
    {.name = "baseline", .pid_ns = 1, .ipc_ns = 1, .uts_ns = 1,
     .mount_ns = 1, .root_caps = 1},
    {.name = "restricted", .pid_ns = 1, .ipc_ns = 1, .uts_ns = 1,
     .mount_ns = 1, .user_ns = 1, .net_ns = 1, .ro_root = 1,
     .no_new_privs = 1, .drop_caps = 1, .seccomp = 1, .needs_cgroup = 1},
};

int gxi_profile_without(gxi_profile *p, const char *m) {
  if (!strcmp(m, "user")) { /* then root, but with baseline's capabilities */
    p->root_caps = p->root_caps || p->drop_caps;
    p->user_ns = p->drop_caps = 0;
  }
  else if (!strcmp(m, "net")) p->net_ns = 0;
  else if (!strcmp(m, "pid")) p->pid_ns = 0;
  else if (!strcmp(m, "ipc")) p->ipc_ns = 0;
  else if (!strcmp(m, "uts")) p->uts_ns = 0;
  else if (!strcmp(m, "mount")) p->mount_ns = p->ro_root = 0;
  else if (!strcmp(m, "seccomp")) p->seccomp = 0;
  else if (!strcmp(m, "cgroup")) return p->needs_cgroup = 0, 1;
  else return -1;
  return 0;
}

const gxi_profile *gxi_profile_find(const char *name) {
  for (size_t i = 0; i < sizeof profiles / sizeof *profiles; i++)
    if (strcmp(profiles[i].name, name) == 0) return &profiles[i];
  return NULL;
}
