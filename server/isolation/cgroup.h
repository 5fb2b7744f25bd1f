/**
 * @file cgroup.h
 * Per-run cgroups for the single-threaded launcher: probe once, then for
 * each run create a leaf, limit it, put the run's first process in it,
 * kill everything in it, and remove it.
 *
 * Layouts handled (see the design note in cgroup.c):
 * - pure cgroup v2: cgroup2 mounted at /sys/fs/cgroup; limits and kill in
 *   /sys/fs/cgroup/gexec/<name> (memory and pids enabled in the
 *   subtree_control of the root and of gexec/);
 * - hybrid: v1 memory and pids hierarchies at /sys/fs/cgroup/{memory,pids}
 *   for the limits, and cgroup2 at /sys/fs/cgroup/unified (no controllers
 *   needed) for cgroup.kill;
 * - none: read-only or absent cgroupfs; every call reports -ENOTSUP or
 *   does nothing, and the caller falls back to rlimits and process groups.
 *
 * Every path lives in a fixed buffer; a path that does not fit is
 * -ENAMETOOLONG. Errors are negative errno values; create() also writes a
 * human reason to the caller's buffer, the other calls keep one in the
 * handle (gxi_cgroup_error()).
 *
 * Not thread-safe; meant for a single-threaded launcher (it polls with
 * short sleeps while waiting for a cgroup to empty).
 */
#ifndef GXI_CGROUP_H
#define GXI_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Size of every path buffer (mount points and leaf directories). */
#define GXI_CGROUP_PATH_MAX 256

/** Size of the reason / description buffers. */
#define GXI_CGROUP_MSG_MAX 192

/** Longest run name accepted by gxi_cgroup_create(). */
#define GXI_CGROUP_NAME_MAX 128

/** Default mount point of the cgroup filesystems. */
#define GXI_CGROUP_ROOT "/sys/fs/cgroup"

/** Parent directory created (once, left in place) in each hierarchy. */
#define GXI_CGROUP_PARENT "gexec"

/** What this host offers; filled by gxi_cgroup_probe(). Plain data: the
 *  caller owns it and may copy it (e.g. clear has_kill to force the
 *  signal loop). An empty path means "not used". */
typedef struct {
  int version;    /**< hierarchy used for limits: 2, 1, or 0 (none) */
  int has_memory; /**< memory limit can be set (v2 memory.max, v1 limit) */
  int has_pids;   /**< pids.max can be set */
  int has_kill;   /**< a cgroup2 leaf with cgroup.kill can be made */
  int has_swap_limit; /**< v2 memory.swap.max or v1 memory.memsw.* exists */
  char v2_root[GXI_CGROUP_PATH_MAX];  /**< cgroup2 mount used, or "" */
  char mem_root[GXI_CGROUP_PATH_MAX]; /**< v1 memory mount, or "" */
  char pids_root[GXI_CGROUP_PATH_MAX]; /**< v1 pids mount, or "" */
  char desc[GXI_CGROUP_MSG_MAX];       /**< gxi_cgroup_describe() text */
} gxi_cgroup_caps;

/** Limits of one run; 0 means "no limit" for that resource. */
typedef struct {
  uint64_t memory_bytes; /**< memory (and, where possible, swap = 0) */
  uint64_t pids;         /**< tasks (processes and threads) */
} gxi_cgroup_limits;

/** One run's cgroup. Caller-allocated; valid after gxi_cgroup_create()
 *  (or gxi_cgroup_open()) returned 0 and until gxi_cgroup_destroy()
 *  returned 0. Holds no file descriptors or heap memory. */
typedef struct {
  int version;                          /**< as in caps: 2, 1 or 0 */
  char v2[GXI_CGROUP_PATH_MAX];   /**< cgroup2 leaf, or "" */
  char mem[GXI_CGROUP_PATH_MAX];  /**< v1 memory leaf, or "" */
  char pids[GXI_CGROUP_PATH_MAX]; /**< v1 pids leaf, or "" */
  int has_kill;                   /**< v2 leaf has cgroup.kill */
  int swap_limited;               /**< swap limited to 0 (memory limit set) */
  char note[GXI_CGROUP_MSG_MAX];  /**< caveat from create(), or "" */
  char why[GXI_CGROUP_MSG_MAX];   /**< reason of the last failure */
} gxi_cgroup;

/**
 * Detects what the cgroup filesystems at GXI_CGROUP_ROOT offer and fills
 * @p caps. Side effects: creates then removes one probe leaf
 * "gexec/probe-<pid>" per hierarchy (and the parent "gexec" if it had to
 * create it); on pure v2 it also enables memory and pids in
 * cgroup.subtree_control of the root and of gexec/, which stays (runs
 * need it, and the kernel offers no way to enable them per leaf).
 * Returns 0 (even when nothing is usable: then caps->version is 0 and
 * has_kill is 0) or a negative errno for an unexpected failure such as
 * -ENAMETOOLONG.
 */
