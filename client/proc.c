/* A run: its call, the rpc callbacks (engine thread) and its start. See
 * gexec.h for the contract and internal.h for the state; every field is
 * guarded by p->mu. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "lib/gx_err.h"

/* ------------------------------------------------------------ sending */

static int send_request(gexec_proc *p, Gexec__V1__RunRequest *r) {
  if (gx_rpc_call_send(p->call, &r->base) != GX_OK) return -1;
  p->send_busy = 1;
  return 0;
}

void gexec__pump_sends(gexec_proc *p) {
  if (p->send_busy || p->status_received || !p->call) return;
  Gexec__V1__RunRequest r = GEXEC__V1__RUN_REQUEST__INIT;
  if (p->nsig > 0) {
    Gexec__V1__Signal sig = GEXEC__V1__SIGNAL__INIT;
    sig.number = p->sigq[0];
    memmove(p->sigq, p->sigq + 1, (size_t)--p->nsig * sizeof *p->sigq);
    r.event_case = GEXEC__V1__RUN_REQUEST__EVENT_SIGNAL;
    r.signal = &sig;
    send_request(p, &r);
  } else if (p->eof_pending) {
    Gexec__V1__StdinEof eof = GEXEC__V1__STDIN_EOF__INIT;
    p->eof_pending = 0;
    r.event_case = GEXEC__V1__RUN_REQUEST__EVENT_STDIN_EOF;
    r.stdin_eof = &eof;
    send_request(p, &r);
  }
}

int gexec__send_stdin(gexec_proc *p, const void *data, size_t len) {
  Gexec__V1__RunRequest r = GEXEC__V1__RUN_REQUEST__INIT;
  r.event_case = GEXEC__V1__RUN_REQUEST__EVENT_STDIN;
  r.stdin.data = (uint8_t *)data;
  r.stdin.len = len;
  return send_request(p, &r);
}

void gexec__proc_wake(gexec_proc *p) {
  pthread_cond_broadcast(&p->cv);
  if (p->q) gexec__evq_notify(p);
}

/* ---------------------------------------------------------- callbacks */

static void post_recv(gexec_proc *p) {
  if (p->recv_posted || p->stream_ended || p->status_received) return;
  if (gx_rpc_call_recv(p->call) == GX_OK) p->recv_posted = 1;
}

static void copy_isolation(gexec_isolation *o,
                           const Gexec__V1__Isolation *i) {
  memset(o, 0, sizeof *o);
  if (!i) return;
  snprintf(o->profile, sizeof o->profile, "%s", i->profile ? i->profile : "");
  for (size_t k = 0; k < i->n_namespaces; k++)
    snprintf(o->namespaces + strlen(o->namespaces),
             sizeof o->namespaces - strlen(o->namespaces), "%s%s",
             k ? "," : "", i->namespaces[k]);
  snprintf(o->cgroup, sizeof o->cgroup, "%s", i->cgroup ? i->cgroup : "");
  o->seccomp = i->seccomp;
  o->uid = i->uid;
  o->read_only_root = i->read_only_root;
  o->no_new_privs = i->no_new_privs;
  snprintf(o->description, sizeof o->description, "%s",
           i->description ? i->description : "");
}

static void copy_exit(gexec_proc *p, const Gexec__V1__Exited *e) {
  gexec_exit *x = &p->exit;
  x->pid = p->pid;
  x->exit_code = e->exit_code;
  x->signal = e->signal;
  x->core_dumped = e->core_dumped;
  x->timed_out = e->timed_out;
  x->output_truncated = e->output_truncated;
  x->oom_killed = e->oom_killed;
  x->user_time_us = e->user_time_us;
  x->system_time_us = e->system_time_us;
  x->max_rss_kb = e->max_rss_kb;
  x->wall_time_us = e->wall_time_us;
}

