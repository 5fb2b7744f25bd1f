/*
 * Per-run cgroups (see cgroup.h for the API).
 *
 * Design note
 * -----------
 * Three layouts exist in the field and all are handled:
 *
 * 1. Pure cgroup v2 (systemd hosts, Kubernetes nodes): one hierarchy at
 *    /sys/fs/cgroup. A controller can be used in gexec/<run> only if it
 *    is listed in cgroup.subtree_control of the root and of gexec/, so
 *    the probe enables memory and pids there. gexec/ itself never holds a
 *    process ("no internal processes" rule). Limits: memory.max,
 *    memory.swap.max = 0 (otherwise the run can grow past the limit by
 *    swapping), pids.max. OOM kills: memory.events "oom_kill". Kill:
 *    cgroup.kill (5.14), which also catches processes forked while it
 *    runs.
 *
 * 2. Hybrid (this development machine, older systemd): /sys/fs/cgroup is
 *    a tmpfs with one directory per v1 hierarchy, plus cgroup2 at
 *    /sys/fs/cgroup/unified without controllers. Limits go to the v1
 *    memory and pids hierarchies; a leaf is also made in the unified
 *    hierarchy, only for cgroup.kill. v1 memory needs
 *    memory.memsw.limit_in_bytes (present only with swap accounting) to
 *    keep swap out; when absent the leaf gets swappiness 0 and a note.
 *    memory.oom_control is written to 0 because oom_kill_disable is
 *    inherited from the parent, and a set flag would pause an OOMing run
 *    forever instead of killing it.
 *
 *    OOM detection on v1 (measured on this machine, Linux 6.18):
 *    memory.oom_control has three lines, "oom_kill_disable 0",
 *    "under_oom 0" and "oom_kill N" (the last one since Linux 4.13); N
 *    counts processes the OOM killer killed in this memcg, which is what
 *    is reported. There is no memory.events in v1. memory.failcnt is not
 *    a substitute: it counts how often a charge hit the limit and had to
 *    reclaim (475 for one 200 MiB allocation under 32 MiB here, and it
 *    grows without any kill when page cache is reclaimed), and it stays
 *    0 when memory.memsw.limit_in_bytes is set to the same value, because
 *    then the memsw counter is the one that fails (and memsw.failcnt
 *    stayed 0 too in that measurement). On kernels without the oom_kill
 *    line we therefore return -ENOTSUP rather than guess.
 *
 * 3. None: cgroupfs absent or read-only (containers). The probe reports
 *    version 0 and no kill; create() returns -ENOTSUP.
 *
 * Killing without cgroup.kill: read cgroup.procs, SIGKILL each process,
 * repeat until the cgroup is empty, bounded by GXI_CGROUP_DRAIN_MS. A
 * process that forks between our read and our signal shows up in the next
 * read; a pid that is reused in that window is guarded against by opening
 * a pidfd first and checking, through /proc/<pid>/cgroup, that the process
 * the pidfd refers to is still in our leaf.
 *
 * Zombies are not listed in cgroup.procs and do not keep a leaf busy, so
 * the leaf can be removed before the caller reaps its child.
 *
 * Tests: tests/server/isolation/cgroup_test.c on the host's real cgroup
 * filesystems (hybrid here), and cgroup_fake_test.c for every layout on
 * a fake cgroupfs, a directory tree behind the test seam of
 * cgroup_hooks.h (statfs type, mkdir, rmdir and writes of the module go
 * through the gxi__ helpers of cgroup_fs.c, which call the hooks only
 * when a test installed them).
 */
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

/* ---- create ----------------------------------------------------------- */

/* "leaf" or "dir/leaf". */
static int name_ok(const char *name) {
  size_t len = strlen(name);
  const char *slash = strchr(name, '/');
  if (len == 0 || len > GXI_CGROUP_NAME_MAX) return 0;
  if (!slash) return gxi__component_ok(name, len);
  return gxi__component_ok(name, (size_t)(slash - name)) &&
         gxi__component_ok(slash + 1, strlen(slash + 1));
}

/* The leaf path of @p name under hierarchy @p base. */
static int leaf_path(const char *base, const char *name,
                     char out[GXI_CGROUP_PATH_MAX]) {
  return gxi__path_join(out, base, GXI_CGROUP_PARENT, name);
}

