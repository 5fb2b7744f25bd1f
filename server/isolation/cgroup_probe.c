/* What the cgroup filesystems offer: gxi_cgroup_probe (start-up, with
 * probe leaves) and gxi_cgroup_detect (per run, side-effect free); see
 * cgroup.h and the design note in cgroup.c. */
#include "server/isolation/cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "server/isolation/cgroup_fs.h"

/* ---- probe ------------------------------------------------------------ */

/* Creates @p base/gexec (if missing) and @p base/gexec/probe-<pid>
 * into @p probe; sets *made if this call created the parent. */
static int probe_enter(const char *base, char probe[GXI_CGROUP_PATH_MAX],
                       int *made) {
  char parent[GXI_CGROUP_PATH_MAX], leaf[32];
  int rc = gxi__path_join(parent, base, GXI_CGROUP_PARENT, NULL);
  *made = 0;
  if (rc < 0) return rc;
  rc = gxi__mkdir(parent);
  if (rc == 0)
    *made = 1;
  else if (rc != -EEXIST)
    return rc;
  snprintf(leaf, sizeof leaf, "probe-%ld", (long)getpid());
  rc = gxi__path_join(probe, parent, leaf, NULL);
  if (rc == 0) rc = gxi__mkdir_ok(probe);
  if (rc < 0 && *made) (void)gxi__rmdir(parent);
  return rc;
}

/* Undoes probe_enter(): the probe leaf, and the parent if it made it
 * (a run creating its leaf at the same time retries, see make_leaf). */
static void probe_leave(const char *probe, int made) {
  char parent[GXI_CGROUP_PATH_MAX];
  const char *slash = strrchr(probe, '/');
  (void)gxi__rmdir(probe);
  if (!made || !slash) return;
  snprintf(parent, sizeof parent, "%.*s", (int)(slash - probe), probe);
  (void)gxi__rmdir(parent);
}

/* Pure v2 at @p root. */
static int probe_v2_pure(const char *root, gxi_cgroup_caps *caps) {
  char ctrl[SMALL_FILE_MAX], parent[GXI_CGROUP_PATH_MAX];
  char probe[GXI_CGROUP_PATH_MAX];
  int rc, made;
  if (gxi__file_read(root, "cgroup.controllers", ctrl, sizeof ctrl) < 0)
    ctrl[0] = '\0';
  rc = gxi__path_join(parent, root, GXI_CGROUP_PARENT, NULL);
  if (rc < 0) return rc;
  if (probe_enter(root, probe, &made) < 0) return 0; /* read-only */
  gxi__v2_enable(root, ctrl);
  gxi__v2_enable(parent, ctrl);
  caps->has_memory = gxi__file_writable(probe, "memory.max");
  caps->has_pids = gxi__file_writable(probe, "pids.max");
  caps->has_kill = gxi__file_writable(probe, "cgroup.kill");
  caps->has_swap_limit =
      caps->has_memory && gxi__file_writable(probe, "memory.swap.max");
  probe_leave(probe, made);
  if (caps->has_memory || caps->has_pids) caps->version = 2;
  if (caps->version || caps->has_kill)
    snprintf(caps->v2_root, sizeof caps->v2_root, "%s", root);
  return 0;
}

/* A v1 hierarchy @p root/@p sub whose leaves have writable @p file; on
 * success copies its mount point to @p out and returns 1. */
static int probe_v1(const char *root, const char *sub, const char *file,
                    char out[GXI_CGROUP_PATH_MAX], int *swap) {
  char base[GXI_CGROUP_PATH_MAX], probe[GXI_CGROUP_PATH_MAX];
  int ok, made;
  if (gxi__path_join(base, root, sub, NULL) < 0) return 0;
  if (!gxi__fs_is(base, CGROUP_SUPER_MAGIC)) return 0;
  if (probe_enter(base, probe, &made) < 0) return 0;
  ok = gxi__file_writable(probe, file);
  if (ok && swap) *swap = gxi__file_writable(probe, "memory.memsw.limit_in_bytes");
  probe_leave(probe, made);
  if (ok) snprintf(out, GXI_CGROUP_PATH_MAX, "%s", base);
  return ok;
}

/* cgroup2 at @p root/unified usable for cgroup.kill. */
static void probe_unified(const char *root, gxi_cgroup_caps *caps) {
  char base[GXI_CGROUP_PATH_MAX], probe[GXI_CGROUP_PATH_MAX];
  int made;
  if (gxi__path_join(base, root, "unified", NULL) < 0) return;
  if (!gxi__fs_is(base, CGROUP2_SUPER_MAGIC)) return;
  if (probe_enter(base, probe, &made) < 0) return;
  caps->has_kill = gxi__file_writable(probe, "cgroup.kill");
  probe_leave(probe, made);
  if (caps->has_kill)
    snprintf(caps->v2_root, sizeof caps->v2_root, "%s", base);
}

