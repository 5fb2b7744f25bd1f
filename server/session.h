/**
 * @file session.h
 * One Run stream: the protocol state machine between a gRPC call and a
 * child process.
 *
 * Every stream gets a run id when it opens (gxd_instance_new_run): it is
 * in `started` and in every log line about the run.
 *
 * Lifecycle: WAIT_START (stream open) -> LAUNCHING (gexec-launch started;
 * the command does not exist yet) -> RUNNING (the launcher reported the
 * exec; `started` sent) -> ENDING (the process tree is reaped; the rest
 * of the output, then `exited`) -> FINISHED (status sent; the session is
 * freed once gRPC is done with the call and the child is released).
 *
 * Order on the wire: started, output chunks, exited, status OK. A failure
 * before the command runs (bad request, cwd, program, sandbox) is a
 * status alone. Signals a client sends before `started` are held and
 * delivered once the command exists.
 *
 * Two conditions cut across the lifecycle, each set in one place and
 * logged there (at debug level): stopping (why the run is being stopped:
 * timeout, drain, a protocol error, the client gone) and broken (the
 * stream can carry no more output: the client is gone, or the call
 * ends with an error status; output is then read and dropped).
 *
 * Stopping, whatever the reason (timeout, client cancel or disconnect,
 * a stream that can carry no more output, a protocol error, the daemon
 * draining): SIGTERM+SIGCONT to the run, SIGKILL the run's grace later
 * (kill_grace_ms, worked out when the run starts); a run whose command
 * does not exist yet is SIGKILLed at once (nothing to be graceful to).
 * Output is sent one message at a time: the next chunk is taken from the
 * child only when the previous send completed (HTTP/2 flow control), so
 * a slow client slows the child instead of growing the daemon; the
 * buffer sent is the one the output was read into (no copy). Likewise
 * the next client message is received only once the previous one is in
 * the child's stdin pipe: at most one message is held per run.
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
#include "server/instance.h"
#include "server/audit.h"
#include "server/caller.h"
#include "server/launcher.h"
#include "server/guard.h"
#include "server/plan.h"
#include "server/policy.h"
#include "server/validate.h"

/**
 * Per-run authorization hook (the seam for the per-identity policy):
 * sees the whole plan, its caller (peer, authenticated identity) and
 * what the run would get (profile, limits, program, cwd, env), and may
 * narrow it (e.g. fill plan->allow, the program constraint the launcher
 * enforces) or refuse. Returns a gx_status; anything but GX_STATUS_OK
 * refuses the run with @p why.
 */
typedef int (*gxd_auth_fn)(void *ud, gxd_plan *plan, char *why,
                           size_t why_len);

typedef struct gxd_session gxd_session;

/** Default time a new stream may take to send its start message. */
#define GXD_START_TIMEOUT_MS 10000

/** What sessions share; owned by the daemon, outlives every session. */
typedef struct {
  uv_loop_t *loop;
  gxd_limits limits;         /**< bounds a Start message is held to */
  uint64_t start_timeout_ms; /**< wait for the start message */
  gxd_launcher *launcher;    /**< starts runs' launchers */
  gxd_instance *instance;    /**< run ids and run cgroups (required) */
  gxd_plan_config plan;      /**< what runs get (profiles, tiers, caps) */
  /** The policy in force: each run takes a reference when it is decided
   *  (so a reload leaves live runs untouched). Required. */
  gxd_policy *policy;
  /** The audit log, or NULL (none): every decision is recorded before
   *  anything is spawned, and every allowed run's end; a decision that
   *  cannot be recorded refuses its run (UNAVAILABLE). */
  gxd_audit *audit;
  gxd_auth_fn auth;      /**< NULL = allow */
  void *auth_ud;
  /** Session slots (server/guard.h): a run takes one of its identity's
   *  when its start message arrives, and gives it back with its final
   *  status; a stream waiting for its start takes none. NULL = no
   *  limit. */
  gxd_guard *guard;
  /** Called after a session was freed (e.g. to finish draining). */
  void (*on_session_freed)(void *ud);
  void *ud;
  /* maintained by session.c */
  gxd_session *head;
  size_t count;     /**< sessions not yet finished (runs and streams
                         waiting for their start) */
  size_t allocated; /**< sessions in memory: draining waits for 0 */
} gxd_session_ctx;

/** Takes over @p call (a Run call) from @p caller (copied: what its
 *  transport proved, read when the stream opened) and starts receiving.
 *  @p slot (NULL: none) is the stream's place in ctx->guard, counted as
 *  waiting for its start (gxd_guard_open): the session takes it over,
 *  turns it into a run at its start message (refused with
 *  RESOURCE_EXHAUSTED when its identity or the daemon has no slot left)
 *  and releases it with its final status. */
void gxd_session_start(gxd_session_ctx *ctx, gx_rpc_call *call,
                       const gxd_caller_info *caller,
                       const gxd_guard_slot *slot);

/** Stops every running session's process (SIGTERM, its grace, SIGKILL):
 *  their clients still get `exited`. Used when the daemon drains. */
void gxd_session_stop_all(gxd_session_ctx *ctx);

/** The longest kill grace (ms) among the sessions whose command runs
 *  and was not reaped yet (a launching one is killed at once); 0 if
 *  there are none. */
uint32_t gxd_session_max_grace(const gxd_session_ctx *ctx);

#endif