/* Makes the directories above the leaf of @p name: base/gexec and, for
 * "dir/leaf", base/gexec/dir; on pure v2 with limits, enables the
 * controllers in each so the leaf gets them. */
static int make_ancestors(const char *base, const char *name, int v2_limits,
                          gxi_cgroup *cg) {
  char dir[GXI_CGROUP_PATH_MAX], ctrl[SMALL_FILE_MAX];
  const char *slash = strchr(name, '/');
  int rc = gxi__path_join(dir, base, GXI_CGROUP_PARENT, NULL);
  if (v2_limits && gxi__file_read(base, "cgroup.controllers", ctrl, sizeof ctrl) < 0)
    ctrl[0] = '\0';
  for (int level = 0; rc == 0 && level < (slash ? 2 : 1); level++) {
    if (level == 1) {
      size_t n = strlen(dir);
      if (n + 1 + (size_t)(slash - name) >= sizeof dir) return -ENAMETOOLONG;
      snprintf(dir + n, sizeof dir - n, "/%.*s", (int)(slash - name), name);
    }
    rc = gxi__mkdir_ok(dir);
    if (rc < 0)
      gxi__set_msg(cg->why, sizeof cg->why, "mkdir %s: %s", dir, strerror(-rc));
    else if (v2_limits)
      gxi__v2_enable(dir, ctrl);
  }
  return rc;
}

/* Makes @p base/gexec/@p name; stores it in @p out only once created. */
static int make_leaf(const char *base, const char *name, int v2_limits,
                     char out[GXI_CGROUP_PATH_MAX], gxi_cgroup *cg) {
  char leaf[GXI_CGROUP_PATH_MAX];
  int tries, rc = leaf_path(base, name, leaf);
  if (rc < 0) {
    gxi__set_msg(cg->why, sizeof cg->why, "path too long under %s", base);
    return rc;
  }
  /* Twice: a probe may remove an empty parent it created meanwhile. */
  for (tries = 0; tries < 2; tries++) {
    rc = make_ancestors(base, name, v2_limits, cg);
    if (rc < 0) return rc;
    rc = gxi__mkdir(leaf);
    if (rc != -ENOENT) break;
  }
  if (rc < 0) {
    gxi__set_msg(cg->why, sizeof cg->why, "mkdir %s: %s%s", leaf, strerror(-rc),
            rc == -EEXIST ? " (left over from an earlier run?)" : "");
    return rc;
  }
  memcpy(out, leaf, GXI_CGROUP_PATH_MAX);
  return 0;
}

/* Writes @p val to @p dir/@p file, recording a reason on failure. */
static int set_value(gxi_cgroup *cg, const char *dir, const char *file,
                     const char *val) {
  int rc = gxi__file_write(dir, file, val);
  if (rc < 0)
    gxi__set_msg(cg->why, sizeof cg->why, "write %s=%s in %s: %s", file, val, dir,
            strerror(-rc));
  return rc;
}

static int limits_v2(const gxi_cgroup_caps *caps,
                     const gxi_cgroup_limits *lim, gxi_cgroup *cg) {
  char val[32];
  int rc;
  if (caps->has_memory && lim->memory_bytes) {
    snprintf(val, sizeof val, "%" PRIu64, lim->memory_bytes);
    rc = set_value(cg, cg->v2, "memory.max", val);
    if (rc < 0) return rc;
    if (gxi__file_writable(cg->v2, "memory.swap.max")) {
      rc = set_value(cg, cg->v2, "memory.swap.max", "0");
      if (rc < 0) return rc;
      cg->swap_limited = 1;
    } else {
      gxi__set_msg(cg->note, sizeof cg->note,
              "no memory.swap.max (swap accounting off): swap not limited");
    }
  }
  if (caps->has_pids && lim->pids) {
    snprintf(val, sizeof val, "%" PRIu64, lim->pids);
    rc = set_value(cg, cg->v2, "pids.max", val);
    if (rc < 0) return rc;
  }
  return 0;
}

