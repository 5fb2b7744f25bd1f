/**
 * @file child.h
 * Supervises one run's launcher on the daemon's loop: its pipes, its
 * records (launch_wire.h), its timeout, stopping it, and reaping it.
 *
 * Output backpressure: each output stream has one buffer of at most
 * GXD_CHUNK bytes. The child reads its pipe into the buffer and stops
 * reading when the buffer is full, until the owner takes the bytes:
 * either dropped (gxd_child_consume) or handed over whole
 * (gxd_child_take: the owner sends that very buffer and frees it), and
 * then reading of that stream waits for gxd_child_resume (the send
 * completed). The child process then blocks in write(2), and the pipe is
 * the second buffer: daemon memory stays at one buffer per stream,
 * whatever the client does.
 *
 * End of a run: the launcher's report says every process of the run was
 * reaped (by the run's init, or by the launcher for host); the launcher
 * and init hold the run's pipes only until the command is forked, so
 * the pipes reach EOF when the run's last process is gone. on_exit then
 * fires at once, before the launcher's own teardown (namespaces, cgroup
 * removal) and reap: those are not the client's wait. A launcher that
 * ends without a report is the run's end instead: when it exits,
 * everything left in its process group and in the command's is sent
 * SIGKILL (its group before the zombie is reaped, so the id cannot be
 * reused), its last records are read, and on_reaped tells the owner (who
 * removes the run's cgroup at once). The pipes are then read to EOF; if
 * a process that escaped all that still holds them after GXD_DRAIN_MS,
 * they are closed anyway (a stream paused because the client is slow is
 * waited for). Only then does on_exit fire: every byte written before
 * the exit is in the buffers by that time. on_reaped fires for every
 * run, before or after on_exit; the child is freed (on_closed) only once
 * it was closed and the launcher reaped.
 *
 * I/O channels: the child polls each distinct descriptor of the run's
 * stdio through one channel, with one uv_poll handle (libuv allows one
 * per descriptor). A channel knows which output stream its reads fill
 * (if any) and whether stdin is written to it, and polls for READABLE
 * while that stream is read (its buffer has room and is not taken) and
 * for WRITABLE while stdin bytes are held for it; with no interest its
 * handle stops. Today each stream has a pipe, so stdin, stdout and
 * stderr are three channels of one direction each (plus the report
 * pipe, read the same way).
 *
 * A pty, not built yet, is one descriptor for both directions: its
 * master would be stdin's channel and stdout's (and stderr's, merged),
 * one handle polling for READABLE|WRITABLE. What a pty would change:
 * where the descriptors come from (posix_openpt instead of pipe2; the
 * launcher makes the slave the command's controlling terminal); the end
 * of stdin (a channel that is also read is not closed: a socket's write
 * side is shut down, a pty would write VEOF); where signals go (one
 * function in child.c: today the command's process group, which it
 * leads; for a pty, the terminal's foreground group, tcgetpgrp on the
 * master, as job control moves it; the stop's SIGKILL still goes to the
 * command's group, and the launcher's kill ends every other group of
 * the session); and the window size (a new call). What it would not
 * change: buffers, backpressure (pausing reads leaves stdin writable),
 * the oldest-first order, the end-of-run rules and the drain (a pty
 * master reads EIO where a pipe reads EOF: both end the channel).
 *
 * All functions run on the loop thread. Callbacks never fire from inside
 * a call the owner made, except on_output, which may.
 */
#ifndef GXD_CHILD_H
#define GXD_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "server/launch_wire.h"
#include "server/launcher.h"

/** Output buffer per stream; also the largest chunk sent at once. Only
 *  one send is in flight per call, so a chunk must cover a send's round
 *  trip at full rate (see docs/BENCHMARKS.md). */
#define GXD_CHUNK (1024 * 1024)
/** Kernel pipe size asked for each output pipe (lets the child run
 *  ahead while a send is in flight). */
#define GXD_PIPE_SIZE (1024 * 1024)
/** Kernel pipe size asked for the stdin pipe: the child's reads run
 *  ahead of the next message while the daemon holds at most one. */
#define GXD_STDIN_PIPE_SIZE (1024 * 1024)
/** After the command's SIGKILL, how long the launcher has to report
 *  before its own group is SIGKILLed. */
#define GXD_LAUNCHER_KILL_MS 2000

/** How long pipes may stay open after the main process exited. */
#define GXD_DRAIN_MS 2000

