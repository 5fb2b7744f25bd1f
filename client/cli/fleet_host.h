/**
 * @file fleet_host.h
 * One host of a fleet run (`gexec run -w`, `gexec facts -w`): its state
 * while the run lasts and how it ended, and the pure functions that turn
 * that end into an outcome, a status and a reason (fleet_host.c).
 */
#ifndef GXC_FLEET_HOST_H
#define GXC_FLEET_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "client/cli/lines.h"
#include "client/gexec.h"

/** Each host's captured stdout and stderr (-b, --json, --outdir) is kept
 *  up to this many bytes per stream, as for one host. */
#define GXC_FLEET_CAPTURE_MAX ((size_t)16 << 20)

/** Where a host's run stands. */
typedef enum {
  GXC_HOST_QUEUED = 0, /**< not started (waiting for a slot of -f) */
  GXC_HOST_CALLING,    /**< connecting, or the daemon has not started it */
  GXC_HOST_RUNNING,    /**< started: the daemon enforces its timeout */
  GXC_HOST_DONE        /**< ended, one way or another (outcome says) */
} gxc_host_state;

/** How a host's run ended, the classes of the summary. */
typedef enum {
  GXC_OUTCOME_NONE = 0,    /**< not ended */
  GXC_OUTCOME_OK,          /**< exited 0 (facts: answered) */
  GXC_OUTCOME_EXITED,      /**< exited with a nonzero code */
  GXC_OUTCOME_SIGNALED,    /**< killed by a signal (OOM included) */
  GXC_OUTCOME_TIMED_OUT,   /**< its daemon stopped it at its timeout */
  GXC_OUTCOME_FAILED,      /**< did not run or was lost: 126, 127, 255 */
  GXC_OUTCOME_UNREACHABLE, /**< never connected (also: deadline first) */
  GXC_OUTCOME_REFUSED      /**< the daemon's policy or TLS refused us */
} gxc_outcome;

/** A growable byte buffer bounded at GXC_FLEET_CAPTURE_MAX. */
typedef struct {
  uint8_t *buf;
  size_t len, alloc;
  int truncated; /**< bytes past the bound were dropped */
} gxc_capture;

/** One host. Strings are borrowed from the target list unless noted. */
typedef struct gxc_host {
  size_t index;        /**< position in the target list */
  const char *name;    /**< as shown: output prefixes, summary */
  const char *address; /**< what we connect to */
  gxc_host_state state;
  gexec_conn *conn;
  gexec_proc *proc;
  int64_t t_start_us, t_end_us; /**< monotonic; 0 = not yet */
  uint64_t timeout_ms;  /**< the timeout sent (0 = the daemon's max) */
  /* how it ended */
  gxc_outcome outcome;
  int has_exit;
  gexec_exit exit;
  uint32_t pid;
  uint64_t run_id;
  int rc;              /**< GEXEC_OK, or the failure */
  gexec_error err;     /**< rc's details (message already explained) */
  char identity[256];  /**< the daemon's certificate identity, or "" */
  /* output */
  gxc_capture cap[2];  /**< stdout, stderr (when kept) */
  gxc_lines lines[2];  /**< live mode: the unfinished lines */
  int out_fd[2];       /**< --outdir: T.out, T.err; -1 = none */
  /* --stdin */
  size_t stdin_off;    /**< bytes of the spool taken by the run */
  int stdin_closed;
  int64_t stdin_progress_us; /**< last time the run took stdin */
  /* facts */
  char *facts_json;    /**< the daemon's answer; owned */
} gxc_host;

/**
 * Ends @p h with the run's exit @p e: fills has_exit, exit and outcome
 * (OK, EXITED, SIGNALED or TIMED_OUT).
 */
void gxc_host_set_exit(gxc_host *h, const gexec_exit *e);

/**
 * Ends @p h with a failure @p rc (details @p err, may be NULL) that
 * happened before the run started (@p started 0) or after: sets rc, err
 * and outcome. Before it started, GEXEC_ECONNECT is UNREACHABLE unless
 * the reason is TLS's (then REFUSED), GEXEC_EREFUSED is REFUSED, the
 * rest FAILED (NOT_FOUND 127, PERMISSION_DENIED 126, others 255).
 * After, everything is FAILED (255: the connection was lost).
 */
void gxc_host_set_error(gxc_host *h, int rc, const gexec_error *err,
                        int started);

/** The exit status of @p h as for one host (exitcode.h). */
int gxc_host_status(const gxc_host *h);

/**
 * The summary's words for how @p h ended, without its name:
 * "exited with 1", "killed by signal 9 (KILL)", "killed by the memory
 * limit (OOM)", "timed out after 5 s (process tree killed)",
 * "unreachable (connection refused)", "refused by policy: ...",
 * "refused: TLS: ...", "command not found: ...", "failed: ..." (the
 * error's message escaped by gxc_text_safe: it may come from a daemon).
 * Written
 * to @p buf (bounded); returns @p buf. "" for OK.
 */
const char *gxc_host_reason(const gxc_host *h, char *buf, size_t len);

/** Appends to @p c up to its bound; returns nonzero if bytes were dropped
 *  (or memory ran out: the capture then stops growing). */
int gxc_capture_add(gxc_capture *c, const uint8_t *data, size_t len);

/** Releases what @p h owns (captures, line buffers, facts); closes its
 *  --outdir files. Not its connection or run. */
void gxc_host_release(gxc_host *h);

#endif