static void protocol_error(gexec_proc *p, const char *msg) {
  if (!p->protocol_error)
    snprintf(p->protocol_msg, sizeof p->protocol_msg, "%s", msg);
  p->protocol_error = 1;
  gx_rpc_call_cancel(p->call);
}

/* Takes one message; returns 1 if it waits for the reader. */
static int accept_message(gexec_proc *p, Gexec__V1__RunResponse *m) {
  switch (m->event_case) {
    case GEXEC__V1__RUN_RESPONSE__EVENT_STARTED:
      if (p->started) { /* callers read pid & co. without the lock */
        protocol_error(p, "the daemon sent started twice");
        break;
      }
      p->started = 1;
      p->state = GEXEC__PROC_RUNNING;
      p->pid = m->started->pid;
      p->exit.run_id = m->started->run_id;
      copy_isolation(&p->exit.isolation, m->started->isolation);
      break;
    case GEXEC__V1__RUN_RESPONSE__EVENT_EXITED:
      if (!p->started || p->exited_seen)
        protocol_error(p, "the daemon sent exited out of order");
      p->exited_seen = 1;
      copy_exit(p, m->exited);
      break;
    case GEXEC__V1__RUN_RESPONSE__EVENT_STDOUT:
    case GEXEC__V1__RUN_RESPONSE__EVENT_STDERR:
      if (!p->started || p->exited_seen) {
        protocol_error(p, "the daemon sent output out of order");
        break;
      }
      p->pending = m;
      return 1;
    default:
      protocol_error(p, "the daemon sent an empty RunResponse");
  }
  gexec__v1__run_response__free_unpacked(m, NULL);
  return 0;
}

static void on_recv(void *ud, const uint8_t *data, size_t len) {
  gexec_proc *p = ud;
  pthread_mutex_lock(&p->mu);
  p->recv_posted = 0;
  if (data && !p->server_identity_read) { /* once, before any event */
    p->server_identity_read = 1;
    if (gx_rpc_call_peer_identity(p->call, p->server_identity,
                                  sizeof p->server_identity) != GX_OK)
      p->server_identity[0] = '\0';
  }
  if (!data) {
    p->stream_ended = 1;
  } else if (p->kind == GEXEC__PROC_FACTS) {
    if (gexec__facts_accept(p, data, len) != 0)
      protocol_error(p, p->facts_json ? "the daemon sent two FactsResponses"
                                      : "the daemon sent an unparseable "
                                        "FactsResponse");
    else
      post_recv(p);
  } else {
    Gexec__V1__RunResponse *m =
        gexec__v1__run_response__unpack(NULL, len, data);
    if (!m)
      protocol_error(p, "the daemon sent an unparseable RunResponse");
    else if (!accept_message(p, m))
      post_recv(p);
  }
  gexec__proc_wake(p);
  pthread_mutex_unlock(&p->mu);
}

static void on_sent(void *ud, int ok) {
  gexec_proc *p = ud;
  (void)ok; /* a failed send shows up as the call's status */
  pthread_mutex_lock(&p->mu);
  p->send_busy = 0;
  gexec__pump_sends(p);
  gexec__proc_wake(p);
  pthread_mutex_unlock(&p->mu);
}

static void on_status(void *ud, int code, const char *msg) {
  gexec_proc *p = ud;
  pthread_mutex_lock(&p->mu);
  p->status_received = 1;
  p->status = code;
  snprintf(p->status_msg, sizeof p->status_msg, "%s", msg ? msg : "");
  gx_rpc_call_trailer(p->call, "gexec-refused-by", p->refused_by,
                      sizeof p->refused_by);
  gexec__proc_wake(p);
  pthread_mutex_unlock(&p->mu);
}

/* The call is gone: the run has ended for good. */
static void on_done(void *ud) {
  gexec_proc *p = ud;
  pthread_mutex_lock(&p->mu);
  p->done = 1;
  p->call = NULL;
  p->state = GEXEC__PROC_ENDED;
  gexec__proc_wake(p);
  pthread_mutex_unlock(&p->mu);
}

