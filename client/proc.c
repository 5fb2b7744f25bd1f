/* The streaming handle (Popen-like). See gexec.h for the contract and
 * internal.h for the state; every field is guarded by p->mu. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
      if (p->started) protocol_error(p, "the daemon sent started twice");
      p->started = 1;
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
  if (!data) {
    p->stream_ended = 1;
  } else {
    Gexec__V1__RunResponse *m =
        gexec__v1__run_response__unpack(NULL, len, data);
    if (!m)
      protocol_error(p, "the daemon sent an unparseable RunResponse");
    else if (!accept_message(p, m))
      post_recv(p);
  }
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static void on_sent(void *ud, int ok) {
  gexec_proc *p = ud;
  (void)ok; /* a failed send shows up as the call's status */
  pthread_mutex_lock(&p->mu);
  p->send_busy = 0;
  gexec__pump_sends(p);
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static void on_status(void *ud, int code, const char *msg) {
  gexec_proc *p = ud;
  pthread_mutex_lock(&p->mu);
  p->status_received = 1;
  p->status = code;
  snprintf(p->status_msg, sizeof p->status_msg, "%s", msg ? msg : "");
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static void on_done(void *ud) {
  gexec_proc *p = ud;
  pthread_mutex_lock(&p->mu);
  p->done = 1;
  p->call = NULL;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
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

/* Builds and sends the Start message (strings borrowed from the spec). */
static int send_start(gexec_proc *p, const gexec_spec *s) {
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
  rc = send_request(p, &r);
out:
  for (size_t i = 0; names && i < envc; i++) free(names[i]);
  free(names);
  free(eptrs);
  free(entries);
  return rc;
}

static gexec_proc *proc_new(gexec_conn *conn, const gexec_spec *spec) {
  gexec_proc *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->conn = conn;
  p->stdin_null = spec->stdin_null;
  p->stdin_closed = spec->stdin_null;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  return p;
}

int gexec_proc_start(gexec_conn *conn, const gexec_spec *spec,
                     gexec_proc **out, gexec_error *err) {
  static const gx_rpc_handlers h = {on_recv, on_sent, NULL, on_status,
                                    on_done};
  int rc = check_spec(spec, err);
  if (rc != GEXEC_OK) return rc;
  gexec_proc *p = proc_new(conn, spec);
  if (!p) return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  pthread_mutex_lock(&p->mu);
  if (gx_rpc_call_start(conn->ch, "/gexec.v1.Exec/Run", spec->deadline_ms,
                        conn->wait_for_ready, &h, p, &p->call) != GX_OK) {
    pthread_mutex_unlock(&p->mu);
    gexec_proc_free(p);
    return gexec__fail(err, GEXEC_ECONNECT, 0, "cannot start a call");
  }
  if (send_start(p, spec) != 0) gx_rpc_call_cancel(p->call);
  post_recv(p);
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

uint32_t gexec_proc_pid(const gexec_proc *p) { return p->pid; }

uint64_t gexec_proc_run_id(const gexec_proc *p) {
  return p->exit.run_id; /* written once, before start returned */
}

const gexec_isolation *gexec_proc_isolation(const gexec_proc *p) {
  return &p->exit.isolation; /* written once, before start returned */
}

/* ----------------------------------------------------------- the end */

int gexec__end_result(gexec_proc *p, gexec_error *err) {
  if (p->protocol_error)
    return gexec__fail(err, GEXEC_ESTATUS, GX_STATUS_INTERNAL,
                       "protocol error: %s", p->protocol_msg);
  if (p->status != GX_STATUS_OK) {
    const char *m = p->status_msg[0] ? p->status_msg
                                     : gx_status_name(p->status);
    if (p->cancelled && p->status == GX_STATUS_CANCELLED)
      m = "cancelled by the client";
    return gexec__fail(err, GEXEC_ESTATUS, p->status, "%s", m);
  }
  if (!p->exited_seen)
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

static void release_current(gexec_proc *p) {
  if (p->current) gexec__v1__run_response__free_unpacked(p->current, NULL);
  p->current = NULL;
}

/* Waits on the condition until @p deadline (NULL = forever). */
static int wait_until(gexec_proc *p, const struct timespec *deadline) {
  if (!deadline) return pthread_cond_wait(&p->cv, &p->mu);
  return pthread_cond_timedwait(&p->cv, &p->mu, deadline);
}

static struct timespec deadline_in(int64_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  return ts;
}

static int read_locked(gexec_proc *p, gexec_event *ev,
                       const struct timespec *deadline, gexec_error *err) {
  release_current(p);
  for (;;) {
    Gexec__V1__RunResponse *m = gexec__take_pending(p);
    if (m) {
      int out = m->event_case == GEXEC__V1__RUN_RESPONSE__EVENT_STDOUT;
      ev->type = out ? GEXEC_EV_STDOUT : GEXEC_EV_STDERR;
      ev->data = out ? m->stdout.data : m->stderr.data;
      ev->len = out ? m->stdout.len : m->stderr.len;
      return GEXEC_OK;
    }
    if (p->exit_delivered)
      return gexec__fail(err, GEXEC_ECLOSED, 0, "the run already ended");
    if (p->status_received) {
      int rc = gexec__end_result(p, err);
      if (rc != GEXEC_OK) return rc;
      p->exit_delivered = 1;
      ev->type = GEXEC_EV_EXIT;
      ev->data = NULL;
      ev->len = 0;
      ev->exit = p->exit;
      return GEXEC_OK;
    }
    if (wait_until(p, deadline) == ETIMEDOUT)
      return gexec__fail(err, GEXEC_ETIMEDOUT, 0, "no event within timeout");
  }
}

int gexec_proc_read(gexec_proc *p, gexec_event *ev, int64_t timeout_ms,
                    gexec_error *err) {
  struct timespec dl = deadline_in(timeout_ms > 0 ? timeout_ms : 0);
  pthread_mutex_lock(&p->mu);
  int rc = read_locked(p, ev, timeout_ms < 0 ? NULL : &dl, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int gexec_proc_wait(gexec_proc *p, gexec_exit *exit, gexec_error *err) {
  gexec_event ev;
  int rc;
  pthread_mutex_lock(&p->mu);
  if (p->exit_delivered) {
    if (exit) *exit = p->exit;
    pthread_mutex_unlock(&p->mu);
    return GEXEC_OK;
  }
  while ((rc = read_locked(p, &ev, NULL, err)) == GEXEC_OK &&
         ev.type != GEXEC_EV_EXIT) {
  }
  if (rc == GEXEC_OK && exit) *exit = ev.exit;
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* ------------------------------------------------------------- input */

static int closed_error(gexec_proc *p, gexec_error *err) {
  if (p->status_received || p->done)
    return gexec__fail(err, GEXEC_ECLOSED, 0, "the run already ended");
  return gexec__fail(err, GEXEC_ECLOSED, 0,
                     p->stdin_null ? "the run's stdin is /dev/null"
                                   : "stdin was already closed");
}

int gexec_proc_write(gexec_proc *p, const void *data, size_t len,
                     gexec_error *err) {
  const uint8_t *b = data;
  int rc = GEXEC_OK;
  pthread_mutex_lock(&p->mu);
  while (len > 0) {
    while ((p->send_busy || p->nsig > 0) && !p->status_received &&
           !p->stdin_closed)
      pthread_cond_wait(&p->cv, &p->mu);
    if (p->status_received || p->stdin_closed || !p->call) {
      rc = closed_error(p, err);
      break;
    }
    size_t n = len < GEXEC_STDIN_CHUNK ? len : GEXEC_STDIN_CHUNK;
    if (gexec__send_stdin(p, b, n) != 0) {
      rc = gexec__fail(err, GEXEC_ECLOSED, 0, "the call is closing");
      break;
    }
    b += n;
    len -= n;
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int gexec_proc_close_stdin(gexec_proc *p, gexec_error *err) {
  int rc = GEXEC_OK;
  pthread_mutex_lock(&p->mu);
  if (p->status_received || !p->call) {
    rc = closed_error(p, err);
  } else if (!p->stdin_closed) {
    p->stdin_closed = 1;
    p->eof_pending = 1;
    gexec__pump_sends(p);
    pthread_cond_broadcast(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int gexec_proc_signal(gexec_proc *p, int signo, gexec_error *err) {
  if (signo < 1 || signo > 64)
    return gexec__fail(err, GEXEC_EINVAL, 0,
                       "signal %d is not a valid signal number (1..64)",
                       signo);
  int rc = GEXEC_OK;
  pthread_mutex_lock(&p->mu);
  if (p->status_received || !p->call)
    rc = closed_error(p, err);
  else if (p->nsig == GEXEC_MAX_PENDING_SIGNALS)
    rc = gexec__fail(err, GEXEC_EINVAL, 0, "too many signals pending");
  else
    p->sigq[p->nsig++] = signo;
  if (rc == GEXEC_OK) gexec__pump_sends(p);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* ------------------------------------------------------------ teardown */

void gexec_proc_cancel(gexec_proc *p) {
  pthread_mutex_lock(&p->mu);
  if (p->call && !p->status_received) {
    p->cancelled = 1;
    gx_rpc_call_cancel(p->call);
  }
  pthread_mutex_unlock(&p->mu);
}

void gexec_proc_free(gexec_proc *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  if (p->call && !p->status_received) {
    p->cancelled = 1;
    gx_rpc_call_cancel(p->call);
  }
  while (p->call && !p->done) pthread_cond_wait(&p->cv, &p->mu);
  release_current(p);
  if (p->pending) gexec__v1__run_response__free_unpacked(p->pending, NULL);
  pthread_mutex_unlock(&p->mu);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}
