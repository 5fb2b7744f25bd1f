/* The built-in profiles and mechanism names; see profile.h. */
#include "server/isolation/profile.h"

#include <stdio.h>
#include <string.h>

#define NS_BASELINE                                                      \
  (GXI_MECH_PID | GXI_MECH_IPC | GXI_MECH_UTS | GXI_MECH_MOUNT)

static const gxi_profile builtins[GXI_PROFILE_BUILTINS] = {
    [GXI_PROFILE_HOST] = {.name = "host", .base = GXI_PROFILE_HOST},
    [GXI_PROFILE_BASELINE] = {.name = "baseline",
                              .base = GXI_PROFILE_BASELINE,
                              .mechs = NS_BASELINE | GXI_MECH_CAPS},
    [GXI_PROFILE_RESTRICTED] =
        {.name = "restricted",
         .base = GXI_PROFILE_RESTRICTED,
         .mechs = NS_BASELINE | GXI_MECH_USER | GXI_MECH_NET |
                  GXI_MECH_SECCOMP | GXI_MECH_CGROUP | GXI_MECH_RO_ROOT |
                  GXI_MECH_NNP | GXI_MECH_CAPS,
         .defaults = {.memory_bytes = 1ull << 30, .pids = 1024,
                      .open_files = 1024}},
};

/* In bit order. */
static const char *const mech_names[] = {
    "pid", "ipc", "uts", "mount", "user", "net",
    "seccomp", "cgroup", "ro-root", "nnp", "caps",
};

const gxi_profile *gxi_profile_builtin(gxi_builtin id) {
  return id < GXI_PROFILE_BUILTINS ? &builtins[id] : NULL;
}

int gxi_profile_builtin_find(const char *name) {
  for (int i = 0; i < GXI_PROFILE_BUILTINS; i++)
    if (strcmp(builtins[i].name, name) == 0) return i;
  return -1;
}

const char *gxi_mech_name(gxi_mech m) {
  for (size_t i = 0; i < sizeof mech_names / sizeof *mech_names; i++)
    if (m == 1u << i) return mech_names[i];
  return "?";
}

uint32_t gxi_mech_find(const char *name) {
  for (size_t i = 0; i < sizeof mech_names / sizeof *mech_names; i++)
    if (strcmp(mech_names[i], name) == 0) return 1u << i;
  return 0;
}

uint32_t gxi_mech_without(uint32_t mechs, uint32_t remove) {
  mechs &= ~remove;
  if (!(mechs & GXI_MECH_MOUNT)) mechs &= ~GXI_MECH_RO_ROOT;
  return mechs;
}

char *gxi_mech_namespaces(uint32_t mechs, char *buf, size_t len) {
  size_t n = 0;
  if (len) buf[0] = '\0';
  for (uint32_t b = 1; b <= GXI_MECH_NET; b <<= 1) {
    if (!(mechs & b) || n >= len) continue;
    int w = snprintf(buf + n, len - n, "%s%s", n ? "+" : "",
                     gxi_mech_name((gxi_mech)b));
    n += w > 0 ? (size_t)w : 0;
  }
  if (len && !buf[0]) snprintf(buf, len, "none");
  return buf;
}