/* ---------------------------------------------------------- the call */

void gexec__proc_fail(gexec_proc *p, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  p->local_err.code = code;
  p->local_err.status = 0;
  vsnprintf(p->local_err.message, sizeof p->local_err.message, fmt, ap);
  va_end(ap);
  p->local_fail = 1;
  p->status_received = 1;
  p->done = 1;
  p->state = GEXEC__PROC_ENDED;
  gexec__proc_wake(p);
}

void gexec__proc_call(gexec_proc *p) {
  static const gx_rpc_handlers h = {on_recv, on_sent, NULL, on_status,
                                    on_done};
  if (p->state != GEXEC__PROC_WAITING) return;
  if (p->cancelled) {
    gexec__proc_fail(p, GEXEC_ESTATUS, "cancelled by the client");
    p->local_err.status = GX_STATUS_CANCELLED;
    return;
  }
  const char *method = p->kind == GEXEC__PROC_FACTS ? "/gexec.v1.Facts/Get"
                                                   : "/gexec.v1.Exec/Run";
  /* Fail-fast: the connection's attempt did the waiting (conn.c). */
  if (gx_rpc_call_start(p->conn->ch, method, p->deadline_ms, 0, &h, p,
                        &p->call) != GX_OK) {
    gexec__proc_fail(p, GEXEC_ECONNECT, "cannot start a call to %s",
                     p->conn->target);
    return;
  }
  p->state = GEXEC__PROC_CALLING;
  if (gx_rpc_call_send_bytes(p->call, p->start_msg, p->start_len) == GX_OK)
    p->send_busy = 1;
  else
    gx_rpc_call_cancel(p->call);
  free(p->start_msg);
  p->start_msg = NULL;
  if (p->kind == GEXEC__PROC_FACTS && gx_rpc_call_close_send(p->call) != 0)
    gx_rpc_call_cancel(p->call);
  post_recv(p);
  gexec__pump_sends(p);
}

/* -------------------------------------------------------------- start */

static int check_spec(const gexec_spec *s, gexec_error *err) {
  if (!s || !s->argv || !s->argv[0] || !s->argv[0][0])
    return gexec__fail(err, GEXEC_EINVAL, 0, "argv is empty");
  if (s->stdout_mode == GEXEC_OUT_MERGE)
    return gexec__fail(err, GEXEC_EINVAL, 0,
                       "GEXEC_OUT_MERGE applies to stderr only");
  if (s->env)
    for (const char *const *e = s->env; *e; e++) {
      const char *eq = strchr(*e, '=');
      if (!eq || eq == *e)
        return gexec__fail(err, GEXEC_EINVAL, 0,
                           "env entry '%.100s' is not NAME=VALUE", *e);
    }
  return GEXEC_OK;
}

/* Packs the Start message into p->start_msg (strings borrowed from the
 * spec only during this call). Returns 0, or -1 out of memory. */
