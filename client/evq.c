/* Event queues: the runs of a queue that have an event to deliver wait in
 * a FIFO list (linked through the runs, so queueing never allocates and a
 * run is in the list at most once). An eventfd mirrors "the list is not
 * empty" for the caller's poll loop. A run's next event is computed when
 * it is taken, from the run's own state: nothing is copied, and a run
 * holds at most one unread output message (backpressure: the next receive
 * is posted only when the message is taken). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "client/internal.h"
#include "lib/gx_err.h"

struct gexec_evq {
  pthread_mutex_t mu; /* guards the list, cur and the eventfd's level */
  pthread_cond_t cv;  /* the list became non-empty */
  gexec_proc *head, *tail;
  int efd;
  gexec_proc *cur;    /* the run whose event ev describes */
  gexec_run_event ev;
};

int gexec_evq_new(gexec_evq **out, gexec_error *err) {
  gexec_evq *q = calloc(1, sizeof *q);
  if (!q) return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (q->efd < 0) {
    int e = errno;
    free(q);
    return gexec__fail(err, e == ENOMEM ? GEXEC_ENOMEM : GEXEC_ECONNECT, 0,
                       "cannot make an eventfd (errno %d)", e);
  }
  pthread_mutex_init(&q->mu, NULL);
  gexec__cond_init(&q->cv);
  *out = q;
  return GEXEC_OK;
}

void gexec_evq_free(gexec_evq *q) {
  if (!q) return;
  close(q->efd);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  free(q);
}

int gexec_evq_fd(const gexec_evq *q) { return q->efd; }

