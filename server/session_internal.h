/* Internal to the Run session (session.c, session_log.c): the session's
 * state and the functions its files share. See session.h. */
#ifndef GXD_SESSION_INTERNAL_H
#define GXD_SESSION_INTERNAL_H

#include <sys/types.h>

#include "server/admit.h"
#include "server/audit.h"
#include "server/session.h"

typedef enum {
  S_WAIT_START, /* no start message yet */
  S_DECIDED,    /* allowed; its audit record is being synced
                   (--audit-sync): nothing runs yet */
  S_LAUNCHING,  /* the launcher runs; the command does not exist yet */
  S_RUNNING,    /* the command was exec'd; `started` sent */
  S_ENDING,     /* reaped: the rest of the output, then `exited` */
  S_FINISHED,   /* the status is on its way; the child is released */
} sess_state;

/* Why the run is being stopped: STOP_NONE while it is not. Set only by
 * stop_run (the first reason is kept; a client that is gone overrides
 * it). */
typedef enum {
  STOP_NONE,
  STOP_TIMEOUT, /* timeout_ms passed */
  STOP_DRAIN,   /* the daemon is shutting down */
  STOP_ERROR,   /* a protocol error: err_status says which */
  STOP_CLIENT,  /* cancelled, disconnected, or the stream broke */
} stop_reason;


/* What the call is sending. */
typedef enum {
  SEND_IDLE,
  SEND_STDOUT = 1, /* that stream's buffer: its reading resumes once sent */
  SEND_STDERR = 2,
  SEND_MESSAGE,    /* `started` */
} send_state;

/* What the call is receiving. */
typedef enum {
  RECV_IDLE,
  RECV_POSTED,
  RECV_HELD, /* a stdin message is not all in the pipe yet: the next one
                is received once it is (one message held per run) */
} recv_state;

struct gxd_session {
  gxd_session_ctx *ctx;
  gxd_session *prev, *next;
  gx_rpc_call *call;
  gxd_child *child; /* from the launch until on_child_closed */
  Gexec__V1__RunRequest *req; /* the start message (the plan points in) */
  gxd_caller_info caller;     /* who opened the stream */
  gxd_admission adm;          /* what was decided (the plan points in) */
  gxd_plan plan;              /* from the start message on */
  int decided;                /* allowed and recorded: the run's end is
                                 audited too */
  gxd_audit_waiter audit_wait; /* S_DECIDED: the record being synced */
  sess_state state;
  stop_reason stop;
  /* the stream can carry no more output (the client is gone, or the run
   * ends with an error status): output is read and dropped, `started`
   * is not sent. Set only by break_stream. */
  int broken;
  send_state send;
  recv_state recv;
  int stdin_eof_seen;
  int call_done;          /* gRPC is done with the call */
  uv_timer_t start_timer; /* bounds the wait for the start message */
  int err_status;         /* nonzero: end with this instead of exited */
  char err_msg[512];
  gxd_child_exit ex;      /* how the run ended, from S_ENDING on */
  uint64_t pending_signals; /* bit n-1: signal n, sent before `started` */
  uint64_t bytes_in, bytes_out;
  int truncated;
  uint64_t start_ns;
  pid_t pid;
  uint64_t run_id;
  char cgroup[GXI_CGROUP_NAME_MAX + 1]; /* the run's cgroup, or "" */
  gxd_guard_slot slot; /* its place in ctx->guard */
};

/* session_log.c: the run's one log line and its audit end record,
 * written when the call's final status is decided (@p ended: the run's
 * process ended, s->ex holds how). */
void gxd_session_log_run(gxd_session *s, int status, int ended);

/* A change of the run's phase (stopping, broken), at debug level. */
void gxd_session_log_phase(const gxd_session *s, const char *phase,
                           const char *reason);

/* The name of a stop reason ("timeout", ...). */
const char *gxd_session_stop_name(stop_reason why);

#endif
