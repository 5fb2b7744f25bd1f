/**
 * @file fake_launcher.h
 * A fake of the launcher module (server/launcher.h) for unit tests of
 * the child module: no process is started. gxd_launcher_spawn records
 * the run and keeps its own copy (dup) of each descriptor it was given,
 * so the test plays the launcher and its command: it reads what the
 * child wrote to stdin, writes output and records, and closes its
 * copies (EOF). The test fires the exit callback with a wait status of
 * its choosing; gxd_launcher_kill calls are recorded with the loop time.
 * Callbacks fire only from fake_launcher_exit.
 */
#ifndef GXT_FAKE_LAUNCHER_H
#define GXT_FAKE_LAUNCHER_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <uv.h>

#include "server/launch_wire.h"
#include "server/launcher.h"

/** The path gxd_launcher_path reports. */
#define FAKE_LAUNCHER_PATH "/fake/gexec-launch"
/** Most runs one fake launcher records. */
#define FAKE_LAUNCHER_RUNS 8
/** Most kills recorded per run. */
#define FAKE_LAUNCHER_KILLS 8

/** One run the fake started; the fields are the test's to read (the
 *  descriptors also to use and close). */
typedef struct {
  gxl_run run;       /**< as spawned */
  char argv0[64];    /**< the request's argv[0] */
  pid_t pid;         /**< the launcher pid handed out */
  int in_fd;         /**< copy of the launcher's stdin (the read end the
                          child writes to), or -1 for /dev/null */
  int out_fd, err_fd; /**< copies of its stdout and stderr, or -1 */
  int rep_fd;        /**< copy of the report pipe's write end */
  gxd_launcher_exit_fn on_exit;
  void *ud;
  int exited;        /**< fake_launcher_exit fired on_exit */
  int nkills;        /**< gxd_launcher_kill calls, in order */
  uint64_t kill_at[FAKE_LAUNCHER_KILLS]; /**< uv_now of each */
  int kills_after_exit; /**< kill calls after the exit callback */
} fake_run;

/** The fake launcher (its fields are the fake's). */
struct gxd_launcher {
  uv_loop_t *loop;
  fake_run runs[FAKE_LAUNCHER_RUNS];
  int nruns;
  int spawn_rc; /**< what the next spawn returns (0, or -errno: nothing
                     is recorded); reset by each call */
};

/** Makes @p l a fake launcher on @p loop with no run. */
void fake_launcher_init(gxd_launcher *l, uv_loop_t *loop);

/** Closes every descriptor copy the test did not close. */
void fake_launcher_done(gxd_launcher *l);

/** The run spawned last, or NULL. */
fake_run *fake_launcher_last(gxd_launcher *l);

/** The launcher wrote @p rec to its report pipe. */
void fake_launcher_record(fake_run *r, const gxl_record *rec);

/** Writes the raw @p line (for malformed records). */
void fake_launcher_write_line(fake_run *r, const char *line);

/** Closes the test's copy of descriptor @p *fd (sets it to -1). */
void fake_launcher_close(int *fd);

/** Closes every copy of @p r: stdio and report pipe (the launcher and
 *  its run are gone). */
void fake_launcher_close_all(fake_run *r);

/** The launcher ended and was reaped: on_exit(@p wait_status, @p ru, or
 *  zero usage if NULL). */
void fake_launcher_exit(fake_run *r, int wait_status, const struct rusage *ru);

#endif
