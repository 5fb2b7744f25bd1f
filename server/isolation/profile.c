#include "server/isolation/profile.h"

#include <string.h>

static const gxi_profile profiles[] = {
    {.name = "host", .no_new_privs = 0},
    {.name = "baseline", .pid_ns = 1, .ipc_ns = 1, .uts_ns = 1,
     .mount_ns = 1},
    {.name = "restricted", .pid_ns = 1, .ipc_ns = 1, .uts_ns = 1,
     .mount_ns = 1, .user_ns = 1, .net_ns = 1, .ro_root = 1,
     .no_new_privs = 1, .drop_caps = 1, .seccomp = 1},
};

const gxi_profile *gxi_profile_find(const char *name) {
  for (size_t i = 0; i < sizeof profiles / sizeof *profiles; i++)
    if (strcmp(profiles[i].name, name) == 0) return &profiles[i];
  return NULL;
}
