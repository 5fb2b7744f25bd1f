/* The Run protocol; see session.h. */
#include "server/session.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/gx_err.h"
#include "server/child.h"
#include "server/env.h"
#include "server/launch_wire.h"
#include "server/log.h"
#include "server/wire_check.h"

typedef enum {
  S_WAIT_START, /* no start message yet */
  S_LAUNCHING,  /* the launcher runs; the command does not exist yet */
  S_RUNNING,    /* the command was exec'd; `started` sent */
  S_ENDING,     /* reaped: the rest of the output, then `exited` */
  S_FINISHED,   /* the status is on its way */
} sess_state;

/* Why a run is being stopped (the first reason is kept). */
typedef enum {
  STOP_NONE,
  STOP_TIMEOUT,  /* timeout_ms passed */
  STOP_CLIENT,   /* cancelled, disconnected, or the stream broke */
  STOP_ERROR,    /* a protocol error: err_status says which */
  STOP_DRAIN,    /* the daemon is shutting down */
} stop_reason;

struct gxd_session {
  gxd_session_ctx *ctx;
  gxd_session *prev, *next;
  gx_rpc_call *call;
  gxd_child *child;
  Gexec__V1__RunRequest *req; /* the start message, kept for the log */
  sess_state state;
  stop_reason stop;
  int send_busy, recv_busy, recv_paused;
  int sending;        /* stream (1, 2) whose buffer is being sent, or 0 */
  int stdin_eof_seen;
  int reaped;         /* s->ex holds how the run ended */
  int call_done;
  int child_closing;  /* gxd_child_close called; s->child NULL once closed */
  uv_timer_t start_timer; /* bounds the wait for the start message */
  int err_status; /* nonzero: end with this status instead of exited */
  char err_msg[512];
  gxd_child_exit ex;
  uint64_t pending_signals; /* bit n-1: signal n, sent before `started` */
  uint64_t bytes_in, bytes_out, max_output;
  int truncated;
  uint64_t start_ns;
  uint32_t grace_ms;    /* SIGTERM -> SIGKILL when this run is stopped */
  pid_t pid;
  uint64_t run_id;
  char cgroup[GXI_CGROUP_NAME_MAX + 1]; /* the run's cgroup, or "" */
  int profile;          /* index into ctx->tiers */
  gxd_run_limits lim;   /* in force for this run */
};

static void try_send(gxd_session *s);
static void post_recv(gxd_session *s);

/* ------------------------------------------------------------- ending */

static void log_run(gxd_session *s, int status) {
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("run"));
  json_object_object_add(f, "run", json_object_new_int64((int64_t)s->run_id));
  json_object_object_add(f, "peer",
                         json_object_new_string(gx_rpc_call_peer(s->call)));
  if (s->req && s->req->start) {
    json_object *argv = json_object_new_array();
    Gexec__V1__Start *st = s->req->start;
    for (size_t i = 0; i < st->n_argv && i < 32; i++)
      json_object_array_add(argv, json_object_new_string_len(
                                      st->argv[i], (int)strnlen(st->argv[i], 128)));
    json_object_object_add(f, "argv", argv);
  }
  json_object_object_add(f, "pid", json_object_new_int(s->pid));
  json_object_object_add(f, "status",
                         json_object_new_string(gx_status_name(status)));
  if (status != GX_STATUS_OK)
    json_object_object_add(f, "error", json_object_new_string(s->err_msg));
  if (s->reaped) {
    if (s->ex.signal)
      json_object_object_add(f, "signal", json_object_new_int(s->ex.signal));
    else
      json_object_object_add(f, "exit_code",
                             json_object_new_int(s->ex.exit_code));
    json_object_object_add(f, "timed_out",
                           json_object_new_boolean(s->ex.timed_out));
  }
  if (s->ex.pipes_forced) /* output of escapees was cut off */
    json_object_object_add(f, "pipes_forced", json_object_new_boolean(1));
  json_object_object_add(f, "duration_ms", json_object_new_int64(
                                (int64_t)((uv_hrtime() - s->start_ns) / 1000000)));
  json_object_object_add(f, "bytes_in", json_object_new_int64((int64_t)s->bytes_in));
  json_object_object_add(f, "bytes_out", json_object_new_int64((int64_t)s->bytes_out));
  gxd_log_event(status == GX_STATUS_OK ? GXD_LOG_INFO : GXD_LOG_WARN, f);
}

