/**
 * @file launcher.h
 * How the daemon gets a run's launcher process: the one place that knows
 * where gexec-launch is and how it is started. The child module
 * (child.h) asks for a launcher with the run's plan (gxl_run, values of
 * the daemon's making) and request (gxl_request: the client's argv, env
 * and cwd, which never reach the launcher's argv, environment or
 * loader), plus the descriptors the run's stdio and records go to.
 *
 * The launcher process gets its own session and process group, an empty
 * environment, cwd "/", the run's stdio on 0, 1 and 2, the report pipe
 * on 3 and the request (a sealed memfd) on 4, and nothing else.
 *
 * All functions run on the daemon's loop thread.
 */
#ifndef GXD_LAUNCHER_H
#define GXD_LAUNCHER_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <uv.h>

#include "server/launch_wire.h"

typedef struct gxd_launcher gxd_launcher;

/** The descriptors a run's launcher gets (-1: /dev/null for stdio). */
typedef struct {
  int stdin_fd, stdout_fd, stderr_fd;
  int report_fd; /**< write end of the report pipe (required) */
} gxd_launch_fds;

/**
 * Creates the launcher service for @p loop, starting runs with the
 * gexec-launch at @p path (absolute). On success *out is the caller's
 * until gxd_launcher_free. Returns 0 or -errno with a reason in @p why.
 */
int gxd_launcher_new(uv_loop_t *loop, const char *path, gxd_launcher **out,
                     char *why, size_t len);

/** The gexec-launch path (borrowed from the launcher). */
const char *gxd_launcher_path(const gxd_launcher *l);

/** The loop @p l runs on. */
uv_loop_t *gxd_launcher_loop(const gxd_launcher *l);

/** A run's launcher process ended and was reaped: @p wait_status as
 *  waitpid gives it, @p ru its own and its reaped children's usage. Its
 *  process group was SIGKILLed before the reap. */
typedef void (*gxd_launcher_exit_fn)(void *ud, int wait_status,
                                     const struct rusage *ru);

/**
 * Starts the launcher of one run. The descriptors in @p fds are borrowed
 * (the caller closes its copies afterwards). On success stores the
 * launcher's pid (its process group and session id) and returns 0;
 * @p on_exit fires exactly once, later, on the loop. On failure returns
 * -errno (-E2BIG: argv and env too large for a request), no process
 * exists and @p on_exit never fires.
 */
int gxd_launcher_spawn(gxd_launcher *l, const gxl_run *run,
                       const gxl_request *req, const gxd_launch_fds *fds,
                       gxd_launcher_exit_fn on_exit, void *ud, pid_t *pid);

/** SIGKILLs the launcher's process group (with it init and, in a PID
 *  namespace, the whole run) unless it was already reaped. */
void gxd_launcher_kill(gxd_launcher *l, pid_t pid);

/** Releases @p l. Runs it started are not affected. */
void gxd_launcher_free(gxd_launcher *l);

#endif