/* Under q->mu: the eventfd is readable iff the list is not empty. */
static void level_up(gexec_evq *q) {
  uint64_t one = 1;
  while (write(q->efd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

static void level_down(gexec_evq *q) {
  uint64_t n;
  while (read(q->efd, &n, sizeof n) < 0 && errno == EINTR) {
  }
}

/* Under p->mu: which event the run would deliver now, or 0. */
static gexec_event_type next_type(const gexec_proc *p) {
  if (p->started && !p->started_delivered) return GEXEC_EV_STARTED;
  if (p->pending)
    return p->pending->event_case == GEXEC__V1__RUN_RESPONSE__EVENT_STDOUT
               ? GEXEC_EV_STDOUT
               : GEXEC_EV_STDERR;
  /* the end, once the call is gone (no later callback can change it) */
  if (p->done && !p->exit_delivered) return GEXEC_EV_EXIT;
  if (p->want_writable && p->started && !p->send_busy && p->nsig == 0 &&
      !p->status_received && !p->stdin_closed)
    return GEXEC_EV_WRITABLE;
  return 0;
}

void gexec__evq_notify(gexec_proc *p) {
  gexec_evq *q = p->q;
  if (!next_type(p)) return;
  /* Also the run of the event in hand (q->cur): the fd must say that
   * it has more. Taking it is safe, as the next gexec_evq_next releases
   * the event in hand before it takes another (one consumer thread). */
  pthread_mutex_lock(&q->mu);
  if (!p->q_linked) {
    p->q_linked = 1;
    p->q_next = NULL;
    if (q->tail)
      q->tail->q_next = p;
    else
      q->head = p;
    q->tail = p;
    if (q->head == p) {
      level_up(q);
      pthread_cond_signal(&q->cv);
    }
  }
  pthread_mutex_unlock(&q->mu);
}

/* Under q->mu. */
static void unlink_run(gexec_evq *q, gexec_proc *p) {
  if (!p->q_linked) return;
  gexec_proc **it = &q->head, *prev = NULL;
  while (*it != p) {
    prev = *it;
    it = &(*it)->q_next;
  }
  *it = p->q_next;
  if (q->tail == p) q->tail = prev;
  p->q_linked = 0;
  p->q_next = NULL;
  if (!q->head) level_down(q);
}

void gexec__evq_forget(gexec_proc *p) {
  gexec_evq *q = p->q;
  pthread_mutex_lock(&q->mu);
  unlink_run(q, p);
  if (q->cur == p) q->cur = NULL;
  pthread_mutex_unlock(&q->mu);
}

/* The previous event's run: its message is released (which lets its next
 * one in), and it goes back in line if it has more. */
static void release_previous(gexec_evq *q) {
  pthread_mutex_lock(&q->mu);
  gexec_proc *p = q->cur;
  q->cur = NULL;
  pthread_mutex_unlock(&q->mu);
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  gexec__release_current(p);
  gexec__evq_notify(p);
  pthread_mutex_unlock(&p->mu);
}

/* Takes the first run in line, waiting until @p dl (NULL: forever).
 * Returns NULL when the time ran out. */
static gexec_proc *pop_run(gexec_evq *q, const struct timespec *dl,
                           int64_t timeout_ms) {
  pthread_mutex_lock(&q->mu);
  while (!q->head) {
    if (timeout_ms == 0) break;
    if (!dl)
      pthread_cond_wait(&q->cv, &q->mu);
    else if (pthread_cond_timedwait(&q->cv, &q->mu, dl) == ETIMEDOUT)
      break;
  }
  gexec_proc *p = q->head;
  if (p) {
    q->head = p->q_next;
    if (!q->head) {
      q->tail = NULL;
      level_down(q);
    }
    p->q_linked = 0;
    p->q_next = NULL;
    q->cur = p;
  }
  pthread_mutex_unlock(&q->mu);
  return p;
}

/* Under p->mu: fills q->ev with the run's next event; 0 if it has none. */
static int take_event(gexec_evq *q, gexec_proc *p) {
  gexec_run_event *ev = &q->ev;
  gexec_event_type t = next_type(p);
  *ev = (gexec_run_event){.type = t, .proc = p, .user_data = p->user};
  if (t == GEXEC_EV_STARTED) {
    p->started_delivered = 1;
  } else if (t == GEXEC_EV_STDOUT || t == GEXEC_EV_STDERR) {
    Gexec__V1__RunResponse *m = gexec__take_pending(p);
    ProtobufCBinaryData d = t == GEXEC_EV_STDOUT ? m->stdout : m->stderr;
    ev->data = d.data;
    ev->len = d.len;
  } else if (t == GEXEC_EV_EXIT) {
    p->exit_delivered = 1;
    int ok = gexec__end_result(p, &p->end_err) == GEXEC_OK;
    if (ok && p->kind == GEXEC__PROC_FACTS) {
      ev->type = GEXEC_EV_FACTS; /* its JSON, owned by the run */
      ev->data = (const uint8_t *)p->facts_json;
      ev->len = p->facts_len;
    } else if (ok) {
      ev->exit = &p->exit;
    } else {
      ev->type = GEXEC_EV_ERROR;
      ev->error = &p->end_err;
    }
  } else if (t == GEXEC_EV_WRITABLE) {
    p->want_writable = 0;
  }
  return t != 0;
}

int gexec_evq_next(gexec_evq *q, const gexec_run_event **out,
                   int64_t timeout_ms, gexec_error *err) {
  struct timespec dl = gexec__deadline_in(timeout_ms > 0 ? timeout_ms : 0);
  release_previous(q);
  for (;;) {
    gexec_proc *p = pop_run(q, timeout_ms < 0 ? NULL : &dl, timeout_ms);
    if (!p)
      return gexec__fail(err, GEXEC_ETIMEDOUT, 0, "no event within timeout");
    pthread_mutex_lock(&p->mu);
    int got = take_event(q, p);
    /* More events already waiting (they came while it was in line):
     * back in line now, behind the others, and the fd says so. */
    if (got) gexec__evq_notify(p);
    pthread_mutex_unlock(&p->mu);
    if (got) {
      *out = &q->ev;
      return GEXEC_OK;
    }
    release_previous(q); /* its event went away (e.g. writable again) */
  }
}
