/* The run API on top of proc.c: the blocking readers (gexec_proc_read,
 * gexec_proc_wait), stdin (blocking and not), signals, cancel and free. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/internal.h"
#include "lib/gx_err.h"

/* Waits on the condition until @p deadline (NULL = forever). */
static int wait_until(gexec_proc *p, const struct timespec *deadline) {
  if (!deadline) return pthread_cond_wait(&p->cv, &p->mu);
  return pthread_cond_timedwait(&p->cv, &p->mu, deadline);
}

/* The blocking readers do not mix with a queue, which takes the events. */
static int queued_error(gexec_error *err) {
  return gexec__fail(err, GEXEC_EINVAL, 0,
                     "the run delivers its events to a gexec_evq");
}

/* A facts call has no process to read, write or signal. */
static int not_a_run(gexec_error *err) {
  return gexec__fail(err, GEXEC_EINVAL, 0,
                     "a facts call has no process (no output, stdin or "
                     "signals)");
}

static int read_locked(gexec_proc *p, gexec_event *ev,
                       const struct timespec *deadline, gexec_error *err) {
  gexec__release_current(p);
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
  if (p->kind == GEXEC__PROC_FACTS) return not_a_run(err);
  if (p->q) return queued_error(err);
  struct timespec dl = gexec__deadline_in(timeout_ms > 0 ? timeout_ms : 0);
  pthread_mutex_lock(&p->mu);
  int rc = read_locked(p, ev, timeout_ms < 0 ? NULL : &dl, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int gexec_proc_wait(gexec_proc *p, gexec_exit *exit, gexec_error *err) {
  if (p->kind == GEXEC__PROC_FACTS) return not_a_run(err);
  gexec_event ev;
  int rc;
  if (p->q) return queued_error(err);
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
  if (p->kind == GEXEC__PROC_FACTS) return not_a_run(err);
  const uint8_t *b = data;
  int rc = GEXEC_OK;
  pthread_mutex_lock(&p->mu);
  while (len > 0) {
    while ((p->send_busy || p->nsig > 0 || !p->call) &&
           !p->status_received && !p->stdin_closed)
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
  if (p->kind == GEXEC__PROC_FACTS) return not_a_run(err);
  int rc = GEXEC_OK;
  pthread_mutex_lock(&p->mu);
  if (p->status_received) {
    rc = closed_error(p, err);
  } else if (!p->stdin_closed) {
    p->stdin_closed = 1;
    p->eof_pending = 1;
    gexec__pump_sends(p);
    gexec__proc_wake(p);
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int gexec_proc_signal(gexec_proc *p, int signo, gexec_error *err) {
  if (p->kind == GEXEC__PROC_FACTS) return not_a_run(err);
  if (signo < 1 || signo > 64)
    return gexec__fail(err, GEXEC_EINVAL, 0,
                       "signal %d is not a valid signal number (1..64)",
                       signo);
  int rc = GEXEC_OK;
  pthread_mutex_lock(&p->mu);
  if (p->status_received)
    rc = closed_error(p, err);
  else if (p->nsig == GEXEC_MAX_PENDING_SIGNALS)
    rc = gexec__fail(err, GEXEC_EINVAL, 0, "too many signals pending");
  else
    p->sigq[p->nsig++] = signo;
  if (rc == GEXEC_OK) gexec__pump_sends(p);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int gexec_proc_try_write(gexec_proc *p, const void *data, size_t len,
                         size_t *taken, gexec_error *err) {
  *taken = 0;
  if (p->kind == GEXEC__PROC_FACTS) return not_a_run(err);
  int rc = GEXEC_OK;
  *taken = 0;
  pthread_mutex_lock(&p->mu);
  if (p->status_received || p->stdin_closed || p->done) {
    rc = closed_error(p, err);
  } else if (p->send_busy || p->nsig > 0 || !p->started) {
    p->want_writable = 1; /* GEXEC_EV_WRITABLE when the send is idle */
    rc = gexec__fail(err, GEXEC_EAGAIN, 0, "the previous chunk is in flight");
  } else if (len > 0) {
    size_t n = len < GEXEC_STDIN_CHUNK ? len : GEXEC_STDIN_CHUNK;
    if (gexec__send_stdin(p, data, n) != 0)
      rc = gexec__fail(err, GEXEC_ECLOSED, 0, "the call is closing");
    else
      *taken = n;
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* ------------------------------------------------------------ teardown */

/* A run still waiting for its connection has no call to cancel: take it
 * off the connection's list and end it here. Takes conn->mu: call with
 * p->mu not held. */
static void cancel_waiting(gexec_proc *p) {
  if (!gexec__conn_unlink(p->conn, p)) return;
  pthread_mutex_lock(&p->mu);
  gexec__proc_fail(p, GEXEC_ESTATUS, "cancelled by the client");
  p->local_err.status = GX_STATUS_CANCELLED;
  pthread_mutex_unlock(&p->mu);
}

void gexec_proc_cancel(gexec_proc *p) {
  pthread_mutex_lock(&p->mu);
  p->cancelled = 1;
  int waiting = p->state == GEXEC__PROC_WAITING;
  if (p->call && !p->status_received) gx_rpc_call_cancel(p->call);
  pthread_mutex_unlock(&p->mu);
  if (waiting) cancel_waiting(p);
}

void gexec_proc_free(gexec_proc *p) {
  if (!p) return;
  if (p->conn) gexec__conn_unlink(p->conn, p); /* no call will start now */
  pthread_mutex_lock(&p->mu);
  if (p->call && !p->status_received) {
    p->cancelled = 1;
    gx_rpc_call_cancel(p->call);
  }
  while (p->call && !p->done) pthread_cond_wait(&p->cv, &p->mu);
  if (p->q) gexec__evq_forget(p);
  gexec__release_current(p);
  if (p->pending) gexec__v1__run_response__free_unpacked(p->pending, NULL);
  free(p->start_msg);
  free(p->facts_json);
  pthread_mutex_unlock(&p->mu);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}
