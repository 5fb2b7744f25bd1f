/* The Run protocol; see session.h. */
#include "server/session.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/gx_err.h"
#include "lib/gx_log.h"
#include "server/child.h"
#include "server/env.h"
#include "server/spawn.h"
#include "server/wire_check.h"

typedef enum { S_WAIT_START, S_RUNNING, S_FINISHED } sess_state;

struct gxd_session {
  gxd_session_ctx *ctx;
  gxd_session *prev, *next;
  gx_rpc_call *call;
  gxd_child *child;
  Gexec__V1__RunRequest *req; /* the start message, kept for the log */
  sess_state state;
  int send_busy, recv_busy, recv_paused;
  int stdin_eof_seen, cancelled;
  int exited, exit_sent, call_done;
  int child_closing;  /* gxd_child_close called; s->child NULL once closed */
  int broken;         /* the call can carry no more output */
  uv_timer_t start_timer; /* bounds the wait for the start message */
  int err_status; /* nonzero: end with this status instead of exited */
  char err_msg[512];
  gxd_child_exit ex;
  uint64_t bytes_in, bytes_out, max_output;
  int truncated;
  uint64_t start_ns;
  pid_t pid;
  int profile;          /* index into ctx->tiers */
  gxd_run_limits lim;   /* in force for this run */
};

static void try_send(gxd_session *s);
static void post_recv(gxd_session *s);

/* ------------------------------------------------------------- ending */

static void log_run(gxd_session *s, int status) {
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("run"));
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
  if (s->exited && s->ex.signal) {
    json_object_object_add(f, "signal", json_object_new_int(s->ex.signal));
    json_object_object_add(f, "timed_out", json_object_new_boolean(s->ex.timed_out));
  } else if (s->exited) {
    json_object_object_add(f, "exit_code", json_object_new_int(s->ex.exit_code));
    json_object_object_add(f, "timed_out", json_object_new_boolean(s->ex.timed_out));
  }
  if (s->exited && s->ex.pipes_forced) /* output of escapees was cut off */
    json_object_object_add(f, "pipes_forced", json_object_new_boolean(1));
  json_object_object_add(f, "duration_ms", json_object_new_int64(
                                (int64_t)((uv_hrtime() - s->start_ns) / 1000000)));
  json_object_object_add(f, "bytes_in", json_object_new_int64((int64_t)s->bytes_in));
  json_object_object_add(f, "bytes_out", json_object_new_int64((int64_t)s->bytes_out));
  gx_log_event(status == GX_STATUS_OK ? GX_LOG_INFO : GX_LOG_WARN, f);
}

/* Releases the child once its exit was reported; on_child_closed then
 * clears s->child. Idempotent. */
static void close_child(gxd_session *s) {
  if (!s->child || s->child_closing || !s->exited) return;
  s->child_closing = 1;
  gxd_child_close(s->child);
}

/* The run's process exists and can take input or signals. */
static int child_running(const gxd_session *s) {
  return s->child && !s->exited;
}