int gxi_cgroup_probe(gxi_cgroup_caps *caps);

/** Same as gxi_cgroup_probe() with another mount point than
 *  GXI_CGROUP_ROOT (tests, hosts mounting cgroupfs elsewhere). */
int gxi_cgroup_probe_at(const char *root, gxi_cgroup_caps *caps);

/**
 * What gxi_cgroup_probe() finds, without creating anything: which
 * hierarchies are mounted and writable, and (pure v2) which controllers
 * the root delegates. For the launcher, once per run, after the daemon
 * probed at start-up; whether a leaf really gets a limit or a
 * cgroup.kill is then decided by gxi_cgroup_create(). Returns 0 or
 * -ENAMETOOLONG.
 */
int gxi_cgroup_detect(gxi_cgroup_caps *caps);

/** gxi_cgroup_detect() at another mount point. */
int gxi_cgroup_detect_at(const char *root, gxi_cgroup_caps *caps);

/** A one-line description of @p caps, e.g.
 *  "cgroup v1 memory+pids, v2 kill". Points into @p caps. */
const char *gxi_cgroup_describe(const gxi_cgroup_caps *caps);

/**
 * Creates the leaf "gexec/<name>" and applies @p lim (NULL: no limits).
 * @p name is "leaf" or "dir/leaf" (e.g. a daemon instance and a run);
 * the directories above the leaf are created when missing and left in
 * place (shared by concurrent runs). Hierarchies used: the cgroup2 one
 * when there is one (limits on pure v2, cgroup.kill everywhere); v1
 * memory only when a memory limit is asked for (joining a v1 memory
 * cgroup is slow and each takes one of 65535 ids); v1 pids for a pids
 * limit, or to track the run's processes when there is no cgroup.kill.
 * Memory: v2 memory.max and
 * memory.swap.max = 0; v1 memory.limit_in_bytes and
 * memory.memsw.limit_in_bytes (same value, i.e. no swap) when that file
 * exists, otherwise swappiness 0 and a note that swap may not be limited;
 * v1 oom_control is set to "kill on OOM" (never pause the cgroup). Pids:
 * pids.max. Each component of @p name must be [A-Za-z0-9._-]+ and not
 * start with '.'; at most GXI_CGROUP_NAME_MAX bytes in all. An existing
 * leaf is -EEXIST.
 * On failure nothing stays created, a reason is written to @p why (if
 * not NULL) and to cg->why (gxi_cgroup_error()), and a negative errno is
 * returned; with caps->version 0 and no
 * kill it returns -ENOTSUP.
 */
int gxi_cgroup_create(const gxi_cgroup_caps *caps, const char *name,
                      const gxi_cgroup_limits *lim, gxi_cgroup *cg,
                      char *why, size_t why_len);

/** Applies @p lim to the leaves of @p cg (as gxi_cgroup_create does; a
 *  0 leaves that resource as it is). Returns 0 or a negative errno. */
int gxi_cgroup_set_limits(const gxi_cgroup_caps *caps, gxi_cgroup *cg,
                          const gxi_cgroup_limits *lim);

/**
 * Renames the v1 leaves of @p cg to "gexec/<name>" (same parent: cgroup
 * v1 allows rename(2) within one directory, with processes inside; the
 * processes stay). For a process that joined a spare leaf ahead of demand
 * (the fork server's spare launcher) and now becomes a run's. A cgroup2
 * leaf cannot be renamed: -EXDEV if @p cg has one. Returns 0 or a
 * negative errno (reason in cg->why).
 */
int gxi_cgroup_rename(const gxi_cgroup_caps *caps, gxi_cgroup *cg,
                      const char *name);

/**
 * Fills @p cg for an existing leaf "gexec/<name>" without creating or
 * changing anything (cleanup of runs left behind by a crashed launcher).
 * Returns 0 if the leaf exists in at least one hierarchy, else -ENOENT.
 */
int gxi_cgroup_open(const gxi_cgroup_caps *caps, const char *name,
                    gxi_cgroup *cg);

/**
 * Moves process @p pid (all its threads) into every leaf of @p cg.
 * Processes it forked before stay outside: add a child before it runs
 * anything. Returns 0 or a negative errno (reason in cg->why); on failure
 * the process may be in some hierarchies but not others.
 */
int gxi_cgroup_add(gxi_cgroup *cg, pid_t pid);

/**
 * As gxi_cgroup_add(), for the v1 leaves only (memory, pids): for a
 * process that was born in the cgroup2 leaf (clone3 CLONE_INTO_CGROUP
 * with gxi_cgroup_v2_fd()). Moving a process into any cgroup takes the
 * kernel's cgroup_threadgroup_rwsem for writing, which after an idle
 * spell costs an RCU grace period (~10 ms, see docs/BENCHMARKS.md);
 * being born into it does not.
 */