/* The run's process exists and was not reaped yet. */
static int child_running(const gxd_session *s) {
  return s->state == S_LAUNCHING || s->state == S_RUNNING;
}

/* Ends the call: @p last (if any) then the status, in one batch. */
static void finish_with(gxd_session *s, const ProtobufCMessage *last,
                        int status, const char *msg) {
  int ended = s->state == S_ENDING;
  if (s->state == S_FINISHED) return;
  s->state = S_FINISHED;
  s->ctx->count--; /* the slot is free once the final status is on its way */
  uv_timer_stop(&s->start_timer);
  if (status != GX_STATUS_OK && msg != s->err_msg)
    snprintf(s->err_msg, sizeof s->err_msg, "%s", msg);
  log_run(s, status);
  if (ended && s->child && !s->child_closing) { /* every path ends reaped */
    s->child_closing = 1;
    gxd_child_close(s->child);
  }
  if (!last || gx_rpc_call_finish_msg(s->call, last, status, msg) != GX_OK)
    gx_rpc_call_finish(s->call, status, msg);
}

static void finish(gxd_session *s, int status, const char *msg) {
  finish_with(s, NULL, status, msg);
}

static void free_session(uv_handle_t *h) {
  gxd_session *s = h->data;
  gxd_session_ctx *ctx = s->ctx;
  if (s->req) gexec__v1__run_request__free_unpacked(s->req, NULL);
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

/* Output nobody will send: dropped. */
static int output_dropped(const gxd_session *s) {
  return s->err_status || s->stop == STOP_CLIENT;
}

/* Drops all buffered output: for a call that can no longer carry it. */
static void discard_output(gxd_session *s) {
  int stream;
  const uint8_t *data;
  if (!s->child || s->child_closing) return;
  while (gxd_child_peek(s->child, &stream, &data) > 0)
    gxd_child_consume(s->child, stream);
}

/* The one stop path: SIGTERM, the run's grace, SIGKILL; at once when the
 * command does not exist yet. The first reason is the one reported. */
static void stop_run(gxd_session *s, stop_reason why) {
  if (s->stop == STOP_NONE || why == STOP_CLIENT) s->stop = why;
  if (output_dropped(s)) discard_output(s);
  if (!child_running(s)) return;
  gxd_child_stop(s->child, s->state == S_LAUNCHING ? 0 : s->grace_ms);
}

/* Ends the run with an error status: stop the process first, and send
 * the status once it is reaped, so nothing outlives the call. */
static void fail(gxd_session *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(gxd_session *s, int status, const char *fmt, ...) {
  if (s->err_status || s->state == S_FINISHED) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->err_msg, sizeof s->err_msg, fmt, ap);
  va_end(ap);
  s->err_status = status;
  if (s->state == S_WAIT_START || s->state == S_ENDING)
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
  while ((len = gxd_child_peek(s->child, &stream, &data)) > 0) {
    if (s->max_output && s->bytes_out + len > s->max_output) {
      s->truncated = 1;
      len = (size_t)(s->max_output - s->bytes_out);
    }
    if (len == 0 || output_dropped(s)) {
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
    s->send_busy = 1;
    s->sending = stream;
    return 1;
  }
  return 0;
}

/* How a run that ends without `started` is reported. */
static void finish_unstarted(gxd_session *s) {
  if (s->err_status) return finish(s, s->err_status, s->err_msg);
  if (s->stop == STOP_CLIENT)
    return finish(s, GX_STATUS_CANCELLED, "the client cancelled the run");
  if (s->stop == STOP_DRAIN)
    return finish(s, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
  if (s->stop == STOP_TIMEOUT)
    return finish(s, GX_STATUS_DEADLINE_EXCEEDED,
                  "the run's timeout passed before its command started");
  if (s->ex.launch_error[0])
    return finish(s, GX_STATUS_INTERNAL, s->err_msg);
  snprintf(s->err_msg, sizeof s->err_msg,
           "the launcher %s (%s %d) without starting the command",
           gxd_launcher_path(s->ctx->launcher),
           s->ex.signal ? "killed by signal" : "exit code",
           s->ex.signal ? s->ex.signal : s->ex.exit_code);
  finish(s, GX_STATUS_INTERNAL, s->err_msg);
}

static void try_send(gxd_session *s) {
  if (s->send_busy || !s->child || s->child_closing) return;
  if (s->state != S_RUNNING && s->state != S_ENDING) return;
  if (send_output(s)) return;
  if (s->state != S_ENDING) return;
  if (s->err_status) return finish(s, s->err_status, s->err_msg);
  if (s->stop == STOP_CLIENT)
    return finish(s, GX_STATUS_CANCELLED, "the client cancelled the run");
  send_exited(s);
}

static void on_sent(void *ud, int ok) {
  gxd_session *s = ud;
  s->send_busy = 0;
  if (s->sending && s->child && !s->child_closing)
    gxd_child_resume(s->child, s->sending);
  s->sending = 0;
  if (!ok) /* the call is broken; on_closed(cancelled) follows */
    stop_run(s, STOP_CLIENT);
  try_send(s); /* drops what is buffered once broken */
}

/* ----------------------------------------------------- child callbacks */

static void on_child_output(void *ud) { try_send(ud); }

static void on_child_stdin_drained(void *ud) {
  gxd_session *s = ud;
  if (s->recv_paused) {
    s->recv_paused = 0;
    post_recv(s);
  }
}

static void on_child_timeout(void *ud) { stop_run(ud, STOP_TIMEOUT); }

/* Why the command could not start, as a status (launch_wire exec fail). */
static int exec_fail_status(gxd_session *s, const gxl_record *rec) {
  const Gexec__V1__Start *st = s->req->start;
  const char *cwd = st->cwd && st->cwd[0] ? st->cwd : "/";
  char *why = s->err_msg;
  size_t len = sizeof s->err_msg;
  int err = rec->err;
  if (rec->what == GXL_FAIL_CWD) {
    int hidden = s->ctx->tiers && (s->ctx->tiers->t[s->profile].mechs & GXI_MECH_RO_ROOT) &&
                 (strcmp(cwd, "/tmp") == 0 || strncmp(cwd, "/tmp/", 5) == 0);
    snprintf(why, len, "cwd '%.300s' %s%s", cwd,
             err == ENOENT    ? "does not exist"
             : err == ENOTDIR ? "does not exist or is not a directory"
             : err == EACCES  ? "is not accessible to the run's user"
                              : strerror(err),
             hidden ? " (this profile has a private /tmp)" : "");
    return err == EACCES || err == EPERM ? GX_STATUS_PERMISSION_DENIED
                                         : GX_STATUS_FAILED_PRECONDITION;
  }
  const char *prog = st->argv[0];
  switch (err) {
    case ENOENT:
      snprintf(why, len, "cannot run '%.200s': program or its interpreter "
               "not found", prog);
      return GX_STATUS_NOT_FOUND;
    case EACCES: case EPERM:
      snprintf(why, len, "cannot run '%.200s': permission denied", prog);
      return GX_STATUS_PERMISSION_DENIED;
    case ENOEXEC:
      snprintf(why, len, "cannot run '%.200s': not an executable format "
               "(no #! line?)", prog);
      return GX_STATUS_PERMISSION_DENIED;
    case E2BIG:
      snprintf(why, len, "cannot run '%.200s': argument list too long", prog);
      return GX_STATUS_INVALID_ARGUMENT;
    case ENAMETOOLONG:
      snprintf(why, len, "cannot run '%.200s': name too long", prog);
      return GX_STATUS_INVALID_ARGUMENT;
    case EAGAIN: case ENOMEM: case EMFILE: case ENFILE:
      snprintf(why, len, "cannot start '%.200s': %s", prog, strerror(err));
      return GX_STATUS_RESOURCE_EXHAUSTED;
    default:
      snprintf(why, len, "cannot start '%.200s': %s", prog, strerror(err));
      return GX_STATUS_INTERNAL;
  }
}

static void send_started(gxd_session *s);

static void on_child_exec(void *ud, const gxl_record *rec) {
  gxd_session *s = ud;
  if (s->state != S_LAUNCHING) return;
  if (rec->kind == GXL_REC_EXEC_FAIL) {
    if (!s->err_status) s->err_status = exec_fail_status(s, rec);
    discard_output(s); /* the launcher's own message, if any */
    return;
  }
  s->state = S_RUNNING;
  for (int n = 1; n <= 64; n++) /* held until the command existed */
    if (s->pending_signals & (1ull << (n - 1))) gxd_child_signal(s->child, n);
  s->pending_signals = 0;
  if (output_dropped(s)) return;
  send_started(s);
  try_send(s);
}

static void on_child_exit(void *ud, const gxd_child_exit *ex) {
  gxd_session *s = ud;
  sess_state was = s->state;
  s->ex = *ex;
  s->reaped = 1;
  s->state = S_ENDING;
  if (ex->launch_error[0] && !s->err_status) {
    s->err_status = GX_STATUS_INTERNAL;
    snprintf(s->err_msg, sizeof s->err_msg,
             "the run's sandbox could not be built: %s", ex->launch_error);
  }
  if (was == S_LAUNCHING) return finish_unstarted(s);
  if (output_dropped(s)) discard_output(s);
  if (!s->send_busy) try_send(s);
}

/* The launcher is gone: whatever of the run is left in its cgroup goes
 * now, not after its output was drained (a stalled client must not keep
 * an escapee alive). */
static void on_child_reaped(void *ud) {
  gxd_session *s = ud;
  if (s->ctx->instance) gxd_instance_reclaim(s->ctx->instance, s->cgroup);
}

static void on_child_closed(void *ud) {
  gxd_session *s = ud;
  s->child = NULL;
  maybe_free(s);
}

/* ---------------------------------------------------------------- start */

static char **build_env(gxd_session *s, const Gexec__V1__Start *st) {
  gxd_env_var vars[st->n_env ? st->n_env : 1];
  for (size_t i = 0; i < st->n_env; i++) {
    vars[i].name = st->env[i]->key;
    vars[i].value = st->env[i]->value ? st->env[i]->value : "";
  }
  return gxd_env_build(s->ctx->home, vars, st->n_env);
}

/* Effective limit: the request, else the profile's default, capped. */
static uint64_t pick(uint64_t req, uint64_t def, uint64_t max) {
  uint64_t v = req ? req : def;
  return max && (v == 0 || v > max) ? max : v;
}

static int choose_isolation(gxd_session *s, const Gexec__V1__Start *st,
                            char *why, size_t len) {
  const gxd_session_ctx *ctx = s->ctx;
  const char *name = st->profile && st->profile[0] ? st->profile : NULL;
  s->profile = name ? gxi_profile_builtin_find(name) : ctx->default_profile;
  if (s->profile < 0)
    return snprintf(why, len,
                    "unknown profile '%.64s' (host, baseline, restricted)",
                    name), GX_STATUS_INVALID_ARGUMENT;
  if (!ctx->tiers) return GX_STATUS_OK;
  const gxd_tier *t = &ctx->tiers->t[s->profile];
  name = gxi_profile_builtin((gxi_builtin)s->profile)->name;
  if (!t->usable)
    return snprintf(why, len, "profile %s cannot run on this host (%s)",
                    name, t->desc), GX_STATUS_FAILED_PRECONDITION;
  if (!t->full && !ctx->allow_reduced[s->profile])
    return snprintf(why, len,
                    "profile %s is not available in full on this host "
                    "(missing: %s); gexecd serves it reduced only when "
                    "started with --allow-reduced %s", name, t->missing,
                    name), GX_STATUS_FAILED_PRECONDITION;
  const Gexec__V1__Limits *l = st->limits;
  const gxd_run_limits *d = &ctx->profile_defaults[s->profile];
  const gxd_run_limits *m = &ctx->max_limits;
  s->lim.memory_bytes = pick(l ? l->memory_bytes : 0, d->memory_bytes, m->memory_bytes);
  s->lim.pids = pick(l ? l->pids : 0, d->pids, m->pids);
  s->lim.cpu_time_ms = pick(l ? l->cpu_time_ms : 0, d->cpu_time_ms, m->cpu_time_ms);
  s->lim.open_files = pick(l ? l->open_files : 0, d->open_files, m->open_files);
  if ((s->lim.memory_bytes || s->lim.pids) && t->cgroup_version == 0)
    return snprintf(why, len,
                    "memory and pids limits need cgroups, which this host "
                    "does not provide (tier: %s)", t->desc),
           GX_STATUS_FAILED_PRECONDITION;
  return GX_STATUS_OK;
}

/* A failure to start the launcher is the daemon's, never the client's. */
static int launcher_status(gxd_session *s, int err, char *why, size_t len) {
  snprintf(why, len, "cannot start the launcher %s: %s",
           gxd_launcher_path(s->ctx->launcher), strerror(err));
  return err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE
             ? GX_STATUS_RESOURCE_EXHAUSTED
             : GX_STATUS_INTERNAL;
}

static int launch(gxd_session *s, const Gexec__V1__Start *st, char *why,
                  size_t len) {
  char **envp = build_env(s, st);
  int rc = envp ? 0 : -ENOMEM;
  if (rc == 0) {
    size_t envc = 0;
    while (envp[envc]) envc++;
    gxl_request req = {.cwd = st->cwd && st->cwd[0] ? st->cwd : "/",
                       .argv = st->argv, .argc = st->n_argv,
                       .envp = envp, .envc = envc};
    gxl_run run = {.run_id = s->run_id, .profile = (gxi_builtin)s->profile,
                   .limits = s->lim};
    run.mechs = s->ctx->tiers ? s->ctx->tiers->t[s->profile].mechs
                              : gxi_profile_builtin(run.profile)->mechs;
    snprintf(run.cgroup, sizeof run.cgroup, "%s", s->cgroup);
    gxd_child_stdio io = {
        .stdin_pipe = st->stdin_mode == GEXEC__V1__STDIN_MODE__STDIN_PIPE,
        .stdout_pipe = st->stdout_mode == GEXEC__V1__OUTPUT_MODE__OUTPUT_PIPE,
        .stderr_mode = (int)st->stderr_mode == 0 ? 1
                       : st->stderr_mode == GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD ? 0 : 2};
    gxd_child_cbs cbs = {on_child_output, on_child_stdin_drained,
                         on_child_exec, on_child_timeout, on_child_reaped,
                         on_child_exit, on_child_closed};
    rc = gxd_child_start(s->ctx->launcher, &run, &req, &io, &cbs, s,
                         &s->child);
  }
  free(envp);
  if (rc == -E2BIG)
    return snprintf(why, len, "argv and env are too large to hand over"),
           GX_STATUS_INVALID_ARGUMENT;
  return rc < 0 ? launcher_status(s, -rc, why, len) : GX_STATUS_OK;
}

static void send_started(gxd_session *s) {
  Gexec__V1__Started started = GEXEC__V1__STARTED__INIT;
  Gexec__V1__Isolation iso = GEXEC__V1__ISOLATION__INIT;
  Gexec__V1__RunResponse r = GEXEC__V1__RUN_RESPONSE__INIT;
  char *ns[6];
  started.pid = (uint32_t)s->pid;
  if (s->ctx->tiers) {
    const gxd_tier *t = &s->ctx->tiers->t[s->profile];
    uint32_t m = t->mechs;
    const gxd_instance *in = s->ctx->instance;
    size_t n = 0;
    for (uint32_t b = 1; b & GXI_MECH_NAMESPACES; b <<= 1)
      if (m & b) ns[n++] = (char *)gxi_mech_name((gxi_mech)b);
    iso.profile = (char *)gxi_profile_builtin((gxi_builtin)s->profile)->name;
    iso.n_namespaces = n;
    iso.namespaces = ns;
    if (s->lim.memory_bytes || s->lim.pids)
      iso.cgroup = t->cgroup_version == 2 ? "v2" : "v1";
    else if (s->cgroup[0]) /* tracked only: where its processes are found */
      iso.cgroup = in && in->caps.has_kill ? "v2" : "v1";
    else
      iso.cgroup = "";
    iso.seccomp = !!(m & GXI_MECH_SECCOMP);
    iso.uid = m & GXI_MECH_USER ? GXI_INNER_UID : 0;
    iso.read_only_root = !!(m & GXI_MECH_RO_ROOT);
    iso.no_new_privs = !!(m & GXI_MECH_NNP);
    iso.description = (char *)t->desc;
    started.isolation = &iso;
  }
  r.event_case = GEXEC__V1__RUN_RESPONSE__EVENT_STARTED;
  r.started = &started;
  if (gx_rpc_call_send(s->call, &r.base) == GX_OK) s->send_busy = 1;
}

static void handle_start(gxd_session *s, Gexec__V1__RunRequest *req,
                         const uint8_t *data, size_t len) {
  char why[512];
  const Gexec__V1__Start *st = req->start;
  const char *nul = gxd_wire_find_nul(data, len);
  s->req = req;
  if (nul) return fail(s, GX_STATUS_INVALID_ARGUMENT,
                       "%s contains a NUL byte", nul);
  int status = gxd_validate_start(st, &s->ctx->limits, why, sizeof why);
  if (status == GX_STATUS_OK)
    status = choose_isolation(s, st, why, sizeof why);
  if (status == GX_STATUS_OK && s->ctx->auth)
    status = s->ctx->auth(s->ctx->auth_ud, gx_rpc_call_peer(s->call), st,
                          why, sizeof why);
  if (status == GX_STATUS_OK && s->ctx->instance)
    s->run_id = gxd_instance_new_run(s->ctx->instance, s->cgroup,
                                     sizeof s->cgroup);
  if (status == GX_STATUS_OK) status = launch(s, st, why, sizeof why);
  if (status != GX_STATUS_OK) return fail(s, status, "%s", why);
  uv_timer_stop(&s->start_timer);
  s->pid = gxd_child_pid(s->child);
  s->max_output = st->max_output_bytes;
  s->grace_ms = st->kill_grace_ms ? st->kill_grace_ms : s->ctx->default_grace_ms;
  s->state = S_LAUNCHING;
  gxd_child_set_timeout(
      s->child, st->timeout_ms ? st->timeout_ms : s->ctx->limits.max_timeout_ms);
  post_recv(s);
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
  if (s->req->start->stdin_mode == GEXEC__V1__STDIN_MODE__STDIN_NULL)
    return fail(s, GX_STATUS_INVALID_ARGUMENT,
                "stdin sent, but the run's stdin_mode is STDIN_NULL");
  if (s->stdin_eof_seen)
    return fail(s, GX_STATUS_INVALID_ARGUMENT, "stdin sent after stdin_eof");
  s->bytes_in += d->len;
  if (!child_running(s)) return; /* it ended: nobody reads stdin any more */
  /* the next message only once this one is in the pipe: one held */
  if (gxd_child_write_stdin(s->child, d->data, d->len) > 0)
    s->recv_paused = 1;
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

static void on_recv(void *ud, const uint8_t *data, size_t len) {
  gxd_session *s = ud;
  s->recv_busy = 0;
  if (s->state == S_FINISHED || s->err_status) return;
  if (!data) { /* half-close (or failure): no more input */
    if (s->state == S_WAIT_START)
      return fail(s, GX_STATUS_INVALID_ARGUMENT,
                  "the stream ended before a start message");
    if (!s->stdin_eof_seen && child_running(s))
      gxd_child_close_stdin(s->child);
    return;
  }
  Gexec__V1__RunRequest *req =
      gexec__v1__run_request__unpack(NULL, len, data);
  if (!req)
    return fail(s, GX_STATUS_INVALID_ARGUMENT,
                "a %zu-byte message is not a valid gexec.v1.RunRequest", len);
  char why[512];
  if (gxd_wire_check_unknown(&req->base, why, sizeof why) != GX_STATUS_OK) {
    fail(s, GX_STATUS_INVALID_ARGUMENT, "%s", why);
    gexec__v1__run_request__free_unpacked(req, NULL);
    return;
  }
  if (s->state == S_WAIT_START) {
    if (req->event_case != GEXEC__V1__RUN_REQUEST__EVENT_START) {
      fail(s, GX_STATUS_INVALID_ARGUMENT,
           "the first message must be start, not %s",
           event_name(req->event_case));
      gexec__v1__run_request__free_unpacked(req, NULL);
      return;
    }
    return handle_start(s, req, data, len);
  }
  handle_event(s, req);
  gexec__v1__run_request__free_unpacked(req, NULL);
  if (!s->recv_paused) post_recv(s);
}

static void post_recv(gxd_session *s) {
  if (s->recv_busy || s->state == S_FINISHED || s->err_status) return;
  if (gx_rpc_call_recv(s->call) == GX_OK) s->recv_busy = 1;
}

/* ----------------------------------------------------------- lifecycle */

static void on_closed(void *ud, int cancelled) {
  gxd_session *s = ud;
  if (!cancelled || s->state == S_FINISHED) return;
  if (s->state == S_WAIT_START)
    return finish(s, GX_STATUS_CANCELLED, "the client cancelled the run");
  stop_run(s, STOP_CLIENT);
  if (s->state == S_ENDING && !s->send_busy) try_send(s);
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

void gxd_session_start(gxd_session_ctx *ctx, gx_rpc_call *call) {
  static const gx_rpc_handlers h = {on_recv, on_sent, on_closed, NULL,
                                    on_done};
  gxd_session *s = calloc(1, sizeof *s);
  if (!s) {
    gx_rpc_call_finish(call, GX_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  s->ctx = ctx;
  s->call = call;
  s->start_ns = uv_hrtime();
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

void gxd_session_stop_all(gxd_session_ctx *ctx) {
  for (gxd_session *s = ctx->head; s; s = s->next) {
    if (s->state == S_WAIT_START)
      fail(s, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
    else
      stop_run(s, STOP_DRAIN);
  }
}
