/**
 * @file launch_run.h
 * Inside gexec-launch: one run, from the options to the report. Used by
 * the standalone launcher (launch_main.c) and by every child of the fork
 * server (forkserver.c); neither is linked into the daemon.
 *
 * Single-threaded code only: it sets signal handlers, forks, builds
 * namespaces and exits the process.
 */
#ifndef GXL_LAUNCH_RUN_H
#define GXL_LAUNCH_RUN_H

#include <stdint.h>
#include <sys/types.h>

#include "server/isolation/cgroup.h"
#include "server/isolation/sandbox.h"
#include "server/launch_wire.h"

/** Exit status when the sandbox could not be built. */
#define GXL_EXIT_SETUP 125

/** The parent-death signal: catchable, so the launcher can kill the run
 *  before it goes. A client may send it too: it means "the parent died"
 *  only when our parent really changed. */
#define GXL_PDEATH_SIG SIGPWR

/** One run's settings. */
typedef struct {
  uint32_t mechs;   /**< gxi_mech bits in force */
  int no_cgroup;    /**< --without cgroup: no limits (still tracked) */
  const char *cgroup_name; /**< the run's leaf, always made; or NULL */
  gxi_cgroup_limits cg_limits;
  gxi_rlimits rl;
  int report_fd;    /**< records go here, or -1 */
  int request_fd;   /**< the launch request; -1: standalone (our argv,
                         environment and cwd; the command stays in our
                         process group) */
  pid_t parent_pid; /**< who must be our parent (gexecd or the fork
                         server), or 0: whoever it is now */
  gxi_cgroup *adopted; /**< v1 leaves this process already is in (a
                            spare of the fork server's): renamed to the
                            run's cgroup_name, or NULL */
  const gxi_cgroup_caps *caps; /**< what cgroupfs offers, detected once
                                    by the fork server; NULL: detect */
  gxl_request req;  /**< standalone: argv set by the caller */
  void *req_mem;
} gxl_launch;

/** Reports a setup failure (on the report fd and stderr) and exits with
 *  GXL_EXIT_SETUP. */
void gxl_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/** Runs @p o to its end: request, parent watch, cgroup, sandbox, command,
 *  report. Returns the exit status for the process (the command's code,
 *  or 128+signal); setup failures exit through gxl_die. */
int gxl_run_main(gxl_launch *o);

#endif