/* Ends the call: @p last (if any) then the status, in one batch. */
static void finish_with(gxd_session *s, const ProtobufCMessage *last,
                        int status, const char *msg) {
  if (s->state == S_FINISHED) return;
  s->state = S_FINISHED;
  s->ctx->count--; /* the slot is free once the final status is on its way */
  uv_timer_stop(&s->start_timer);
  if (status != GX_STATUS_OK && msg != s->err_msg)
    snprintf(s->err_msg, sizeof s->err_msg, "%s", msg);
  log_run(s, status);
  close_child(s); /* every path reaches finish with no child or an exited one */
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

/* Drops all buffered output: for a call that can no longer carry it. */
static void discard_output(gxd_session *s) {
  int stream;
  const uint8_t *data;
  if (!s->child || s->child_closing) return;
  while (gxd_child_peek(s->child, &stream, &data) > 0)
    gxd_child_consume(s->child, stream);
}

/* Ends the run with an error status: kill the process first, and send the
 * status once it is reaped, so nothing outlives the call. */
static void fail(gxd_session *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(gxd_session *s, int status, const char *fmt, ...) {
  if (s->err_status || s->state == S_FINISHED) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->err_msg, sizeof s->err_msg, fmt, ap);
  va_end(ap);
  s->err_status = status;
  if (!child_running(s)) {
    finish(s, status, s->err_msg);
    return;
  }
  discard_output(s);
  gxd_child_stop(s->child, 0);
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
  s->exit_sent = 1;
  finish_with(s, &r.base, GX_STATUS_OK, "");
}

/* Takes the oldest output chunk, applies max_output_bytes, sends it.
 * Returns 1 if a send was started. */
static int send_output(gxd_session *s) {
  int stream;
  const uint8_t *data;
  size_t len;
  while ((len = gxd_child_peek(s->child, &stream, &data)) > 0) {
    if (s->max_output && s->bytes_out + len > s->max_output) {
      s->truncated = 1;
      len = (size_t)(s->max_output - s->bytes_out);
    }
    if (len == 0 || s->err_status || s->cancelled || s->broken) {
      gxd_child_consume(s->child, stream); /* dropped */
      continue;
    }
    Gexec__V1__RunResponse r = GEXEC__V1__RUN_RESPONSE__INIT;
    r.event_case = stream == 1 ? GEXEC__V1__RUN_RESPONSE__EVENT_STDOUT
                               : GEXEC__V1__RUN_RESPONSE__EVENT_STDERR;
    ProtobufCBinaryData bd = {len, (uint8_t *)data};
    if (stream == 1) r.stdout = bd; else r.stderr = bd;
    int rc = gx_rpc_call_send(s->call, &r.base); /* packs a copy */
    gxd_child_consume(s->child, stream);
    if (rc != GX_OK) return 0;
    s->bytes_out += len;
    s->send_busy = 1;
    return 1;
  }
  return 0;
}

static void try_send(gxd_session *s) {
  if (s->send_busy || s->state != S_RUNNING || !s->child || s->child_closing)
    return;
  if (send_output(s)) return;
  if (s->exited && !s->exit_sent && !s->err_status && !s->cancelled)
    send_exited(s);
}

static void on_sent(void *ud, int ok) {
  gxd_session *s = ud;
  s->send_busy = 0;
  if (!ok) { /* the call is broken; on_closed(cancelled) follows */
    s->broken = 1;
    if (child_running(s)) gxd_child_stop(s->child, 0);
  }
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

static void on_child_exit(void *ud, const gxd_child_exit *ex) {
  gxd_session *s = ud;
  s->exited = 1;
  s->ex = *ex;
  if (ex->launch_error[0] && !s->err_status) {
    s->err_status = GX_STATUS_INTERNAL;
    snprintf(s->err_msg, sizeof s->err_msg,
             "the run's sandbox could not be built: %s", ex->launch_error);
  }
  if (s->err_status) {
    finish(s, s->err_status, s->err_msg);
  } else if (s->cancelled || s->broken) {
    finish(s, GX_STATUS_CANCELLED, "the client cancelled the run");
  } else {
    try_send(s);
  }
}

static void on_child_closed(void *ud) {
  gxd_session *s = ud;
  s->child = NULL;
  maybe_free(s);
}

/* ---------------------------------------------------------------- start */

/* Maps a spawn-time errno to a status and a message. */
static int spawn_status(int err, const char *prog, char *why, size_t len) {
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
    case EAGAIN: case ENOMEM: case EMFILE: case ENFILE:
      snprintf(why, len, "cannot start '%.200s': %s", prog, strerror(err));
      return GX_STATUS_RESOURCE_EXHAUSTED;
    default:
      snprintf(why, len, "cannot start '%.200s': %s", prog, strerror(err));
      return GX_STATUS_INTERNAL;
  }
}

static int check_cwd(const char *cwd, char *why, size_t len) {
  struct stat st;
  if (stat(cwd, &st) != 0) {
    snprintf(why, len, "cwd '%.300s' %s", cwd,
             errno == EACCES ? "is not accessible" : "does not exist");
    return errno == EACCES ? GX_STATUS_PERMISSION_DENIED
                           : GX_STATUS_FAILED_PRECONDITION;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(why, len, "cwd '%.300s' is not a directory", cwd);
    return GX_STATUS_FAILED_PRECONDITION;
  }
  return GX_STATUS_OK;
}

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
  s->profile = name ? gxd_tiers_index(name) : ctx->default_profile;
  if (s->profile < 0)
    return snprintf(why, len,
                    "unknown profile '%.64s' (host, baseline, restricted)",
                    name), GX_STATUS_INVALID_ARGUMENT;
  if (!ctx->tiers) return GX_STATUS_OK;
  const gxd_tier *t = &ctx->tiers->t[s->profile];
  if (!t->usable)
    return snprintf(why, len, "profile %s cannot run on this host", name),
           GX_STATUS_FAILED_PRECONDITION;
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

/* argv for gexec-launch: profile, --without per the tier, limits, the
 * resolved program, then the client's argv (argv[0] kept). Strings live
 * in @p num (at least 4 x 32 bytes). */
static char **launcher_argv(const gxd_session *s, const Gexec__V1__Start *st,
                            const char *path, char num[4][32]) {
  const gxd_tier *t = &s->ctx->tiers->t[s->profile];
  size_t cap = st->n_argv + 2 * GXD_MAX_WITHOUT + 24, k = 0;
  char **a = calloc(cap, sizeof *a);
  if (!a) return NULL;
  static const char *const names[3] = {"host", "baseline", "restricted"};
  const uint64_t vals[4] = {s->lim.memory_bytes, s->lim.pids,
                            s->lim.cpu_time_ms, s->lim.open_files};
  static const char *const flags[4] = {"--memory", "--pids", "--cpu-time",
                                       "--open-files"};
  a[k++] = (char *)s->ctx->launcher;
  a[k++] = "--profile";
  a[k++] = (char *)names[s->profile];
  for (int i = 0; i < t->nwithout; i++) {
    a[k++] = "--without";
    a[k++] = (char *)t->without[i];
  }
  for (int i = 0; i < 4; i++) {
    if (!vals[i]) continue;
    snprintf(num[i], 32, i == 2 ? "%llums" : "%llu",
             (unsigned long long)vals[i]);
    a[k++] = (char *)flags[i];
    a[k++] = num[i];
  }
  a[k++] = "--report-fd";
  a[k++] = "3";
  a[k++] = "--exec";
  a[k++] = (char *)path;
  a[k++] = "--";
  memcpy(a + k, st->argv, st->n_argv * sizeof *a);
  return a;
}

static int launch(gxd_session *s, const Gexec__V1__Start *st, char *why,
                  size_t len) {
  char path[PATH_MAX];
  const char *cwd = st->cwd && st->cwd[0] ? st->cwd : "/";
  int status = check_cwd(cwd, why, len), rc;
  if (status != GX_STATUS_OK) return status;
  char **envp = build_env(s, st);
  if (!envp) return snprintf(why, len, "out of memory"), GX_STATUS_RESOURCE_EXHAUSTED;
  rc = gxd_spawn_resolve(st->argv[0], gxd_env_get(envp, "PATH"), cwd, path,
                         sizeof path);
  /* protobuf-c arrays are not NULL-terminated; execve needs that */
  char num[4][32];
  int via = s->ctx->launcher && s->ctx->tiers;
  char **argv = NULL;
  if (rc == 0 && via) argv = launcher_argv(s, st, path, num);
  else if (rc == 0 && (argv = calloc(st->n_argv + 1, sizeof *argv)))
    memcpy(argv, st->argv, st->n_argv * sizeof *argv);
  if (rc == 0 && !argv) rc = -ENOMEM;
  if (rc == 0) {
    gxd_spawn_spec spec = {.path = via ? s->ctx->launcher : path,
                           .argv = argv, .envp = envp, .cwd = cwd};
    gxd_child_stdio io = {
        .stdin_pipe = st->stdin_mode == GEXEC__V1__STDIN_MODE__STDIN_PIPE,
        .stdout_pipe = st->stdout_mode == GEXEC__V1__OUTPUT_MODE__OUTPUT_PIPE,
        .stderr_mode = (int)st->stderr_mode == 0 ? 1
                       : st->stderr_mode == GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD ? 0 : 2,
        .want_report = via};
    gxd_child_cbs cbs = {on_child_output, on_child_stdin_drained,
                         on_child_exit, on_child_closed};
    rc = gxd_child_spawn(s->ctx->loop, &spec, &io, &cbs, s, &s->child);
  }
  free(argv);
  free(envp);
  if (rc != 0) return spawn_status(-rc, st->argv[0], why, len);
  return GX_STATUS_OK;
}

static void send_started(gxd_session *s) {
  Gexec__V1__Started started = GEXEC__V1__STARTED__INIT;
  Gexec__V1__Isolation iso = GEXEC__V1__ISOLATION__INIT;
  Gexec__V1__RunResponse r = GEXEC__V1__RUN_RESPONSE__INIT;
  static const char *const names[3] = {"host", "baseline", "restricted"};
  char *ns[6];
  started.pid = (uint32_t)s->pid;
  if (s->ctx->tiers) {
    const gxd_tier *t = &s->ctx->tiers->t[s->profile];
    const gxi_profile *p = &t->eff;
    size_t n = 0;
    if (p->pid_ns) ns[n++] = "pid";
    if (p->ipc_ns) ns[n++] = "ipc";
    if (p->uts_ns) ns[n++] = "uts";
    if (p->mount_ns) ns[n++] = "mount";
    if (p->user_ns) ns[n++] = "user";
    if (p->net_ns) ns[n++] = "net";
    iso.profile = (char *)names[s->profile];
    iso.n_namespaces = n;
    iso.namespaces = ns;
    iso.cgroup = (s->lim.memory_bytes || s->lim.pids)
                     ? (t->cgroup_version == 2 ? "v2" : "v1") : "";
    iso.seccomp = p->seccomp;
    iso.uid = p->drop_caps ? GXI_INNER_UID : 0;
    iso.read_only_root = p->ro_root;
    iso.no_new_privs = p->no_new_privs;
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
  if (status == GX_STATUS_OK) status = launch(s, st, why, sizeof why);
  if (status != GX_STATUS_OK) return fail(s, status, "%s", why);
  uv_timer_stop(&s->start_timer);
  s->pid = gxd_child_pid(s->child);
  s->max_output = st->max_output_bytes;
  s->state = S_RUNNING;
  gxd_child_set_timeout(
      s->child, st->timeout_ms ? st->timeout_ms : s->ctx->limits.max_timeout_ms,
      st->kill_grace_ms ? st->kill_grace_ms : s->ctx->default_grace_ms);
  send_started(s);
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
  if (gxd_child_write_stdin(s->child, d->data, d->len) >= GXD_STDIN_HIGH)
    s->recv_paused = 1;
}

static void handle_signal(gxd_session *s, const Gexec__V1__Signal *sig) {
  char why[128];
  int n = sig ? sig->number : 0;
  if (gxd_validate_signal(n, why, sizeof why) != GX_STATUS_OK)
    return fail(s, GX_STATUS_INVALID_ARGUMENT, "%s", why);
  if (child_running(s)) gxd_child_signal(s->child, n);
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
  s->cancelled = 1;
  if (child_running(s)) {
    if (!s->send_busy) try_send(s); /* drops buffered output */
    gxd_child_stop(s->child, s->req->start->kill_grace_ms
                                 ? s->req->start->kill_grace_ms
                                 : s->ctx->default_grace_ms);
    return;
  }
  finish(s, GX_STATUS_CANCELLED, "the client cancelled the run");
}

static void on_done(void *ud) {
  gxd_session *s = ud;
  s->call_done = 1;
  maybe_free(s);
}

/* A stream that never sends start must not hold a session slot. */
static void on_start_timeout(uv_timer_t *t) {
  gxd_session *s = t->data;
  if (s->state == S_WAIT_START && !s->child)
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
    if (s->state == S_WAIT_START) {
      fail(s, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
    } else if (s->child && !s->exited) {
      uint32_t g = s->req->start->kill_grace_ms;
      gxd_child_stop(s->child, g ? g : ctx->default_grace_ms);
    }
  }
}
