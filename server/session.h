/**
 * @file session.h
 * One Run stream: the protocol state machine between a gRPC call and a
 * child process.
 *
 * Order on the wire: started, output chunks, exited, status OK. A failure
 * before the start is a status alone; a protocol error after it kills the
 * run and ends the call with that status once the process is reaped.
 * Output is sent one message at a time: the next chunk is taken from the
 * child only when the previous send completed (HTTP/2 flow control), so
 * a slow client slows the child instead of growing the daemon. Likewise
 * the next client message is received only while less than
 * GXD_STDIN_HIGH bytes of stdin are pending for the child.
 *
 * All functions run on the loop thread.
 */
#ifndef GXD_SESSION_H
#define GXD_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "gexec/v1/exec.pb-c.h"
#include "lib/rpc.h"
#include "server/tiers.h"
#include "server/validate.h"

/** Per-run resource limits (0 = none). */
typedef struct {
  uint64_t memory_bytes, pids, cpu_time_ms, open_files;
} gxd_run_limits;

/**
 * Per-call authorization hook (the seam for mTLS/policy). Returns a
 * gx_status; anything but GX_STATUS_OK refuses the run with @p why.
 * @p peer is the transport address (not authenticated).
 */
typedef int (*gxd_auth_fn)(void *ud, const char *peer,
                           const Gexec__V1__Start *start, char *why,
                           size_t why_len);

typedef struct gxd_session gxd_session;

/** Default time a new stream may take to send its start message. */
#define GXD_START_TIMEOUT_MS 30000

/** What sessions share; owned by the daemon, outlives every session. */
typedef struct {
  uv_loop_t *loop;
  gxd_limits limits;
  uint32_t default_grace_ms;
  uint64_t start_timeout_ms; /**< wait for the start message */
  const char *launcher;      /**< gexec-launch; NULL = spawn directly */
  const gxd_tiers *tiers;    /**< probed isolation, per profile */
  int default_profile;       /**< index into tiers */
  gxd_run_limits profile_defaults[3]; /**< used when a limit is 0 */
  gxd_run_limits max_limits; /**< caps (0 = no cap) */
  const char *home;      /**< HOME given to runs */
  gxd_auth_fn auth;      /**< NULL = allow */
  void *auth_ud;
  /** Called after a session was freed (e.g. to finish draining). */
  void (*on_session_freed)(void *ud);
  void *ud;
  /* maintained by session.c */
  gxd_session *head;
  size_t count;     /**< runs not yet finished: what the limit counts */
  size_t allocated; /**< sessions in memory: draining waits for 0 */
} gxd_session_ctx;

/** Takes over @p call (a Run call) and starts receiving. */
void gxd_session_start(gxd_session_ctx *ctx, gx_rpc_call *call);

/** Stops every running session's process (SIGTERM, its grace, SIGKILL):
 *  their clients still get `exited`. Used when the daemon drains. */
void gxd_session_stop_all(gxd_session_ctx *ctx);

#endif
