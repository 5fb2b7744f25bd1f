/* The Run protocol; see session.h. What a run gets is decided by its
 * plan (plan.h); this file only moves messages and follows the run. */
#include "server/session.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"
#include "server/child.h"
#include "server/log.h"
#include "server/session_internal.h"
#include "server/wire_check.h"

static void try_send(gxd_session *s);
static void post_recv(gxd_session *s);

/* ------------------------------------------------------------- ending */

/* The run's process exists and was not reaped yet. */
static int child_running(const gxd_session *s) {
  return s->state == S_LAUNCHING || s->state == S_RUNNING;
}

/* The child exists and was not released: its output may be asked for. */
static int child_open(const gxd_session *s) {
  return s->child && s->state != S_FINISHED;
}

/* Ends the call: @p last (if any) then the status, in one batch. */
static void finish_with(gxd_session *s, const ProtobufCMessage *last,
                        int status, const char *msg) {
  int ended = s->state == S_ENDING; /* every launched run ends reaped */
  if (s->state == S_FINISHED) return;
  s->state = S_FINISHED;
  s->ctx->count--; /* the slot is free once the final status is on its way */
  if (s->ctx->guard) gxd_guard_close(s->ctx->guard, &s->slot);
  uv_timer_stop(&s->start_timer);
  if (status != GX_STATUS_OK && msg != s->err_msg)
    snprintf(s->err_msg, sizeof s->err_msg, "%s", msg);
  gxd_session_log_run(s, status, ended);
  if (ended && s->child) gxd_child_close(s->child);
  if (!last || gx_rpc_call_finish_msg(s->call, last, status, msg) != GX_OK)
    gx_rpc_call_finish(s->call, status, msg);
}

static void finish(gxd_session *s, int status, const char *msg) {
  finish_with(s, NULL, status, msg);
}

static void free_session(uv_handle_t *h) {
  gxd_session *s = h->data;
  gxd_session_ctx *ctx = s->ctx;
  if (ctx->guard) gxd_guard_close(ctx->guard, &s->slot); /* if not yet */
  gxd_plan_free(&s->plan);
  if (s->req) gexec__v1__run_request__free_unpacked(s->req, NULL);
  if (ctx->audit) gxd_audit_cancel(ctx->audit, &s->audit_wait);
  gxd_admission_release(&s->adm);
  free(s);
  ctx->allocated--;
  if (ctx->on_session_freed) ctx->on_session_freed(ctx->ud);
}

/* Frees the session once the call is done and the child released. The
 * memory goes in a later loop turn (the timer's close callback), so no
 * caller up the stack can touch freed memory. */
static void maybe_free(gxd_session *s) {
  if (!s->call_done || s->child || uv_is_closing((uv_handle_t *)&s->start_timer))
    return;
  gxd_session_ctx *ctx = s->ctx;
  if (s->prev) s->prev->next = s->next; else ctx->head = s->next;
  if (s->next) s->next->prev = s->prev;
  uv_close((uv_handle_t *)&s->start_timer, free_session);
}

/* Drops all buffered output. */
static void discard_output(gxd_session *s) {
  int stream;
  const uint8_t *data;
  if (!child_open(s)) return;
  while (gxd_child_peek(s->child, &stream, &data) > 0)
    gxd_child_consume(s->child, stream);
}

/* The stream can carry no more output: from now on output is read and
 * dropped (so the run never blocks on a pipe nobody empties), and
 * `started` is not sent. */
static void break_stream(gxd_session *s, const char *reason) {
  if (!s->broken) gxd_session_log_phase(s, "run_broken", reason);
  s->broken = 1;
  discard_output(s);
}

/* The one stop path: SIGTERM, the run's grace, SIGKILL; at once when the
 * command does not exist yet. The first reason is the one reported,
 * except that a client that is gone overrides it. */