static int limits_v1(const gxi_cgroup_limits *lim, gxi_cgroup *cg) {
  char val[32];
  int rc;
  if (cg->mem[0]) {
    /* Kill on OOM, never pause: the flag is inherited from the parent. */
    rc = set_value(cg, cg->mem, "memory.oom_control", "0");
    if (rc < 0) return rc;
  }
  if (cg->mem[0] && lim->memory_bytes) {
    snprintf(val, sizeof val, "%" PRIu64, lim->memory_bytes);
    /* memsw must stay >= the limit, so the limit goes first. */
    rc = set_value(cg, cg->mem, "memory.limit_in_bytes", val);
    if (rc < 0) return rc;
    if (gxi__file_writable(cg->mem, "memory.memsw.limit_in_bytes")) {
      rc = set_value(cg, cg->mem, "memory.memsw.limit_in_bytes", val);
      if (rc < 0) return rc;
      cg->swap_limited = 1;
    } else {
      (void)gxi__file_write(cg->mem, "memory.swappiness", "0");
      gxi__set_msg(cg->note, sizeof cg->note,
              "no memory.memsw.limit_in_bytes (swap accounting off): swap "
              "may not be limited; swappiness set to 0");
    }
  }
  if (cg->pids[0] && lim->pids) {
    snprintf(val, sizeof val, "%" PRIu64, lim->pids);
    rc = set_value(cg, cg->pids, "pids.max", val);
    if (rc < 0) return rc;
  }
  return 0;
}

/* Removes every leaf of @p cg that exists, forgetting removed ones.
 * Returns 0 or the first -errno (other than -ENOENT). */
static int remove_leaves(gxi_cgroup *cg) {
  char *leaves[] = {cg->v2, cg->mem, cg->pids};
  size_t i;
  int rc = 0;
  for (i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
    int r;
    if (!leaves[i][0]) continue;
    r = gxi__rmdir(leaves[i]);
    if (r == 0 || r == -ENOENT) {
      leaves[i][0] = '\0';
    } else if (rc == 0) {
      rc = r;
      gxi__set_msg(cg->why, sizeof cg->why, "rmdir %s: %s", leaves[i],
              strerror(-r));
    }
  }
  return rc;
}

int gxi_cgroup_create(const gxi_cgroup_caps *caps, const char *name,
                      const gxi_cgroup_limits *lim, gxi_cgroup *cg,
                      char *why, size_t why_len) {
  static const gxi_cgroup_limits none = {0, 0};
  char reason[GXI_CGROUP_MSG_MAX];
  int rc = 0;
  memset(cg, 0, sizeof *cg);
  if (!lim) lim = &none;
  if (!name_ok(name)) {
    gxi__set_msg(cg->why, sizeof cg->why, "bad cgroup name '%.40s'", name);
    rc = -EINVAL;
    goto out;
  }
  if (caps->version == 0 && !caps->has_kill) {
    gxi__set_msg(cg->why, sizeof cg->why, "no usable cgroups (%s)",
            gxi_cgroup_describe(caps));
    rc = -ENOTSUP;
    goto out;
  }
  cg->version = caps->version;
  /* v1 memory only for a memory limit (joining a v1 memcg is slow, and
   * every memcg takes one of 65535 ids); v1 pids for a pids limit, or to
   * find the run's processes when there is no cgroup.kill */
  if (caps->v2_root[0])
    rc = make_leaf(caps->v2_root, name, caps->version == 2, cg->v2, cg);
  if (rc == 0 && caps->version == 1 && caps->has_memory && lim->memory_bytes)
    rc = make_leaf(caps->mem_root, name, 0, cg->mem, cg);
  if (rc == 0 && caps->version == 1 && caps->has_pids &&
      (lim->pids || !caps->has_kill))
    rc = make_leaf(caps->pids_root, name, 0, cg->pids, cg);
  if (rc == 0 && caps->version == 2) rc = limits_v2(caps, lim, cg);
  if (rc == 0 && caps->version == 1) rc = limits_v1(lim, cg);
  if (rc < 0) goto out_remove;
  cg->has_kill = caps->has_kill && cg->v2[0] &&
                 gxi__file_writable(cg->v2, "cgroup.kill");
  return 0;

out_remove:
  memcpy(reason, cg->why, sizeof reason);
  (void)remove_leaves(cg);
  memcpy(cg->why, reason, sizeof reason); /* keep the first failure */
out:
  gxi__set_msg(why, why_len, "%s", cg->why);
  return rc;
}

int gxi_cgroup_set_limits(const gxi_cgroup_caps *caps, gxi_cgroup *cg,
                          const gxi_cgroup_limits *lim) {
  return cg->version == 2 ? limits_v2(caps, lim, cg)
         : cg->version == 1 ? limits_v1(lim, cg)
                            : 0;
}

