/* The daemon's signals from a signalfd on its loop; see signals.h. */
#include "server/signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void watched(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGCHLD);
}

int gxd_signals_block(void) {
  sigset_t set;
  watched(&set);
  int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
  if (rc == 0) return 0;
  errno = rc;
  return -1;
}

/* Reads every signal pending now (signalfd coalesces repeats of one
 * signal, as pending signals do). */
static void on_readable(uv_poll_t *p, int status, int events) {
  gxd_signals *w = p->data;
  struct signalfd_siginfo si;
  (void)events;
  if (status < 0) return;
  while (w->fd >= 0 && read(w->fd, &si, sizeof si) == (ssize_t)sizeof si)
    w->fn(w->ud, (int)si.ssi_signo);
}

int gxd_signals_start(gxd_signals *w, uv_loop_t *loop, gxd_signals_fn fn,
                      void *ud) {
  sigset_t set;
  watched(&set);
  w->fn = fn;
  w->ud = ud;
  w->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (w->fd < 0) return -errno;
  int rc = uv_poll_init(loop, &w->poll, w->fd);
  if (rc == 0) {
    w->poll.data = w;
    rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
    if (rc != 0) uv_close((uv_handle_t *)&w->poll, NULL);
  }
  if (rc != 0) {
    close(w->fd);
    w->fd = -1;
  }
  return rc;
}

static void on_closed(uv_handle_t *h) {
  gxd_signals *w = h->data;
  close(w->fd);
  w->fd = -1;
}

void gxd_signals_close(gxd_signals *w) {
  if (w->fd < 0 || uv_is_closing((uv_handle_t *)&w->poll)) return;
  uv_close((uv_handle_t *)&w->poll, on_closed);
}
