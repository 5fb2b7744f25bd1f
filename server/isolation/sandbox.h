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

/** Parent side: maps inner root and GXI_INNER_UID of @p pid's new user
 *  namespace to unprivileged host ids (see profile.h). */
int gxi_write_id_maps(pid_t pid, char *why, size_t len);

/**
 * First thing inside a new user namespace (after the parent wrote the id
 * maps): take the namespace's root as our ids and drop supplementary
 * groups. Until then the process still has the host's root ids (only
 * its view of them changed), so every file access would be the host
 * root's; after it, files are accessed as GXI_OUTER_ROOT_UID, a host
 * nobody, while the namespace's capabilities (mounts) remain.
 */
int gxi_become_inner_root(char *why, size_t len);

/** Inside the new mount namespace: makes mounts private, then for
 *  @p p->ro_root makes the whole tree read-only with private tmpfs on
 *  /tmp and /dev/shm and @p cwd bind-mounted writable; mounts a fresh
 *  /proc, and with @p p->net_ns a fresh read-only /sys. */
int gxi_setup_mounts(const gxi_profile *p, const char *cwd, char *why,
                     size_t len);

/** Inside a new network namespace: brings the loopback interface up. */
int gxi_loopback_up(char *why, size_t len);

/** Applies @p lim, and RLIMIT_CORE 0, to the calling process. */
int gxi_apply_rlimits(const gxi_rlimits *lim, char *why, size_t len);

/** For baseline (root_caps): keeps only GXI_BASELINE_CAPS in every
 *  capability set, the bounding set included. For restricted
 *  (drop_caps): empties the bounding set and switches to GXI_INNER_UID
 *  (which clears every capability). Then no_new_privs if asked for. */
int gxi_drop_privileges(const gxi_profile *p, char *why, size_t len);

#endif