int gxi_cgroup_rename(const gxi_cgroup_caps *caps, gxi_cgroup *cg,
                      const char *name) {
  struct {
    const char *root;
    char *leaf;
  } h[] = {{caps->mem_root, cg->mem}, {caps->pids_root, cg->pids}};
  char to[GXI_CGROUP_PATH_MAX];
  if (!name_ok(name)) {
    gxi__set_msg(cg->why, sizeof cg->why, "bad cgroup name '%.40s'", name);
    return -EINVAL;
  }
  if (cg->v2[0]) {
    gxi__set_msg(cg->why, sizeof cg->why, "a cgroup2 leaf cannot be renamed");
    return -EXDEV;
  }
  for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
    if (!h[i].leaf[0]) continue;
    if (leaf_path(h[i].root, name, to) < 0) return -ENAMETOOLONG;
    if (rename(h[i].leaf, to) != 0) {
      int err = errno;
      gxi__set_msg(cg->why, sizeof cg->why, "rename %s: %s", h[i].leaf,
                   strerror(err));
      return -err;
    }
    memcpy(h[i].leaf, to, sizeof to);
  }
  return 0;
}

int gxi_cgroup_open(const gxi_cgroup_caps *caps, const char *name,
                    gxi_cgroup *cg) {
  struct {
    const char *base;
    char *out;
  } h[] = {{caps->v2_root, cg->v2},
           {caps->mem_root, cg->mem},
           {caps->pids_root, cg->pids}};
  size_t i;
  int found = 0;
  memset(cg, 0, sizeof *cg);
  if (!name_ok(name)) return -EINVAL;
  cg->version = caps->version;
  for (i = 0; i < sizeof h / sizeof h[0]; i++) {
    struct stat st;
    if (!h[i].base[0] || leaf_path(h[i].base, name, h[i].out) < 0) continue;
    if (stat(h[i].out, &st) == 0 && S_ISDIR(st.st_mode))
      found = 1;
    else
      h[i].out[0] = '\0';
  }
  cg->has_kill = cg->v2[0] && gxi__file_writable(cg->v2, "cgroup.kill");
  return found ? 0 : -ENOENT;
}

/* ---- membership, OOM -------------------------------------------------- */

int gxi_cgroup_add(gxi_cgroup *cg, pid_t pid) {
  const char *leaves[] = {cg->mem, cg->pids, cg->v2};
  char val[24];
  size_t i;
  int rc;
  snprintf(val, sizeof val, "%ld", (long)pid);
  for (i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
    if (!leaves[i][0]) continue;
    rc = set_value(cg, leaves[i], "cgroup.procs", val);
    if (rc < 0) return rc;
  }
  return 0;
}

int gxi_cgroup_add_v1(gxi_cgroup *cg, pid_t pid) {
  const char *leaves[] = {cg->mem, cg->pids};
  char val[24];
  snprintf(val, sizeof val, "%ld", (long)pid);
  for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
    if (!leaves[i][0]) continue;
    int rc = set_value(cg, leaves[i], "cgroup.procs", val);
    if (rc < 0) return rc;
  }
  return 0;
}

void gxi_cgroup_exit_prepare(const gxi_cgroup_caps *caps,
                             const gxi_cgroup *cg, gxi_cgroup_exit *e) {
  const char *roots[2] = {cg->mem[0] ? caps->mem_root : "",
                          cg->pids[0] ? caps->pids_root : ""};
  memset(e, 0, sizeof *e);
  snprintf(e->self, sizeof e->self, "%ld", (long)getpid());
  for (int i = 0; i < 2; i++)
    if (roots[i][0])
      snprintf(e->procs[i], sizeof e->procs[i], "%s/cgroup.procs", roots[i]);
}

void gxi_cgroup_exit_now(gxi_cgroup_exit *e) {
  for (int i = 0; i < 2; i++) {
    int fd = e->procs[i][0] ? open(e->procs[i], O_WRONLY | O_CLOEXEC) : -1;
    e->procs[i][0] = '\0';
    if (fd < 0) continue;
    if (write(fd, e->self, strlen(e->self)) < 0) {
    }
    close(fd);
  }
}

