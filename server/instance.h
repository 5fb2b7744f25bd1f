/**
 * @file instance.h
 * A daemon instance: its name, its lock, and the cgroup subtree its runs
 * live in ("gexec/<instance>/run-<id>" in every hierarchy used).
 *
 * Several gexecd may run on one host (tests, test hosts in network
 * namespaces, a second listener). Each has an instance name (--instance,
 * else derived from its first listen address) and holds an exclusive
 * lock on it for its lifetime, so one daemon's clean-up never touches
 * another live daemon's runs: at start-up it kills and removes whatever
 * a previous daemon of the same name left in its subtree, and after
 * reaping each launcher it removes that run's cgroup (killing what is
 * still in it) — the launcher removes it itself when it can report, but
 * not when it was SIGKILLed.
 *
 * Every run gets a cgroup when the host has one to give (cgroup.kill or
 * a v1 pids hierarchy: cheap to join), so a run's processes can be found
 * and killed whatever they did (setsid, double fork) and however the
 * launcher ended. Without cgroups see README "How a run ends".
 *
 * Start-up (gxd_instance_open) blocks; everything else runs on the loop
 * without blocking.
 */
#ifndef GXD_INSTANCE_H
#define GXD_INSTANCE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "server/isolation/cgroup.h"

/** Longest instance name (one cgroup path component). */
#define GXD_INSTANCE_NAME_MAX 64

/** How long the daemon keeps retrying to remove a run's cgroup. */
#define GXD_RECLAIM_MS 5000

typedef struct gxd_reclaim gxd_reclaim;

/** One daemon instance. Owned by the daemon; see gxd_instance_open. */
typedef struct {
  char name[GXD_INSTANCE_NAME_MAX + 1];
  char lock_path[320];
  int lock_fd;            /**< holds the instance lock, or -1 */
  gxi_cgroup_caps caps;   /**< probed at start-up */
  int cgroups;            /**< 1: every run gets a cgroup */
  uint64_t next_run;      /**< run ids: 1, 2, ... */
  uv_loop_t *loop;
  gxd_reclaim *reclaims;  /**< cgroups still being removed */
  size_t stale_found;     /**< leaves a previous instance left */
} gxd_instance;

/**
 * Derives an instance name from a listen address: the unix socket path
 * or host:port with every character outside [A-Za-z0-9._-] replaced by
 * '_' (a long one is shortened, with a hash of the whole to keep it
 * unique). A daemon outside the host's network namespace adds that
 * namespace's id (@p netns, 0 = the host's) and one on an ephemeral TCP
 * port its pid (@p pid): their addresses name nothing stable. Pure.
 * Returns 0, or -1 if @p len is below GXD_INSTANCE_NAME_MAX + 1.
 */
int gxd_instance_name_from(const char *addr, unsigned long netns, long pid,
                           char *out, size_t len);

/** 1 if @p name is a valid instance name, else 0 (and a reason). */
int gxd_instance_name_ok(const char *name, char *why, size_t len);

/**
 * Takes the instance lock for @p name (refusing if another live gexecd
 * holds it), probes the cgroup hierarchies, and removes every run cgroup
 * a previous instance of the same name left (killing what is in them).
 * Call before any thread exists (it may block briefly). Returns 0, or -1
 * with a reason in @p why.
 */
int gxd_instance_open(gxd_instance *in, uv_loop_t *loop, const char *name,
                      char *why, size_t len);

/** Starts a run: its id, and (when in->cgroups) the cgroup name the
 *  launcher must use ("<instance>/run-<id>") in @p cg (at least
 *  GXI_CGROUP_NAME_MAX + 1 bytes); "" otherwise. */
uint64_t gxd_instance_new_run(gxd_instance *in, char *cg, size_t len);

/**
 * After run @p run_id's launcher was reaped: removes the run's cgroup
 * @p cg_name if it is still there, SIGKILLing anything left in it first;
 * retries on the loop (never blocking it) for up to GXD_RECLAIM_MS, then
 * logs (with the run id).
 */
void gxd_instance_reclaim(gxd_instance *in, uint64_t run_id,
                          const char *cg_name);

/** Number of run cgroups still being removed. */
size_t gxd_instance_reclaiming(const gxd_instance *in);

/**
 * At exit: stops the retries, removes whatever is left in the instance's
 * subtree (blocking, bounded) and releases the lock. Handles closed here
 * are freed by the loop's next run.
 */
void gxd_instance_close(gxd_instance *in);

#endif