/** How a run's process ended. */
typedef struct {
  int exit_code;    /**< valid when signal == 0 */
  int signal;       /**< terminating signal, or 0 */
  int core_dumped;
  int timed_out;    /**< the timeout fired (and stopped the run) */
  int pipes_forced; /**< a process outside the group held the pipes */
  int oom_killed;   /**< the launcher reported an OOM kill */
  int reported;     /**< the launcher's report arrived: the fields above
                         are the command's real end, not the launcher's,
                         and every process of the run was reaped */
  char launch_error[400]; /**< the launcher could not build the sandbox,
                               or broke the launch contract */
  uint64_t user_us, sys_us, max_rss_kb, wall_us;
} gxd_child_exit;

/** Owner callbacks; @c ud is the owner's. */
typedef struct {
  void (*on_output)(void *ud);        /**< a buffer has bytes to take */
  void (*on_stdin_drained)(void *ud); /**< all pending stdin was written */
  /** The launcher's exec record: the command runs (@p rec->kind
   *  GXL_REC_EXEC_OK) or could not be started (GXL_REC_EXEC_FAIL, with
   *  what and errno). At most once, always before on_exit. */
  void (*on_exec)(void *ud, const gxl_record *rec);
  void (*on_timeout)(void *ud);       /**< the timeout passed: stop it */
  /** The launcher was reaped (before or after on_exit; its pipes may
   *  still be drained): the run's cgroup may go now, whatever holds the
   *  output. */
  void (*on_reaped)(void *ud);
  void (*on_exit)(void *ud, const gxd_child_exit *ex); /**< see above */
  void (*on_closed)(void *ud);        /**< after gxd_child_close: freed */
} gxd_child_cbs;

/** Where each standard stream goes. */
typedef struct {
  int stdin_pipe;     /**< 1: pipe from the owner; 0: /dev/null */
  int stdout_pipe;    /**< 1: pipe to the owner; 0: /dev/null */
  int stderr_mode;    /**< 0: /dev/null, 1: own pipe, 2: stdout's pipe */
} gxd_child_stdio;

typedef struct gxd_child gxd_child;

/**
 * Creates the pipes and has @p l start the run's launcher for @p run and
 * @p req (both borrowed for the call). The launcher's records are read
 * as they come. On success *out is owned by the caller until on_closed.
 * Returns 0 or -errno (-E2BIG: argv and env too large; nothing was
 * started, no callback fires).
 */
int gxd_child_start(gxd_launcher *l, const gxl_run *run,
                    const gxl_request *req, const gxd_child_stdio *io,
                    const gxd_child_cbs *cbs, void *ud, gxd_child **out);

/** The main process's pid (= its process group and session id). */
pid_t gxd_child_pid(const gxd_child *c);

/** Arms the run's timeout: when it fires, timed_out is set and
 *  on_timeout tells the owner, who decides how to stop the run. */
void gxd_child_set_timeout(gxd_child *c, uint64_t timeout_ms);

/** Returns the length of the oldest buffered output (0 if none) and its
 *  stream (1 stdout, 2 stderr) and bytes, valid until consume. */
size_t gxd_child_peek(gxd_child *c, int *stream, const uint8_t **data);

/** Drops the bytes of @p stream; reading resumes. */
void gxd_child_consume(gxd_child *c, int stream);

/** Hands over the buffer of @p stream (the bytes peeked, *len of them):
 *  the caller owns it (malloc'd; free() it). Reading that stream pauses
 *  until gxd_child_resume(). */
uint8_t *gxd_child_take(gxd_child *c, int stream, size_t *len);

/** Reading of @p stream may go on (the taken buffer was sent). */
void gxd_child_resume(gxd_child *c, int stream);

/** Writes @p len bytes to the child's stdin: as much as the pipe takes
 *  now, the rest copied and written as the child reads (then
 *  on_stdin_drained). Bytes for a stdin the child closed are dropped.
 *  Returns the bytes still pending: the owner receives the next message
 *  only when that is 0, so at most one message is held per run. */
size_t gxd_child_write_stdin(gxd_child *c, const uint8_t *data, size_t len);

/** Closes the child's stdin once pending bytes are written. */
void gxd_child_close_stdin(gxd_child *c);

/** Sends @p sig to the command's process group (the command leads its
 *  own: the launcher and init never get a client's signals). Returns 0,
 *  or -ESRCH before the command exists (on_exec) or once the run is
 *  over (the report or the reap). */
int gxd_child_signal(gxd_child *c, int sig);

/** Stops the run: SIGTERM then SIGCONT to the command's group, SIGKILL
 *  to it @p grace_ms later (at once if 0); the launcher then ends the
 *  rest of the run and reports, or is SIGKILLed itself
 *  GXD_LAUNCHER_KILL_MS later. Before the command exists, the
 *  launcher's group is SIGKILLed at once. A later call can only shorten
 *  the grace. */
void gxd_child_stop(gxd_child *c, uint32_t grace_ms);

/** Releases everything; call after on_exit. on_closed follows. */
void gxd_child_close(gxd_child *c);

#endif