int gxi_cgroup_v2_fd(const gxi_cgroup *cg) {
  if (!cg->v2[0]) return -ENOENT;
  int fd = open(cg->v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

int gxi_cgroup_oom_killed(const gxi_cgroup *cg) {
  char text[SMALL_FILE_MAX];
  uint64_t n = 0;
  int rc;
  if (cg->version == 2 && cg->v2[0])
    rc = gxi__file_read(cg->v2, "memory.events", text, sizeof text);
  else if (cg->version == 1 && cg->mem[0])
    rc = gxi__file_read(cg->mem, "memory.oom_control", text, sizeof text);
  else
    return -ENOTSUP;
  if (rc == -ENOENT) return -ENOTSUP;
  if (rc < 0) return rc;
  rc = gxi__keyed_u64(text, "oom_kill", &n);
  if (rc == -ENOENT) return -ENOTSUP; /* v1 before Linux 4.13 */
  if (rc < 0) return rc;
  return n > 0;
}

/* ---- kill ------------------------------------------------------------- */

/* The part of @p leaf after its mount point, e.g. "/gexec/run1": the same
 * in every hierarchy, and what /proc/<pid>/cgroup shows. */
static const char *leaf_rel(const char *leaf) {
  const char *p = strstr(leaf, "/" GXI_CGROUP_PARENT "/");
  const char *next;
  while (p && (next = strstr(p + 1, "/" GXI_CGROUP_PARENT "/")) != NULL)
    p = next;
  return p ? p : leaf;
}

/* 1 if /proc/<pid>/cgroup lists @p rel in some hierarchy. */
static int pid_in(pid_t pid, const char *rel) {
  char dir[32], text[4096];
  const char *p;
  size_t rlen = strlen(rel);
  snprintf(dir, sizeof dir, "/proc/%ld", (long)pid);
  if (gxi__file_read(dir, "cgroup", text, sizeof text) < 0) return 0;
  for (p = text; *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len > rlen && p[len - rlen - 1] == ':' &&
        strncmp(p + len - rlen, rel, rlen) == 0)
      return 1;
    if (!eol) break;
    p = eol + 1;
  }
  return 0;
}

/* SIGKILLs @p pid if it is (still) in the leaf @p rel: through a pidfd so
 * a pid reused since cgroup.procs was read is left alone. */
static void kill_member(pid_t pid, const char *rel) {
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    if (pid_in(pid, rel))
      (void)syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
    close(fd);
    return;
  }
  if (errno != ENOSYS) return; /* ESRCH: already gone */
#endif
  (void)rel;
  (void)kill(pid, SIGKILL);
}

/* Reads @p leaf/cgroup.procs and SIGKILLs every process but ours.
 * Returns how many processes were listed, or -errno; sets *self if we
 * are listed. */
static int sweep_leaf(gxi_cgroup *cg, const char *leaf, int *self) {
  char path[GXI_CGROUP_PATH_MAX], buf[4096];
  const char *rel = leaf_rel(leaf);
  pid_t me = getpid();
  long cur = -1;
  int fd, count = 0, rc = gxi__path_join(path, leaf, "cgroup.procs", NULL);
  ssize_t n, i;
  if (rc < 0) return rc;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = -errno;
    gxi__set_msg(cg->why, sizeof cg->why, "open %s: %s", path, strerror(-rc));
    return rc == -ENOENT ? 0 : rc;
  }
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    for (i = 0; i < n; i++) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        cur = (cur < 0 ? 0 : cur * 10) + (buf[i] - '0');
        continue;
      }
      if (cur > 0) {
        count++;
        if ((pid_t)cur == me)
          *self = 1;
        else
          kill_member((pid_t)cur, rel);
      }
      cur = -1;
    }
  }
  if (cur > 0) {
    count++;
    if ((pid_t)cur == me)
      *self = 1;
    else
      kill_member((pid_t)cur, rel);
  }
  rc = n < 0 ? -errno : count;
  close(fd);
  return rc;
}

/* One pass: cgroup.kill where there is one, then SIGKILL to whatever
 * each leaf still lists. Returns how many processes were listed, or
 * -errno; sets *self if the caller is listed. */
static int kill_pass(gxi_cgroup *cg, int *self) {
  const char *leaves[] = {cg->v2, cg->mem, cg->pids};
  int listed = 0, rc;
  if (cg->has_kill && cg->v2[0]) {
    rc = gxi__file_write(cg->v2, "cgroup.kill", "1");
    if (rc < 0 && rc != -ENOENT)
      gxi__set_msg(cg->why, sizeof cg->why, "cgroup.kill in %s: %s", cg->v2,
              strerror(-rc));
  }
  for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
    if (!leaves[i][0]) continue;
    rc = sweep_leaf(cg, leaves[i], self);
    if (rc < 0) return rc;
    listed += rc;
  }
  return listed;
}