static int pack_start(gexec_proc *p, const gexec_spec *s) {
  size_t argc = 0, envc = 0;
  while (s->argv[argc]) argc++;
  while (s->env && s->env[envc]) envc++;
  Gexec__V1__Start__EnvEntry *entries = calloc(envc + 1, sizeof *entries);
  Gexec__V1__Start__EnvEntry **eptrs = calloc(envc + 1, sizeof *eptrs);
  char **names = calloc(envc + 1, sizeof *names);
  int rc = -1;
  if (!entries || !eptrs || !names) goto out;
  for (size_t i = 0; i < envc; i++) {
    gexec__v1__start__env_entry__init(&entries[i]);
    const char *eq = strchr(s->env[i], '=');
    names[i] = strndup(s->env[i], (size_t)(eq - s->env[i]));
    if (!names[i]) goto out;
    entries[i].key = names[i];
    entries[i].value = (char *)eq + 1;
    eptrs[i] = &entries[i];
  }
  Gexec__V1__Start st = GEXEC__V1__START__INIT;
  st.n_argv = argc;
  st.argv = (char **)s->argv;
  st.n_env = envc;
  st.env = eptrs;
  st.cwd = (char *)(s->cwd ? s->cwd : "");
  st.timeout_ms = s->timeout_ms;
  st.kill_grace_ms = s->kill_grace_ms;
  st.stdin_mode = s->stdin_null ? GEXEC__V1__STDIN_MODE__STDIN_NULL
                                : GEXEC__V1__STDIN_MODE__STDIN_PIPE;
  st.stdout_mode = (Gexec__V1__OutputMode)s->stdout_mode;
  st.stderr_mode = s->stderr_mode == GEXEC_OUT_MERGE
                       ? GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT
                       : (Gexec__V1__OutputMode)s->stderr_mode;
  st.max_output_bytes = s->max_output_bytes;
  st.profile = (char *)(s->profile ? s->profile : "");
  st.user = (char *)(s->user ? s->user : "");
  Gexec__V1__Limits lim = GEXEC__V1__LIMITS__INIT;
  lim.memory_bytes = s->memory_bytes;
  lim.pids = s->pids;
  lim.cpu_time_ms = s->cpu_time_ms;
  lim.open_files = s->open_files;
  if (s->memory_bytes || s->pids || s->cpu_time_ms || s->open_files)
    st.limits = &lim;
  Gexec__V1__RunRequest r = GEXEC__V1__RUN_REQUEST__INIT;
  r.event_case = GEXEC__V1__RUN_REQUEST__EVENT_START;
  r.start = &st;
  p->start_len = gexec__v1__run_request__get_packed_size(&r);
  p->start_msg = malloc(p->start_len ? p->start_len : 1);
  if (!p->start_msg) goto out;
  gexec__v1__run_request__pack(&r, p->start_msg);
  rc = 0;
out:
  for (size_t i = 0; names && i < envc; i++) free(names[i]);
  free(names);
  free(eptrs);
  free(entries);
  return rc;
}

/* Each layout is frozen: 0.3 ends at user, nothing after it. */
_Static_assert(sizeof(gexec_spec) == GEXEC__SPEC_V03,
               "gexec_spec: a new field is a new layout (see gexec.h)");

static int proc_new(gexec_conn *conn, const gexec_spec *user,
                    gexec_proc **out, gexec_error *err) {
  gexec_spec spec;
  if (!user || gexec__load(&spec, sizeof spec, user, user->size,
                           GEXEC__SPEC_BASE) != GEXEC_OK)
    return gexec__fail(err, GEXEC_EINVAL, 0,
                       user ? "the gexec_spec sets a field this libgexec "
                              "(" GEXEC_VERSION ") does not know"
                            : "no gexec_spec");
  int rc = check_spec(&spec, err);
  if (rc != GEXEC_OK) return rc;
  gexec_proc *p = calloc(1, sizeof *p);
  if (!p) return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  p->conn = conn;
  p->stdin_null = spec.stdin_null;
  p->stdin_closed = spec.stdin_null;
  p->deadline_ms = spec.deadline_ms;
  pthread_mutex_init(&p->mu, NULL);
  gexec__cond_init(&p->cv); /* timed waits: gexec_proc_read */
  if (pack_start(p, &spec) != 0) {
    gexec_proc_free(p);
    return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  }
  *out = p;
  return GEXEC_OK;
}

int gexec_proc_start(gexec_conn *conn, const gexec_spec *spec,
                     gexec_proc **out, gexec_error *err) {
  gexec_proc *p;
  int rc = proc_new(conn, spec, &p, err);
  if (rc != GEXEC_OK) return rc;
  gexec__conn_submit(conn, p);
  pthread_mutex_lock(&p->mu);
  while (!p->started && !p->status_received)
    pthread_cond_wait(&p->cv, &p->mu);
  rc = p->started ? GEXEC_OK : gexec__end_result(p, err);
  pthread_mutex_unlock(&p->mu);
  if (rc != GEXEC_OK) {
    gexec_proc_free(p);
    return rc;
  }
  *out = p;
  return GEXEC_OK;
}