static void describe(gxi_cgroup_caps *caps) {
  const char *what = caps->has_memory && caps->has_pids ? "memory+pids"
                     : caps->has_memory                 ? "memory"
                                                        : "pids";
  const char *swap =
      caps->has_memory && !caps->has_swap_limit ? " (swap not limited)" : "";
  if (caps->version == 2)
    gxi__set_msg(caps->desc, sizeof caps->desc, "cgroup v2 %s%s, %s", what, swap,
            caps->has_kill ? "kill" : "no kill");
  else if (caps->version == 1)
    gxi__set_msg(caps->desc, sizeof caps->desc, "cgroup v1 %s%s, %s", what, swap,
            caps->has_kill ? "v2 kill" : "no kill");
  else if (caps->has_kill)
    gxi__set_msg(caps->desc, sizeof caps->desc, "no cgroup limits, v2 kill");
  else
    gxi__set_msg(caps->desc, sizeof caps->desc, "no cgroups");
}

int gxi_cgroup_probe_at(const char *root, gxi_cgroup_caps *caps) {
  int rc = 0;
  memset(caps, 0, sizeof *caps);
  if (strlen(root) + 64 >= GXI_CGROUP_PATH_MAX) return -ENAMETOOLONG;
  if (gxi__fs_is(root, CGROUP2_SUPER_MAGIC)) {
    rc = probe_v2_pure(root, caps);
  } else {
    caps->has_memory = probe_v1(root, "memory", "memory.limit_in_bytes",
                                caps->mem_root, &caps->has_swap_limit);
    caps->has_pids = probe_v1(root, "pids", "pids.max", caps->pids_root,
                              NULL);
    if (caps->has_memory || caps->has_pids) caps->version = 1;
    probe_unified(root, caps);
  }
  describe(caps);
  return rc;
}

int gxi_cgroup_probe(gxi_cgroup_caps *caps) {
  return gxi_cgroup_probe_at(GXI_CGROUP_ROOT, caps);
}

/* A v1 hierarchy at @p root/@p sub whose root cgroup we may write. */
static int detect_v1(const char *root, const char *sub,
                     char out[GXI_CGROUP_PATH_MAX]) {
  char base[GXI_CGROUP_PATH_MAX];
  if (gxi__path_join(base, root, sub, NULL) < 0) return 0;
  if (!gxi__fs_is(base, CGROUP_SUPER_MAGIC) || !gxi__file_writable(base, "cgroup.procs"))
    return 0;
  snprintf(out, GXI_CGROUP_PATH_MAX, "%s", base);
  return 1;
}

int gxi_cgroup_detect_at(const char *root, gxi_cgroup_caps *caps) {
  char ctrl[SMALL_FILE_MAX], base[GXI_CGROUP_PATH_MAX];
  memset(caps, 0, sizeof *caps);
  if (strlen(root) + 64 >= GXI_CGROUP_PATH_MAX) return -ENAMETOOLONG;
  if (gxi__fs_is(root, CGROUP2_SUPER_MAGIC)) {
    if (!gxi__file_writable(root, "cgroup.procs")) goto out;
    if (gxi__file_read(root, "cgroup.subtree_control", ctrl, sizeof ctrl) < 0)
      ctrl[0] = '\0';
    caps->has_memory = gxi__has_word(ctrl, "memory");
    caps->has_pids = gxi__has_word(ctrl, "pids");
    caps->version = caps->has_memory || caps->has_pids ? 2 : 0;
    caps->has_kill = 1; /* the leaf's own cgroup.kill decides */
    snprintf(caps->v2_root, sizeof caps->v2_root, "%s", root);
    goto out;
  }
  caps->has_memory = detect_v1(root, "memory", caps->mem_root);
  caps->has_pids = detect_v1(root, "pids", caps->pids_root);
  caps->has_swap_limit =
      caps->has_memory &&
      gxi__file_writable(caps->mem_root, "memory.memsw.limit_in_bytes");
  if (caps->has_memory || caps->has_pids) caps->version = 1;
  if (gxi__path_join(base, root, "unified", NULL) == 0 &&
      gxi__fs_is(base, CGROUP2_SUPER_MAGIC) && gxi__file_writable(base, "cgroup.procs")) {
    caps->has_kill = 1;
    snprintf(caps->v2_root, sizeof caps->v2_root, "%s", base);
  }
out:
  describe(caps);
  return 0;
}

int gxi_cgroup_detect(gxi_cgroup_caps *caps) {
  return gxi_cgroup_detect_at(GXI_CGROUP_ROOT, caps);
}

const char *gxi_cgroup_describe(const gxi_cgroup_caps *caps) {
  return caps->desc[0] ? caps->desc : "no cgroups";
}