int gxi_cgroup_kill_once(gxi_cgroup *cg) {
  int self = 0, listed = kill_pass(cg, &self);
  if (listed > 0 && self) {
    gxi__set_msg(cg->why, sizeof cg->why, "the caller (pid %ld) is in %s",
            (long)getpid(), cg->v2[0] ? cg->v2 : cg->mem);
    return -EDEADLK;
  }
  return listed;
}

int gxi_cgroup_kill(gxi_cgroup *cg) {
  int64_t deadline = gxi__now_ms() + GXI_CGROUP_DRAIN_MS;
  int pause = 1, listed;
  for (;;) {
    listed = gxi_cgroup_kill_once(cg);
    if (listed <= 0) return listed;
    if (gxi__now_ms() >= deadline) {
      gxi__set_msg(cg->why, sizeof cg->why,
              "%d process(es) still listed after %d ms", listed,
              GXI_CGROUP_DRAIN_MS);
      return -ETIMEDOUT;
    }
    gxi__sleep_ms(pause);
    if (pause < 16) pause *= 2;
  }
}

int gxi_cgroup_remove(gxi_cgroup *cg) { return remove_leaves(cg); }

int gxi_cgroup_destroy(gxi_cgroup *cg) {
  int64_t deadline;
  int rc;
  if (!cg->v2[0] && !cg->mem[0] && !cg->pids[0]) return 0;
  rc = gxi_cgroup_kill(cg);
  if (rc == -EDEADLK) return rc;
  deadline = gxi__now_ms() + 1000;
  for (;;) {
    rc = remove_leaves(cg);
    if (rc != -EBUSY || gxi__now_ms() >= deadline) break;
    gxi__sleep_ms(5);
  }
  return rc;
}

const char *gxi_cgroup_error(const gxi_cgroup *cg) { return cg->why; }

/* ---- sweeping a directory of leaves ------------------------------------ */

/* Destroys every leaf directory in @p base/gexec/@p dir; counts them in
 * *found. Returns 0 or the first failure. */
static int sweep_dir(const gxi_cgroup_caps *caps, const char *base,
                     const char *dir, int *found, char *why, size_t why_len) {
  char path[GXI_CGROUP_PATH_MAX], name[GXI_CGROUP_NAME_MAX + 1];
  int rc = gxi__path_join(path, base, GXI_CGROUP_PARENT, dir), first = 0;
  DIR *d;
  struct dirent *e;
  if (rc < 0) return rc;
  if (!(d = opendir(path))) return errno == ENOENT ? 0 : -errno;
  while ((e = readdir(d))) {
    gxi_cgroup cg;
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    if (snprintf(name, sizeof name, "%s/%s", dir, e->d_name) >=
            (int)sizeof name ||
        gxi_cgroup_open(caps, name, &cg) != 0)
      continue;
    (*found)++;
    rc = gxi_cgroup_destroy(&cg);
    if (rc < 0 && first == 0) {
      first = rc;
      gxi__set_msg(why, why_len, "%s", cg.why);
    }
  }
  closedir(d);
  return first;
}

int gxi_cgroup_remove_dir(const gxi_cgroup_caps *caps, const char *dir) {
  const char *bases[] = {caps->v2_root, caps->mem_root, caps->pids_root};
  char path[GXI_CGROUP_PATH_MAX];
  int rc = 0;
  if (!gxi__component_ok(dir, strlen(dir))) return -EINVAL;
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    if (!bases[i][0] || gxi__path_join(path, bases[i], GXI_CGROUP_PARENT, dir) < 0)
      continue;
    int r = gxi__rmdir(path);
    if (r < 0 && r != -ENOENT && rc == 0) rc = r;
  }
  return rc;
}

int gxi_cgroup_sweep(const gxi_cgroup_caps *caps, const char *dir,
                     int *found, char *why, size_t why_len) {
  const char *bases[] = {caps->v2_root, caps->mem_root, caps->pids_root};
  int rc = 0;
  *found = 0;
  if (!gxi__component_ok(dir, strlen(dir))) return -EINVAL;
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    int r = bases[i][0] ? sweep_dir(caps, bases[i], dir, found, why, why_len)
                        : 0;
    if (r < 0 && rc == 0) rc = r;
  }
  return rc;
}