int gexec_proc_start_async(gexec_conn *conn, const gexec_spec *spec,
                           gexec_evq *q, void *user_data, gexec_proc **out,
                           gexec_error *err) {
  if (!q) return gexec__fail(err, GEXEC_EINVAL, 0, "no event queue");
  gexec_proc *p;
  int rc = proc_new(conn, spec, &p, err);
  if (rc != GEXEC_OK) return rc;
  p->q = q;
  p->user = user_data;
  *out = p; /* before submit: its events may be taken at once */
  gexec__conn_submit(conn, p);
  return GEXEC_OK;
}

uint32_t gexec_proc_pid(const gexec_proc *p) { return p->pid; }

uint64_t gexec_proc_run_id(const gexec_proc *p) {
  return p->exit.run_id; /* written once, when `started` came */
}

const gexec_isolation *gexec_proc_isolation(const gexec_proc *p) {
  return &p->exit.isolation; /* written once, when `started` came */
}

/* ----------------------------------------------------------- the end */

int gexec__end_result(gexec_proc *p, gexec_error *err) {
  if (p->local_fail) {
    if (err) *err = p->local_err;
    return p->local_err.code;
  }
  if (p->protocol_error)
    return gexec__fail(err, GEXEC_ESTATUS, GX_STATUS_INTERNAL,
                       "protocol error: %s", p->protocol_msg);
  if (p->status != GX_STATUS_OK) {
    const char *m = p->status_msg[0] ? p->status_msg
                                     : gx_status_name(p->status);
    if (p->cancelled && p->status == GX_STATUS_CANCELLED)
      m = "cancelled by the client";
    char buf[sizeof p->status_msg];
    /* No probe here: this may run on a caller's event loop. */
    const char *why = gexec__connect_reason(p->conn, p->status_msg, 0, buf,
                                            sizeof buf);
    if (!p->started && !p->cancelled && why &&
        p->status == GX_STATUS_UNAVAILABLE)
      return gexec__fail(err, GEXEC_ECONNECT, p->status,
                         "cannot connect to %s: %s", p->conn->target, why);
    if (p->refused_by[0])
      return gexec__fail(err, GEXEC_EREFUSED, p->status, "refused by %.31s: %s",
                         p->refused_by, m);
    return gexec__fail(err, GEXEC_ESTATUS, p->status, "%s", m);
  }
  if (p->kind == GEXEC__PROC_FACTS && !p->facts_json)
    return gexec__fail(err, GEXEC_ESTATUS, GX_STATUS_INTERNAL,
                       "protocol error: the call ended without a "
                       "FactsResponse");
  if (p->kind == GEXEC__PROC_RUN && !p->exited_seen)
    return gexec__fail(err, GEXEC_ESTATUS, GX_STATUS_INTERNAL,
                       "protocol error: the call ended without exited");
  return GEXEC_OK;
}

Gexec__V1__RunResponse *gexec__take_pending(gexec_proc *p) {
  Gexec__V1__RunResponse *m = p->pending;
  if (!m) return NULL;
  p->pending = NULL;
  p->current = m;
  post_recv(p);
  return m;
}

void gexec__release_current(gexec_proc *p) {
  if (p->current) gexec__v1__run_response__free_unpacked(p->current, NULL);
  p->current = NULL;
}

const char *gexec_proc_server_identity(const gexec_proc *cp) {
  gexec_proc *p = (gexec_proc *)cp; /* the lock only; nothing changes */
  pthread_mutex_lock(&p->mu);
  const char *id = p->server_identity;
  pthread_mutex_unlock(&p->mu);
  return id;
}
