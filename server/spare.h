/**
 * @file spare.h
 * The fork server's spare launcher: forked and moved into fresh cgroup v1
 * leaves ("<instance>/spare-<pid>", memory and pids) ahead of demand, so
 * that a run with memory or pids limits does not pay for a cgroup
 * migration on its critical path. Moving a process into any cgroup takes
 * the kernel's cgroup_threadgroup_rwsem for writing, which after an idle
 * spell costs an RCU grace period (~10 ms on the reference machine, see
 * docs/BENCHMARKS.md); cgroup2 avoids it with CLONE_INTO_CGROUP, v1 has
 * no such thing.
 *
 * When a RUN that needs v1 leaves arrives, the fork server hands it (the
 * message and its descriptors) to the ready spare instead of forking: the
 * spare renames its leaves to the run's ("<instance>/run-<id>": cgroup v1
 * allows rename(2) within a directory, processes inside), sets the run's
 * limits (pids + 1: the launcher is in the leaf too), and becomes the
 * run's launcher; its first process is born in the run's cgroup2 leaf
 * and inherits the v1 leaves. The launcher leaves them (a migration, now
 * off the critical path: after the run's report) before removing them.
 * The fork server forks the next spare once no run is going: joining
 * waits for the grace period with the kernel's lock taken for writing,
 * which stalls every fork on the host meanwhile (a running run's too);
 * while runs keep coming the lock stays on its slow path, where a
 * launcher's own join is cheap.
 *
 * A spare that dies unused (or is stopped) has its leaves removed by
 * itself (its parent-death signal) or by the fork server after the reap.
 * All of it runs in the single-threaded fork server or the spare.
 */
#ifndef GXL_SPARE_H
#define GXL_SPARE_H

#include <sys/types.h>

#include "server/isolation/cgroup.h"
#include "server/launch_wire.h"

/** How the spare becomes a run's launcher (the fork server's code):
 *  never returns. @p adopted: the spare's leaves, still named spare-N. */
typedef void (*gxl_become_fn)(const gxl_fs_msg *m,
                              const int fds[GXL_FS_RUN_FDS], pid_t server,
                              gxi_cgroup *adopted);

/** One spare; zero it to start with "none". Plain data of the server. */
typedef struct {
  pid_t pid;    /**< the spare, or 0 */
  int sock;     /**< the server's end of its socket, or -1 */
  int ready;    /**< it is in its leaves, waiting for a RUN */
  char dir[GXI_CGROUP_NAME_MAX + 1]; /**< the instance directory */
} gxl_spare;

/** Whether this host's runs with limits need v1 leaves (caps->version
 *  1 with memory or pids): only then are spares worth having. */
int gxl_spare_useful(const gxi_cgroup_caps *caps);

/**
 * Forks a spare for instance directory @p dir (the part of the runs'
 * cgroup names before the last '/'). The child never returns: it joins
 * its leaves, writes one byte on its socket when ready, waits for a RUN
 * and calls @p become. Returns 0 or -errno (then *s is still empty).
 */
int gxl_spare_start(gxl_spare *s, const gxi_cgroup_caps *caps,
                    const char *dir, gxl_become_fn become);

/** Whether RUN @p m may go to the ready spare: it has v1 limits, on a
 *  host where they need v1 leaves, and a cgroup in the spare's dir. */
int gxl_spare_fits(const gxl_spare *s, const gxi_cgroup_caps *caps,
                   const gxl_fs_msg *m);

/**
 * Hands RUN @p m and its descriptors (borrowed) to the ready spare.
 * Returns the spare's pid, now the run's launcher (*s is empty again),
 * or -errno: the spare was stopped (gxl_spare_stop) and the caller forks
 * a launcher instead.
 */
pid_t gxl_spare_take(gxl_spare *s, const gxi_cgroup_caps *caps,
                     const gxl_fs_msg *m, const int fds[GXL_FS_RUN_FDS]);

/** The spare's socket is readable: its ready byte, or EOF (it died;
 *  the reap follows). */
void gxl_spare_on_readable(gxl_spare *s);

/** @p pid was reaped: if it was the spare (died unused), its leaves are
 *  removed and *s is empty. Returns 1 if it was the spare. */
int gxl_spare_reaped(gxl_spare *s, const gxi_cgroup_caps *caps, pid_t pid);

/** Kills and reaps the spare, removes its leaves (server shutdown). */
void gxl_spare_stop(gxl_spare *s, const gxi_cgroup_caps *caps);

#endif
