/**
 * @file fake_child.h
 * A fake of the child module (server/child.h) and of the launcher's path
 * (server/launcher.h) for unit tests of the session: no process, no
 * pipe. It records what the session asks (the plan it was started with,
 * signals, stops, stdin, closes) and lets the test play the launcher:
 * produce output, report the exec, time out, exit, drain stdin, finish
 * closing. Callbacks fire only from these test functions.
 */
#ifndef GXT_FAKE_CHILD_H
#define GXT_FAKE_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include "server/child.h"
#include "server/launcher.h"

/** The path gxd_launcher_path reports. */
#define FAKE_LAUNCHER_PATH "/fake/gexec-launch"

/** One fake child; the fields are the test's to read (and set where
 *  noted). */
struct gxd_child {
  gxd_child_cbs cbs;
  void *ud;
  gxl_run run;          /**< as started */
  gxd_child_stdio io;
  char cwd[256];        /**< the request's */
  size_t argc;
  char env[1024];       /**< the request's env, entries joined by ' ' */
  size_t allowc;        /**< the request's program constraint */
  char allow0[256];     /**< its first entry, or "" */
  pid_t pid;
  uint64_t timeout_ms;  /**< armed by the session (0: never) */
  uint8_t *buf[2];      /**< output buffered per stream */
  size_t len[2];
  int taken[2];         /**< a buffer was taken and not resumed yet */
  uint64_t seq[2], nseq;
  int cmd_exists;       /**< after fake_child_exec_ok */
  int reaped;           /**< after fake_child_exit */
  uint8_t in[4096];     /**< stdin bytes the "pipe" took, in order */
  size_t in_len;
  size_t in_pending;    /**< stdin bytes not in the pipe yet */
  size_t pipe_room;     /**< test-set: what the pipe takes now (default:
                             everything) */
  int stdin_closed;
  int signals[16];      /**< delivered, in order */
  int nsignals;
  uint32_t stops[8];    /**< the grace of each gxd_child_stop */
  int nstops;
  int closing;          /**< gxd_child_close was called */
};

/** The launcher to put in the session's context. */
gxd_launcher *fake_launcher(void);

/** The child the last successful gxd_child_start created, or NULL. */
extern gxd_child *fake_child_last;
/** What the next gxd_child_start returns (0, or -errno: then nothing is
 *  created). Reset to 0 by each call. */
extern int fake_child_start_rc;

/** Buffers @p len bytes of @p stream (1 stdout, 2 stderr) and fires
 *  on_output, as the child does when its pipe is readable. */
void fake_child_output(gxd_child *c, int stream, const char *data,
                       size_t len);

/** The launcher's exec record: the command runs as @p pid. */
void fake_child_exec_ok(gxd_child *c, int pid);

/** The launcher's exec record: the command could not be started. */
void fake_child_exec_fail(gxd_child *c, gxl_fail_what what, int err);

/** The run's timeout passed. */
void fake_child_timeout(gxd_child *c);

/** The launcher was reaped (on_reaped) and its pipes drained: on_exit
 *  with @p ex. */
void fake_child_exit(gxd_child *c, const gxd_child_exit *ex);

/** The pipe took every pending stdin byte: on_stdin_drained. */
void fake_child_drain_stdin(gxd_child *c);

/** Completes gxd_child_close: on_closed, then the child is freed. */
void fake_child_closed(gxd_child *c);

#endif