int gxi_cgroup_add_v1(gxi_cgroup *cg, pid_t pid);

/** How a process leaves the v1 leaves of @p cg it is in (a spare
 *  launcher's): prepared ahead, so that leaving is async-signal-safe. */
typedef struct {
  char procs[2][GXI_CGROUP_PATH_MAX + 16]; /**< roots' cgroup.procs, or "" */
  char self[16];                           /**< the caller's pid as text */
} gxi_cgroup_exit;

/** Prepares @p e for the caller and the v1 leaves of @p cg (memory,
 *  pids): leaving moves the caller into each hierarchy's root. */
void gxi_cgroup_exit_prepare(const gxi_cgroup_caps *caps,
                             const gxi_cgroup *cg, gxi_cgroup_exit *e);

/** Leaves as prepared (once: @p e is emptied). Async-signal-safe (open,
 *  write, close). Costs a cgroup migration: call it off the critical
 *  path. Failures are ignored (the leaves then stay until a sweep). */
void gxi_cgroup_exit_now(gxi_cgroup_exit *e);

/** Opens the cgroup2 leaf of @p cg as a directory (O_CLOEXEC), for
 *  CLONE_INTO_CGROUP. Returns the fd, -ENOENT without a v2 leaf, or
 *  another negative errno. The caller closes it. */
int gxi_cgroup_v2_fd(const gxi_cgroup *cg);

/**
 * Whether the kernel's OOM killer killed a process of this cgroup:
 * v2 memory.events "oom_kill N"; v1 memory.oom_control "oom_kill N"
 * (Linux >= 4.13). Returns 1, 0, or -ENOTSUP when there is no memory
 * leaf or the kernel has no such counter (old v1 kernels only offer
 * memory.failcnt, which counts hits of the limit, not kills: see
 * cgroup.c), or another negative errno.
 */
int gxi_cgroup_oom_killed(const gxi_cgroup *cg);

/**
 * Kills every process in the cgroup: writes cgroup.kill when the v2 leaf
 * has it, then (and otherwise only) repeatedly reads cgroup.procs of the
 * leaves and sends SIGKILL to each process until the cgroup is empty or a
 * bound (about GXI_CGROUP_DRAIN_MS) is hit. The caller's own pid is never
 * signalled. Processes still exiting may be listed briefly after return.
 * Returns 0 when the cgroup was seen empty, -ETIMEDOUT if not within the
 * bound, -EDEADLK if the caller itself is in it, or another negative errno
 * (reason in cg->why).
 */
int gxi_cgroup_kill(gxi_cgroup *cg);

/**
 * One non-blocking pass of gxi_cgroup_kill(): cgroup.kill where there is
 * one, then SIGKILL to each process the leaves list. For callers that
 * must not sleep (the daemon's event loop). Returns how many processes
 * were listed (0: empty), -EDEADLK if the caller is in it, or another
 * negative errno.
 */
int gxi_cgroup_kill_once(gxi_cgroup *cg);

/**
 * Removes the leaves of @p cg that exist, without killing or waiting;
 * removed ones are forgotten. Returns 0 (all gone) or a negative errno,
 * -EBUSY while a process is still in one.
 */
int gxi_cgroup_remove(gxi_cgroup *cg);

/**
 * Destroys (kill, wait, remove) every leaf under "gexec/<dir>" in every
 * hierarchy of @p caps: the clean-up of a daemon instance's stale runs.
 * Counts the leaves in *found. Blocks up to GXI_CGROUP_DRAIN_MS per leaf.
 * Returns 0, or the first failure (reason in @p why).
 */
int gxi_cgroup_sweep(const gxi_cgroup_caps *caps, const char *dir,
                     int *found, char *why, size_t why_len);

/** Removes the (empty) directories "gexec/<dir>" themselves. Returns 0
 *  or the first negative errno (-EBUSY: a leaf is still in one). */
int gxi_cgroup_remove_dir(const gxi_cgroup_caps *caps, const char *dir);

/** Bound, in milliseconds, of the waits in kill() and destroy(). */
#define GXI_CGROUP_DRAIN_MS 5000

/**
 * Kills what is left (gxi_cgroup_kill()), waits until each leaf is empty
 * (bounded), and removes the leaves. Removed leaves are forgotten, so the
 * call can be repeated after a failure; destroying an already destroyed
 * (or all-empty) handle returns 0. Zombies that the caller has not reaped
 * do not keep a leaf busy. Returns 0 or a negative errno (-EBUSY when a
 * leaf could not be removed; reason in cg->why).
 */
int gxi_cgroup_destroy(gxi_cgroup *cg);

/** Reason of the last failure of add/kill/destroy on @p cg, or "". */
const char *gxi_cgroup_error(const gxi_cgroup *cg);

#endif
