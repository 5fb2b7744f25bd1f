/**
 * @file sandbox.h
 * The steps that build a run's sandbox, in the order gexec-launch calls
 * them. Each returns 0 or a negative errno with a reason in @p why. They
 * run in the single-threaded launcher (never in the daemon).
 */
#ifndef GXI_SANDBOX_H
#define GXI_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/isolation/profile.h"

/** Per-run resource limits applied as rlimits (0 = unchanged). */
typedef struct {
  uint64_t cpu_time_ms; /**< RLIMIT_CPU, rounded up to whole seconds */
  uint64_t open_files;  /**< RLIMIT_NOFILE */
} gxi_rlimits;

/** Parent side: maps inner root of @p pid's new user namespace to
 *  GXI_OUTER_ROOT_UID, and GXI_INNER_UID (uid and gid) to @p outer_uid
 *  and @p outer_gid on the host: GXI_OUTER_USER_UID for a run of nobody
 *  (see profile.h), a user's ids for a run as that user. Fails (EINVAL
 *  from the kernel) if either equals GXI_OUTER_ROOT_UID. */
int gxi_write_id_maps(pid_t pid, uint32_t outer_uid, uint32_t outer_gid,
                      char *why, size_t len);

/**
 * First thing inside a new user namespace (after the parent wrote the id
 * maps): take the namespace's root as our ids and drop supplementary
 * groups. Until then the process still has the host's root ids (only
 * its view of them changed), so every file access would be the host
 * root's; after it, files are accessed as GXI_OUTER_ROOT_UID, a host
 * nobody, while the namespace's capabilities (mounts) remain.
 */
int gxi_become_inner_root(char *why, size_t len);

/**
 * Inside the new mount namespace, before any path of the client's is
 * looked up: makes mounts private; for GXI_MECH_RO_ROOT the whole tree
 * read-only; a fresh /proc (it shows only the run's PID namespace, so no
 * /proc/PID/root or /proc/PID/cwd leads into another process's view of
 * the filesystem); with GXI_MECH_NET a fresh read-only /sys; and for
 * gxi_mech_root_caps (root in the host's user namespace) /proc/sys,
 * /proc/sysrq-trigger and /sys read-only (kernel tunables such as
 * core_pattern, sysrq, every cgroup).
 */
int gxi_mount_base(uint32_t mechs, char *why, size_t len);

/** gxi_mount_cwd(): the run's cwd is hidden by the private /tmp. */
#define GXI_CWD_HIDDEN 1

/**
 * Then, with the calling process in the run's cwd (entered by path once,
 * as the run's init): for GXI_MECH_RO_ROOT, private tmpfs on /tmp and
 * /dev/shm, and the cwd made writable by cloning its mount and attaching
 * the clone there by descriptor (no path is looked up a second time, so
 * a swapped symlink cannot redirect it), leaving the process in it.
 * Returns 0, GXI_CWD_HIDDEN, or a negative errno with a reason.
 */
int gxi_mount_cwd(uint32_t mechs, char *why, size_t len);

/** Inside a new network namespace: brings the loopback interface up. */
int gxi_loopback_up(char *why, size_t len);

/**
 * Makes the calling process a user's, for good: setgroups(@p groups),
 * then gid, then uid (real, effective and saved each), in that order,
 * each checked, then checks that all of them took. Leaving uid 0 clears
 * every capability. Needs CAP_SETGID and CAP_SETUID (host, baseline).
 * Keeps the parent-death signal, which new credentials clear: -ESRCH if
 * the parent exited before it was set again.
 */
int gxi_become_user(uint32_t uid, uint32_t gid, const uint32_t *groups,
                    size_t ngroups, char *why, size_t len);

/** Applies @p lim, and RLIMIT_CORE 0, to the calling process. */
int gxi_apply_rlimits(const gxi_rlimits *lim, char *why, size_t len);

/** Of @p mechs: for baseline (gxi_mech_root_caps): keeps only GXI_BASELINE_CAPS in every
 *  capability set, the bounding set included. For restricted
 *  (GXI_MECH_USER): empties the bounding set and switches to GXI_INNER_UID
 *  (which clears every capability). Then no_new_privs for GXI_MECH_NNP. */
int gxi_drop_privileges(uint32_t mechs, char *why, size_t len);

#endif