static void stop_run(gxd_session *s, stop_reason why) {
  if (s->state == S_FINISHED) return;
  if (s->stop == STOP_NONE || (why == STOP_CLIENT && s->stop != why)) {
    gxd_session_log_phase(s, "run_stopping", gxd_session_stop_name(why));
    s->stop = why;
  }
  if (why == STOP_CLIENT) break_stream(s, "the client is gone");
  if (!child_running(s)) return;
  gxd_child_stop(s->child, s->state == S_LAUNCHING ? 0 : s->plan.grace_ms);
}

/* Records the status the call ends with instead of `exited` (the first
 * recorded one wins); such a stream carries no more output. */
static void set_error(gxd_session *s, int status, const char *msg) {
  if (!s->err_status) {
    s->err_status = status;
    snprintf(s->err_msg, sizeof s->err_msg, "%s", msg);
  }
  break_stream(s, gx_status_name(status));
}

/* Ends the run with an error status: stop the process first, and send
 * the status once it is reaped, so nothing outlives the call. */
static void fail(gxd_session *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(gxd_session *s, int status, const char *fmt, ...) {
  char msg[sizeof s->err_msg];
  if (s->err_status || s->state == S_FINISHED) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  set_error(s, status, msg);
  if (s->state == S_WAIT_START || s->state == S_DECIDED ||
      s->state == S_ENDING)
    return finish(s, status, s->err_msg);
  stop_run(s, STOP_ERROR);
}

/* -------------------------------------------------------------- output */

static void send_exited(gxd_session *s) {
  Gexec__V1__Exited ex = GEXEC__V1__EXITED__INIT;
  Gexec__V1__RunResponse r = GEXEC__V1__RUN_RESPONSE__INIT;
  ex.exit_code = s->ex.exit_code;
  ex.signal = s->ex.signal;
  ex.core_dumped = s->ex.core_dumped;
  ex.timed_out = s->ex.timed_out;
  ex.output_truncated = s->truncated;
  ex.user_time_us = s->ex.user_us;
  ex.system_time_us = s->ex.sys_us;
  ex.max_rss_kb = s->ex.max_rss_kb;
  ex.wall_time_us = s->ex.wall_us;
  ex.oom_killed = s->ex.oom_killed;
  r.event_case = GEXEC__V1__RUN_RESPONSE__EVENT_EXITED;
  r.exited = &ex;
  finish_with(s, &r.base, GX_STATUS_OK, "");
}

/* How the call ends once the run's process did: @p started says whether
 * the command ever ran (S_RUNNING was reached). */
static void finish_ended(gxd_session *s, int started) {
  if (s->err_status) return finish(s, s->err_status, s->err_msg);
  if (s->stop == STOP_CLIENT)
    return finish(s, GX_STATUS_CANCELLED, "the client cancelled the run");
  if (started) return send_exited(s);
  if (s->stop == STOP_DRAIN)
    return finish(s, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
  if (s->stop == STOP_TIMEOUT)
    return finish(s, GX_STATUS_DEADLINE_EXCEEDED,
                  "the run's timeout passed before its command started");
  snprintf(s->err_msg, sizeof s->err_msg,
           "the launcher %s (%s %d) without starting the command",
           gxd_launcher_path(s->ctx->launcher),
           s->ex.signal ? "killed by signal" : "exit code",
           s->ex.signal ? s->ex.signal : s->ex.exit_code);
  finish(s, GX_STATUS_INTERNAL, s->err_msg);
}

/* The framing of a RunResponse carrying @p len bytes of @p stream (the
 * stdout or stderr field of the oneof) in front of those bytes. */
static size_t chunk_header(int stream, size_t len, uint8_t head[16]) {
  size_t n = 0;
  head[n++] = (uint8_t)((stream == 1 ? GEXEC__V1__RUN_RESPONSE__EVENT_STDOUT
                                     : GEXEC__V1__RUN_RESPONSE__EVENT_STDERR)
                        << 3 | 2); /* length-delimited */
  do {
    head[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
    len >>= 7;
  } while (len);
  return n;
}

/* Takes the oldest output chunk, applies max_output_bytes, and sends
 * that very buffer (no copy); its stream reads on once the send
 * completed. Returns 1 if a send was started. */
static int send_output(gxd_session *s) {
  int stream;
  const uint8_t *data;
  size_t len, have;
  uint8_t head[16];
  uint64_t max = s->plan.max_output;
  while ((len = gxd_child_peek(s->child, &stream, &data)) > 0) {
    if (max && s->bytes_out + len > max) {
      s->truncated = 1;
      len = (size_t)(max - s->bytes_out);
    }
    if (len == 0 || s->broken) {
      gxd_child_consume(s->child, stream); /* dropped */
      continue;
    }
    uint8_t *buf = gxd_child_take(s->child, stream, &have);
    size_t hn = chunk_header(stream, len, head);
    if (gx_rpc_call_send_owned(s->call, head, hn, buf, len) != GX_OK) {
      gxd_child_resume(s->child, stream); /* the call is over */
      return 0;
    }
    s->bytes_out += len;
    s->send = stream == 1 ? SEND_STDOUT : SEND_STDERR;
    return 1;
  }
  return 0;
}

static void try_send(gxd_session *s) {
  if (s->send != SEND_IDLE || !child_open(s)) return;
  if (s->state != S_RUNNING && s->state != S_ENDING) return;
  if (send_output(s)) return;
  if (s->state == S_ENDING) finish_ended(s, 1);
}

static void on_sent(void *ud, int ok) {
  gxd_session *s = ud;
  send_state was = s->send;
  s->send = SEND_IDLE;
  if ((was == SEND_STDOUT || was == SEND_STDERR) && child_open(s))
    gxd_child_resume(s->child, (int)was);
  if (!ok) /* the call is broken; on_closed(cancelled) follows */
    stop_run(s, STOP_CLIENT);
  try_send(s); /* drops what is buffered once broken */
}

static void send_started(gxd_session *s) {
  const gxd_plan_isolation *pi = &s->plan.isolation;
  Gexec__V1__Started started = GEXEC__V1__STARTED__INIT;
  Gexec__V1__Isolation iso = GEXEC__V1__ISOLATION__INIT;
  Gexec__V1__RunResponse r = GEXEC__V1__RUN_RESPONSE__INIT;
  started.pid = (uint32_t)s->pid;
  started.run_id = s->run_id;
  if (pi->present) {
    iso.profile = (char *)pi->profile;
    iso.n_namespaces = pi->n_namespaces;
    iso.namespaces = (char **)pi->namespaces;
    iso.cgroup = (char *)pi->cgroup;
    iso.seccomp = pi->seccomp;
    iso.uid = pi->uid;
    iso.read_only_root = pi->read_only_root;
    iso.no_new_privs = pi->no_new_privs;
    iso.description = (char *)pi->description;
    started.isolation = &iso;
  }
  r.event_case = GEXEC__V1__RUN_RESPONSE__EVENT_STARTED;
  r.started = &started;
  if (gx_rpc_call_send(s->call, &r.base) == GX_OK) s->send = SEND_MESSAGE;
}

/* ----------------------------------------------------- child callbacks */

static void on_child_output(void *ud) { try_send(ud); }

static void on_child_stdin_drained(void *ud) {
  gxd_session *s = ud;
  if (s->recv != RECV_HELD) return;
  s->recv = RECV_IDLE;
  post_recv(s);
}

static void on_child_timeout(void *ud) { stop_run(ud, STOP_TIMEOUT); }

static void on_child_exec(void *ud, const gxl_record *rec) {
  gxd_session *s = ud;
  char why[sizeof s->err_msg];
  if (s->state != S_LAUNCHING) return;
  if (rec->kind == GXL_REC_EXEC_FAIL && rec->what == GXL_FAIL_DENIED &&
      s->adm.rule) { /* the program constraint was the policy's */
    s->adm.by_policy = 1;
    gxd_admit_trailers(&s->adm, s->call);
    int status = gxd_admit_denied_program(&s->adm, s->plan.program, why,
                                          sizeof why);
    return set_error(s, status, why);
  }
  if (rec->kind == GXL_REC_EXEC_FAIL) { /* drops the launcher's message */
    int status = gxd_plan_exec_fail(&s->plan, rec, why, sizeof why);
    return set_error(s, status, why);
  }
  s->state = S_RUNNING;
  for (int n = 1; n <= 64; n++) /* held until the command existed */
    if (s->pending_signals & (1ull << (n - 1))) gxd_child_signal(s->child, n);
  s->pending_signals = 0;
  if (s->broken) return;
  send_started(s);
  try_send(s);
}

static void on_child_exit(void *ud, const gxd_child_exit *ex) {
  gxd_session *s = ud;
  char why[sizeof s->err_msg];
  sess_state was = s->state;
  s->ex = *ex;
  s->state = S_ENDING;
  if (ex->launch_error[0]) {
    snprintf(why, sizeof why, "the run's sandbox could not be built: %s",
             ex->launch_error);
    set_error(s, GX_STATUS_INTERNAL, why);
  }
  if (was == S_LAUNCHING) return finish_ended(s, 0);
  if (s->broken) discard_output(s);
  try_send(s);
}

/* The launcher is gone: whatever of the run is left in its cgroup goes
 * now, not after its output was drained (a stalled client must not keep
 * an escapee alive). */
static void on_child_reaped(void *ud) {
  gxd_session *s = ud;
  gxd_instance_reclaim(s->ctx->instance, s->run_id, s->cgroup);
}

static void on_child_closed(void *ud) {
  gxd_session *s = ud;
  s->child = NULL;
  maybe_free(s);
}

/* ---------------------------------------------------------------- start */

/* A failure to start the launcher is the daemon's, never the client's. */
static int launcher_status(gxd_session *s, int err, char *why, size_t len) {
  snprintf(why, len, "cannot start the launcher %s: %s",
           gxd_launcher_path(s->ctx->launcher), strerror(err));
  return err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE
             ? GX_STATUS_RESOURCE_EXHAUSTED
             : GX_STATUS_INTERNAL;
}

/* Hands the plan to the launcher; its env is then no longer needed. */
static int launch(gxd_session *s, char *why, size_t len) {
  static const gxd_child_cbs cbs = {
      on_child_output, on_child_stdin_drained, on_child_exec,
      on_child_timeout, on_child_reaped, on_child_exit, on_child_closed};
  int rc = gxd_child_start(s->ctx->launcher, &s->plan.run, &s->plan.request,
                           &s->plan.stdio, &cbs, s, &s->child);
  gxd_plan_free(&s->plan);
  if (rc == -E2BIG)
    return snprintf(why, len, "argv and env are too large to hand over"),
           GX_STATUS_INVALID_ARGUMENT;
  return rc < 0 ? launcher_status(s, -rc, why, len) : GX_STATUS_OK;
}

static void launched(gxd_session *s) {
  uv_timer_stop(&s->start_timer);
  s->pid = gxd_child_pid(s->child);
  s->state = S_LAUNCHING;
  gxd_child_set_timeout(s->child, s->plan.timeout_ms);
  post_recv(s);
}

/* Launches a run that was decided and recorded. */
static void go(gxd_session *s) {
  char why[512];
  int status = launch(s, why, sizeof why);
  if (status != GX_STATUS_OK) return fail(s, status, "%s", why);
  launched(s);
}

/* --audit-sync: the decision record is on disk, or could not be put
 * there (then the run is refused: no run goes unrecorded). */
static void on_audit_synced(gxd_audit_waiter *w, int err) {
  gxd_session *s = (gxd_session *)((char *)w -
                                   offsetof(gxd_session, audit_wait));
  if (s->state != S_DECIDED) return;
  if (err != 0) /* its end is still recorded, if the log takes it */
    return fail(s, GX_STATUS_UNAVAILABLE,
                "the audit log cannot be written (%s); gexecd refuses runs "
                "it cannot record", strerror(-err));
  go(s);
}

/* Records the decision before anything is spawned. Returns GX_STATUS_OK
 * (recorded, or no audit log), -1 (recorded; wait for the sync before
 * launching), or UNAVAILABLE with @p why (not recorded: refuse). */
static int record_decision(gxd_session *s, const Gexec__V1__Start *st,
                           int status, char *why, size_t len) {
  uint64_t seq;
  if (!s->ctx->audit) return GX_STATUS_OK;
  json_object *r = gxd_admit_decision_record(
      &s->adm, &s->caller, st, status == GX_STATUS_OK ? &s->plan : NULL,
      s->run_id, status, why);
  int rc = gxd_audit_write(s->ctx->audit, r, &seq);
  json_object_put(r);
  if (rc == 1 && status == GX_STATUS_OK &&
      (rc = gxd_audit_wait(s->ctx->audit, seq, &s->audit_wait,
                           on_audit_synced)) == 0)
    return -1;
  if (rc < 0 && status != GX_STATUS_OK) /* refused anyway; said so */
    gxd_log(GXD_LOG_ERROR, "run %llu: its refusal cannot be written to the "
            "audit log: %s", (unsigned long long)s->run_id, strerror(-rc));
  if (rc >= 0 || status != GX_STATUS_OK) return GX_STATUS_OK;
  gxd_log(GXD_LOG_ERROR, "run %llu refused: the audit log cannot be "
          "written: %s", (unsigned long long)s->run_id, strerror(-rc));
  snprintf(why, len, "the audit log cannot be written (%s); gexecd refuses "
           "runs it cannot record", strerror(-rc));
  return GX_STATUS_UNAVAILABLE;
}

/* The stream becomes a run: one of its identity's session slots. */
static int take_slot(gxd_session *s, char *why, size_t len) {
  gxd_guard *g = s->ctx->guard;
  gxd_guard_verdict v = g ? gxd_guard_start(g, &s->slot) : GXD_GUARD_OK;
  if (v == GXD_GUARD_OK) return GX_STATUS_OK;
  gxd_guard_describe(g, v, why, len);
  return GX_STATUS_RESOURCE_EXHAUSTED;
}

/* Validates, decides (policy, user, plan, a session slot) and records
 * the start. */
static int decide(gxd_session *s, const Gexec__V1__Start *st,
                  const char *nul, char *why, size_t len) {
  gxd_admit_ctx actx = {.plan = &s->ctx->plan, .policy = s->ctx->policy};
  int status = nul ? (snprintf(why, len, "%s contains a NUL byte", nul),
                      GX_STATUS_INVALID_ARGUMENT)
                   : gxd_validate_start(st, &s->ctx->limits, why, len);
  if (status == GX_STATUS_OK)
    status = gxd_admit_run(&actx, &s->caller, st, s->run_id, s->cgroup,
                           &s->adm, &s->plan, why, len);
  if (status == GX_STATUS_OK && s->ctx->auth)
    status = s->ctx->auth(s->ctx->auth_ud, &s->plan, why, len);
  if (status == GX_STATUS_OK) status = take_slot(s, why, len);
  int rc = record_decision(s, st, status, why, len);
  if (status == GX_STATUS_OK && rc != GX_STATUS_OK && rc != -1) return rc;
  if (status == GX_STATUS_OK) s->decided = 1;
  return status == GX_STATUS_OK ? rc : status;
}

static void handle_start(gxd_session *s, Gexec__V1__RunRequest *req,
                         const uint8_t *data, size_t len) {
  char why[512];
  s->req = req;
  int status = decide(s, req->start, gxd_wire_find_nul(data, len), why,
                      sizeof why);
  if (status == -1) { /* launched once the record is on disk */
    uv_timer_stop(&s->start_timer);
    s->state = S_DECIDED;
    return;
  }
  if (status != GX_STATUS_OK) {
    gxd_admit_trailers(&s->adm, s->call);
    return fail(s, status, "%s", why);
  }
  go(s);
}

/* -------------------------------------------------------------- input */

static const char *event_name(int ev) {
  switch (ev) {
    case GEXEC__V1__RUN_REQUEST__EVENT_START: return "start";
    case GEXEC__V1__RUN_REQUEST__EVENT_STDIN: return "stdin";
    case GEXEC__V1__RUN_REQUEST__EVENT_STDIN_EOF: return "stdin_eof";
    case GEXEC__V1__RUN_REQUEST__EVENT_SIGNAL: return "signal";
    default: return "an empty RunRequest";
  }
}

static void handle_stdin(gxd_session *s, const ProtobufCBinaryData *d) {
  if (!s->plan.stdio.stdin_pipe)
    return fail(s, GX_STATUS_INVALID_ARGUMENT,
                "stdin sent, but the run's stdin_mode is STDIN_NULL");
  if (s->stdin_eof_seen)
    return fail(s, GX_STATUS_INVALID_ARGUMENT, "stdin sent after stdin_eof");
  s->bytes_in += d->len;
  if (!child_running(s)) return; /* it ended: nobody reads stdin any more */
  if (gxd_child_write_stdin(s->child, d->data, d->len) > 0)
    s->recv = RECV_HELD;
}

static void handle_signal(gxd_session *s, const Gexec__V1__Signal *sig) {
  char why[128];
  int n = sig ? sig->number : 0;
  if (gxd_validate_signal(n, why, sizeof why) != GX_STATUS_OK)
    return fail(s, GX_STATUS_INVALID_ARGUMENT, "%s", why);
  if (s->state == S_LAUNCHING) /* for the command, once it exists */
    s->pending_signals |= 1ull << (n - 1);
  else if (s->state == S_RUNNING)
    gxd_child_signal(s->child, n);
}

static void handle_event(gxd_session *s, const Gexec__V1__RunRequest *req) {
  switch (req->event_case) {
    case GEXEC__V1__RUN_REQUEST__EVENT_START:
      return fail(s, GX_STATUS_INVALID_ARGUMENT, "a second start message");
    case GEXEC__V1__RUN_REQUEST__EVENT_STDIN:
      return handle_stdin(s, &req->stdin);
    case GEXEC__V1__RUN_REQUEST__EVENT_STDIN_EOF:
      if (s->stdin_eof_seen)
        return fail(s, GX_STATUS_INVALID_ARGUMENT, "a second stdin_eof");
      s->stdin_eof_seen = 1;
      if (child_running(s)) gxd_child_close_stdin(s->child);
      return;
    case GEXEC__V1__RUN_REQUEST__EVENT_SIGNAL:
      return handle_signal(s, req->signal);
    default:
      return fail(s, GX_STATUS_INVALID_ARGUMENT,
                  "RunRequest has no event set");
  }
}

/* Unpacks one message and refuses fields this daemon does not know. */
static Gexec__V1__RunRequest *unpack(gxd_session *s, const uint8_t *data,
                                     size_t len) {
  char why[512];
  Gexec__V1__RunRequest *req =
      gexec__v1__run_request__unpack(NULL, len, data);
  if (!req) {
    fail(s, GX_STATUS_INVALID_ARGUMENT,
         "a %zu-byte message is not a valid gexec.v1.RunRequest", len);
  } else if (gxd_wire_check_unknown(&req->base, why, sizeof why) !=
             GX_STATUS_OK) {
    fail(s, GX_STATUS_INVALID_ARGUMENT, "%s", why);
    gexec__v1__run_request__free_unpacked(req, NULL);
    req = NULL;
  }
  return req;
}

static void on_recv(void *ud, const uint8_t *data, size_t len) {
  gxd_session *s = ud;
  s->recv = RECV_IDLE;
  if (s->state == S_FINISHED || s->err_status) return;
  if (!data) { /* half-close (or failure): no more input */
    if (s->state == S_WAIT_START)
      return fail(s, GX_STATUS_INVALID_ARGUMENT,
                  "the stream ended before a start message");
    if (!s->stdin_eof_seen && child_running(s))
      gxd_child_close_stdin(s->child);
    return;
  }
  Gexec__V1__RunRequest *req = unpack(s, data, len);
  if (!req) return;
  if (s->state == S_WAIT_START) {
    if (req->event_case == GEXEC__V1__RUN_REQUEST__EVENT_START)
      return handle_start(s, req, data, len);
    fail(s, GX_STATUS_INVALID_ARGUMENT,
         "the first message must be start, not %s",
         event_name(req->event_case));
  } else {
    handle_event(s, req);
  }
  gexec__v1__run_request__free_unpacked(req, NULL);
  post_recv(s);
}

/* Posts the next receive, unless one is posted or held, or the call
 * takes no more input. */
static void post_recv(gxd_session *s) {
  if (s->recv != RECV_IDLE || s->state == S_FINISHED || s->err_status)
    return;
  if (gx_rpc_call_recv(s->call) == GX_OK) s->recv = RECV_POSTED;
}

/* ----------------------------------------------------------- lifecycle */

static void on_closed(void *ud, int cancelled) {
  gxd_session *s = ud;
  if (!cancelled || s->state == S_FINISHED) return;
  if (s->state == S_WAIT_START || s->state == S_DECIDED)
    return finish(s, GX_STATUS_CANCELLED, "the client cancelled the run");
  stop_run(s, STOP_CLIENT);
  if (s->state == S_ENDING) try_send(s);
}

static void on_done(void *ud) {
  gxd_session *s = ud;
  s->call_done = 1;
  maybe_free(s);
}

/* A stream that never sends start must not hold a session slot. */
static void on_start_timeout(uv_timer_t *t) {
  gxd_session *s = t->data;
  if (s->state == S_WAIT_START)
    fail(s, GX_STATUS_DEADLINE_EXCEEDED,
         "no start message within %llu ms of opening the stream",
         (unsigned long long)s->ctx->start_timeout_ms);
}

void gxd_session_start(gxd_session_ctx *ctx, gx_rpc_call *call,
                       const gxd_caller_info *caller,
                       const gxd_guard_slot *slot) {
  static const gx_rpc_handlers h = {on_recv, on_sent, on_closed, NULL,
                                    on_done};
  gxd_guard_slot held = slot ? *slot : (gxd_guard_slot){0};
  gxd_session *s = calloc(1, sizeof *s);
  if (!s) {
    if (ctx->guard) gxd_guard_close(ctx->guard, &held);
    gx_rpc_call_finish(call, GX_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  s->slot = held;
  s->ctx = ctx;
  s->call = call;
  gxd_caller_copy(&s->caller, caller);
  s->start_ns = uv_hrtime();
  s->run_id = gxd_instance_new_run(ctx->instance, s->cgroup, sizeof s->cgroup);
  uv_timer_init(ctx->loop, &s->start_timer);
  s->start_timer.data = s;
  uv_timer_start(&s->start_timer, on_start_timeout, ctx->start_timeout_ms, 0);
  s->next = ctx->head;
  if (ctx->head) ctx->head->prev = s;
  ctx->head = s;
  ctx->count++;
  ctx->allocated++;
  gx_rpc_call_set_handlers(call, &h, s);
  post_recv(s);
}

uint32_t gxd_session_max_grace(const gxd_session_ctx *ctx) {
  uint32_t ms = 0;
  for (const gxd_session *s = ctx->head; s; s = s->next)
    if (s->state == S_RUNNING && s->plan.grace_ms > ms) ms = s->plan.grace_ms;
  return ms;
}

void gxd_session_stop_all(gxd_session_ctx *ctx) {
  for (gxd_session *s = ctx->head; s; s = s->next) {
    if (s->state == S_WAIT_START || s->state == S_DECIDED)
      fail(s, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
    else
      stop_run(s, STOP_DRAIN);
  }
}
