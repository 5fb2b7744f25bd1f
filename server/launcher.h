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

/** How launchers are started. */
typedef enum {
  /** gexec-launch --serve, started once, forks one launcher per run
   *  (single-threaded, no exec or dynamic loader per run); if it dies,
   *  its runs end (killed) and the next run starts a new one. */
  GXD_LAUNCH_FORK_SERVER,
  /** posix_spawn of gexec-launch per run (gexecd --launch-mode exec). */
  GXD_LAUNCH_EXEC,
} gxd_launch_mode;

/** The descriptors a run's launcher gets (-1: /dev/null for stdio). */
typedef struct {
  int stdin_fd, stdout_fd, stderr_fd;
  int report_fd; /**< write end of the report pipe (required) */
} gxd_launch_fds;

/**
 * Creates the launcher service for @p loop, starting runs with the
 * gexec-launch at @p path (absolute) in @p mode (the fork server is
 * started here). On success *out is the caller's until
 * gxd_launcher_free. Returns 0 or -errno with a reason in @p why.
 */
int gxd_launcher_new(uv_loop_t *loop, const char *path, gxd_launch_mode mode,
                     gxd_launcher **out, char *why, size_t len);

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
 * Starts the launcher of run @p run (run_id > 0, not running). The
 * descriptors in @p fds are borrowed (the caller closes its copies
 * afterwards). On success stores the launcher's pid (its process group
 * and session id) and returns 0; @p on_exit fires exactly once, later,
 * from the loop. On failure returns -errno (-E2BIG: argv and env too
 * large for a request; -EAGAIN: the fork server died, try again), no
 * process exists and @p on_exit never fires. With the fork server this
 * waits for its reply (it forks, then answers).
 */
int gxd_launcher_spawn(gxd_launcher *l, const gxl_run *run,
                       const gxl_request *req, const gxd_launch_fds *fds,
                       gxd_launcher_exit_fn on_exit, void *ud, pid_t *pid);

/** SIGKILLs the launcher's process group of run @p run_id (with it init
 *  and, in a PID namespace, the whole run) unless it was already reaped:
 *  only the launcher's parent kills it, so no reused pid is hit. */
void gxd_launcher_kill(gxd_launcher *l, uint64_t run_id);

/** Releases @p l once its handles closed (run the loop); the fork
 *  server exits. Call when no run is left. */
void gxd_launcher_free(gxd_launcher *l);

#endif
