/* One run's process: pipes, timers, stop escalation and reaping.
 * See child.h for the contract (backpressure, end of run). */
#include "server/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>


typedef struct {
  gxd_child *child;
  int fd;          /* -1 once closed */
  uv_poll_t poll;
  int has_poll;    /* poll handle initialized (needs closing) */
  int polling;
  int taken;       /* the buffer is being sent: wait for resume */
  uint8_t *buf;    /* GXD_CHUNK bytes, allocated on first data */
  size_t len;
  uint64_t seq;    /* when the buffer became non-empty: oldest first */
} out_stream;

struct gxd_child {
  uv_loop_t *loop;
  gxd_launcher *launcher;
  uint64_t run_id;
  pid_t pid;
  gxd_child_cbs cbs;
  void *ud;
  out_stream out[2];
  uint64_t seq;
  /* stdin */
  int in_fd;
  uv_poll_t in_poll;
  int in_has_poll, in_polling, in_close_requested;
  uint8_t *in_buf; /* the unwritten rest of one message, or NULL */
  size_t in_off, in_len, in_cap;
  /* timers */
  uv_timer_t timeout_timer, kill_timer, drain_timer;
  int stopping;
  uint64_t kill_at; /* loop time of the pending SIGKILL */
  int launcher_due; /* the command was SIGKILLed: the launcher is next */
  pid_t cmd_pid;    /* the command (its process group), once exec'd */
  /* the launcher's records (fd 3 of the launcher) */
  int rep_fd;       /* read end, or -1 once at EOF */
  uv_poll_t rep_poll;
  int rep_has_poll;
  gxl_reader rep;
  int exec_seen;    /* an exec record arrived */
  /* end */
  uint64_t start_ns;
  int reaped, exit_reported, closing;
  int open_handles; /* uv_close'd, callback pending */
  gxd_child_exit ex;
};

static void maybe_report_exit(gxd_child *c);

/* ----------------------------------------------------------- output */

static void out_set_polling(out_stream *s, int on);

static void on_out_readable(uv_poll_t *h, int status, int events);

static void out_set_polling(out_stream *s, int on) {
  if (s->fd < 0 || s->polling == on) return;
  s->polling = on;
  if (on)
    uv_poll_start(&s->poll, UV_READABLE | UV_DISCONNECT, on_out_readable);
  else
    uv_poll_stop(&s->poll);
}

static void close_handle(gxd_child *c, uv_handle_t *h);

/* The poll handle is closed together with its fd: uv_close on a poll
 * unregisters the fd number from epoll, so a handle outliving its fd
 * would unregister whatever pipe reused that number. */
static void out_close_fd(out_stream *s) {
  if (s->fd < 0) return;
  if (s->has_poll) close_handle(s->child, (uv_handle_t *)&s->poll);
  s->has_poll = s->polling = 0;
  close(s->fd);
  s->fd = -1;
}

static int out_open(const out_stream *s) { return s->fd >= 0; }

/* Reads until the buffer is full, the pipe is empty, or EOF. */
static void on_out_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  out_stream *s = h->data;
  gxd_child *c = s->child;
  size_t before = s->len;
  if (!s->buf && !(s->buf = malloc(GXD_CHUNK))) return; /* retried */
  while (s->len < GXD_CHUNK) {
    ssize_t n = read(s->fd, s->buf + s->len, GXD_CHUNK - s->len);
    if (n > 0) {
      s->len += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    out_close_fd(s); /* EOF or error: nothing more will come */
    break;
  }
  if (s->len == GXD_CHUNK) out_set_polling(s, 0);
  if (before == 0 && s->len > 0) s->seq = ++c->seq;
  if (s->len > before && c->cbs.on_output) c->cbs.on_output(c->ud);
  if (!out_open(s)) maybe_report_exit(c);
}

size_t gxd_child_peek(gxd_child *c, int *stream, const uint8_t **data) {
  out_stream *a = &c->out[0], *b = &c->out[1], *s;
  if (a->len && b->len)
    s = a->seq <= b->seq ? a : b;
  else
    s = a->len ? a : b;
  if (!s->len) return 0;
  *stream = s == a ? 1 : 2;
  *data = s->buf;
  return s->len;
}

void gxd_child_consume(gxd_child *c, int stream) {
  out_stream *s = &c->out[stream - 1];
  s->len = 0;
  if (!s->taken) out_set_polling(s, 1);
}

uint8_t *gxd_child_take(gxd_child *c, int stream, size_t *len) {
  out_stream *s = &c->out[stream - 1];
  uint8_t *buf = s->buf;
  *len = s->len;
  s->buf = NULL; /* a fresh one is allocated for the next read */
  s->len = 0;
  s->taken = 1;
  out_set_polling(s, 0);
  return buf;
}

void gxd_child_resume(gxd_child *c, int stream) {
  out_stream *s = &c->out[stream - 1];
  s->taken = 0;
  if (s->len < GXD_CHUNK) out_set_polling(s, 1);
}

/* ------------------------------------------------------------ stdin */

static void in_close_fd(gxd_child *c) {
  if (c->in_fd < 0) return;
  if (c->in_has_poll) close_handle(c, (uv_handle_t *)&c->in_poll);
  c->in_has_poll = c->in_polling = 0;
  close(c->in_fd);
  c->in_fd = -1;
  free(c->in_buf);
  c->in_buf = NULL;
  c->in_off = c->in_len = c->in_cap = 0;
}

static void on_in_writable(uv_poll_t *h, int status, int events);

/* Writes pending stdin; 1 if everything pending was written. */
static int in_flush(gxd_child *c) {
  while (c->in_fd >= 0 && c->in_off < c->in_len) {
    ssize_t n = write(c->in_fd, c->in_buf + c->in_off, c->in_len - c->in_off);
    if (n > 0) {
      c->in_off += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!c->in_polling) uv_poll_start(&c->in_poll, UV_WRITABLE, on_in_writable);
      c->in_polling = 1;
      return 0;
    } else {
      in_close_fd(c); /* EPIPE: the child closed its stdin; drop the rest */
    }
  }
  if (c->in_polling) uv_poll_stop(&c->in_poll);
  c->in_polling = 0;
  c->in_off = c->in_len = c->in_cap = 0;
  free(c->in_buf); /* held only while a message is pending */
  c->in_buf = NULL;
  if (c->in_close_requested) in_close_fd(c);
  return 1;
}

static void on_in_writable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  gxd_child *c = h->data;
  if (in_flush(c) && c->cbs.on_stdin_drained) c->cbs.on_stdin_drained(c->ud);
}

/* Writes what the pipe takes now; returns the bytes written. */
static size_t in_write_now(gxd_child *c, const uint8_t *data, size_t len) {
  size_t done = 0;
  while (c->in_fd >= 0 && done < len) {
    ssize_t n = write(c->in_fd, data + done, len - done);
    if (n > 0) done += (size_t)n;
    else if (n < 0 && errno == EINTR) continue;
    else if (n < 0 && errno == EAGAIN) break;
    else in_close_fd(c); /* EPIPE: the child closed its stdin */
  }
  return c->in_fd >= 0 ? done : len; /* a closed stdin drops the rest */
}

size_t gxd_child_write_stdin(gxd_child *c, const uint8_t *data, size_t len) {
  if (c->in_fd < 0 || c->in_close_requested || len == 0)
    return c->in_len - c->in_off;
  if (c->in_off == c->in_len) { /* nothing queued: straight to the pipe */
    size_t n = in_write_now(c, data, len);
    data += n;
    len -= n;
    if (len == 0) return 0;
  }
  if (c->in_off > 0) { /* compact */
    memmove(c->in_buf, c->in_buf + c->in_off, c->in_len - c->in_off);
    c->in_len -= c->in_off;
    c->in_off = 0;
  }
  if (c->in_len + len > c->in_cap) {
    uint8_t *nb = realloc(c->in_buf, c->in_len + len);
    if (!nb) return c->in_len - c->in_off; /* dropped: out of memory */
    c->in_buf = nb;
    c->in_cap = c->in_len + len;
  }
  memcpy(c->in_buf + c->in_len, data, len);
  c->in_len += len;
  in_flush(c);
  return c->in_len - c->in_off;
}

void gxd_child_close_stdin(gxd_child *c) {
  c->in_close_requested = 1;
  if (c->in_off == c->in_len) in_close_fd(c);
}

/* ------------------------------------------------------ stop and exit */

/* The run's processes are all gone: the launcher reported (every one was
 * reaped by init or by it) or was reaped itself. */
static int run_over(const gxd_child *c) {
  return c->reaped || c->ex.reported;
}

int gxd_child_signal(gxd_child *c, int sig) {
  if (run_over(c) || !c->cmd_pid) return -ESRCH;
  return killpg(c->cmd_pid, sig) == 0 ? 0 : -errno;
}

/* The last resort: the launcher's own group (and with it init and the
 * PID namespace). Without a report the daemon reclaims the cgroup. */
static void kill_launcher(gxd_child *c) {
  if (!c->reaped) gxd_launcher_kill(c->launcher, c->run_id);
}

static void on_kill_timer(uv_timer_t *t) {
  gxd_child *c = t->data;
  if (c->launcher_due) return kill_launcher(c);
  /* the command's group; the launcher then ends the rest of the run and
   * reports. Should it not be gone soon, it goes too. */
  gxd_child_signal(c, SIGKILL);
  c->launcher_due = 1;
  uv_timer_start(&c->kill_timer, on_kill_timer, GXD_LAUNCHER_KILL_MS, 0);
}

void gxd_child_stop(gxd_child *c, uint32_t grace_ms) {
  if (run_over(c)) return;
  if (!c->cmd_pid) { /* no command yet: nothing to be graceful to */
    c->stopping = 1;
    return kill_launcher(c);
  }
  uint64_t at = uv_now(c->loop) + grace_ms;
  if (c->stopping && (c->launcher_due || at >= c->kill_at)) return;
  if (!c->stopping) {
    gxd_child_signal(c, SIGTERM);
    gxd_child_signal(c, SIGCONT); /* stopped processes must see it */
  }
  c->stopping = 1;
  c->kill_at = at;
  uv_timer_start(&c->kill_timer, on_kill_timer, grace_ms, 0);
}

static void on_timeout(uv_timer_t *t) {
  gxd_child *c = t->data;
  c->ex.timed_out = 1;
  if (c->cbs.on_timeout) c->cbs.on_timeout(c->ud);
}

void gxd_child_set_timeout(gxd_child *c, uint64_t timeout_ms) {
  uv_timer_start(&c->timeout_timer, on_timeout, timeout_ms, 0);
}

/* Pipes still open GXD_DRAIN_MS after the exit: a process outside the
 * group holds them. A stream paused by backpressure is not that case
 * (the client is slow): wait for it rather than drop its bytes. */
static void on_drain_timeout(uv_timer_t *t) {
  gxd_child *c = t->data;
  for (int i = 0; i < 2; i++)
    if (out_open(&c->out[i]) && !c->out[i].polling) {
      uv_timer_start(&c->drain_timer, on_drain_timeout, GXD_DRAIN_MS, 0);
      return;
    }
  c->ex.pipes_forced = 1;
  out_close_fd(&c->out[0]);
  out_close_fd(&c->out[1]);
  maybe_report_exit(c);
}

static void maybe_report_exit(gxd_child *c) {
  if (!run_over(c) || c->exit_reported) return;
  if (out_open(&c->out[0]) || out_open(&c->out[1])) return;
  c->exit_reported = 1;
  uv_timer_stop(&c->drain_timer);
  if (c->cbs.on_exit) c->cbs.on_exit(c->ud, &c->ex);
}

/* ----------------------------------------------------- launcher records */

static void rep_close(gxd_child *c) {
  if (c->rep_fd < 0) return;
  if (c->rep_has_poll) close_handle(c, (uv_handle_t *)&c->rep_poll);
  c->rep_has_poll = 0;
  close(c->rep_fd);
  c->rep_fd = -1;
}

/* The launcher broke the contract: remember why, read no more. */
static void rep_broken(gxd_child *c, const char *why) {
  if (!c->ex.launch_error[0])
    snprintf(c->ex.launch_error, sizeof c->ex.launch_error,
             "the launcher broke its contract: %s", why);
  rep_close(c);
}

static void take_record(gxd_child *c, const gxl_record *rec) {
  switch (rec->kind) {
    case GXL_REC_EXEC_OK:
    case GXL_REC_EXEC_FAIL:
      if (c->exec_seen) return rep_broken(c, "a second exec record");
      c->exec_seen = 1;
      if (rec->kind == GXL_REC_EXEC_OK) c->cmd_pid = (pid_t)rec->pid;
      if (c->cbs.on_exec) c->cbs.on_exec(c->ud, rec);
      return;
    case GXL_REC_ERROR:
      snprintf(c->ex.launch_error, sizeof c->ex.launch_error, "%.399s",
               rec->reason);
      return;
    case GXL_REC_REPORT:
      if (c->ex.reported) return rep_broken(c, "a second report");
      c->ex.reported = 1;
      c->ex.wall_us = (uv_hrtime() - c->start_ns) / 1000;
      c->ex.exit_code = rec->report.signal ? 0 : rec->report.exit_code;
      c->ex.signal = rec->report.signal;
      c->ex.core_dumped = rec->report.core_dumped;
      c->ex.oom_killed = rec->report.oom_killed;
      c->ex.user_us = rec->report.user_us;
      c->ex.sys_us = rec->report.sys_us;
      c->ex.max_rss_kb = rec->report.max_rss_kb;
      return;
  }
}

/* Reads what the launcher wrote so far (all of it once it exited). */
static void rep_read(gxd_child *c) {
  char buf[GXL_LINE_MAX];
  gxl_record rec;
  int got;
  while (c->rep_fd >= 0) {
    size_t room = gxl_reader_room(&c->rep);
    ssize_t n = read(c->rep_fd, buf, room < sizeof buf ? room : sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return rep_close(c); /* EOF: the launcher is done */
    gxl_reader_push(&c->rep, buf, (size_t)n);
    while (c->rep_fd >= 0 && (got = gxl_reader_next(&c->rep, &rec)) != 0) {
      if (got < 0) return rep_broken(c, "a malformed record");
      take_record(c, &rec);
    }
  }
}

/* The run ended (report or reap): no timeout, no kill any more; the
 * pipes get GXD_DRAIN_MS to reach EOF. */
static void run_ended(gxd_child *c) {
  uv_timer_stop(&c->timeout_timer);
  uv_timer_stop(&c->kill_timer);
  if (!c->exit_reported && !uv_is_active((uv_handle_t *)&c->drain_timer))
    uv_timer_start(&c->drain_timer, on_drain_timeout, GXD_DRAIN_MS, 0);
}

static void on_rep_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  gxd_child *c = h->data;
  int had = c->ex.reported;
  rep_read(c);
  if (!had && c->ex.reported && !c->reaped) {
    run_ended(c);
    maybe_report_exit(c);
  }
}

static uint64_t tv_us(struct timeval tv) {
  return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* The launcher exited and was reaped (its group SIGKILLed first). */
/* How the launcher itself ended, for a run it did not report. */
static void take_wait_status(gxd_child *c, int st, const struct rusage *ru) {
  c->ex.wall_us = (uv_hrtime() - c->start_ns) / 1000;
  if (WIFSIGNALED(st)) {
    c->ex.signal = WTERMSIG(st);
    c->ex.core_dumped = WCOREDUMP(st) ? 1 : 0;
  } else {
    c->ex.exit_code = WEXITSTATUS(st);
  }
  c->ex.user_us = tv_us(ru->ru_utime);
  c->ex.sys_us = tv_us(ru->ru_stime);
  c->ex.max_rss_kb = (uint64_t)ru->ru_maxrss;
}

static void free_child(gxd_child *c);

/* The launcher exited and was reaped (its group SIGKILLed first). After
 * a report this is only the supervisor's end (the run's `exited` may
 * have gone already); without one, it is the run's end. */
static void on_reaped(void *ud, int st, const struct rusage *ru) {
  gxd_child *c = ud;
  c->reaped = 1;
  if (!c->ex.reported) {
    if (c->cmd_pid) killpg(c->cmd_pid, SIGKILL); /* what is left of it */
    take_wait_status(c, st, ru);
    rep_read(c); /* a report still in the pipe overrides the status */
  }
  if (c->cbs.on_reaped) c->cbs.on_reaped(c->ud);
  if (c->closing) { /* closed after an early exit: freed now */
    if (c->open_handles == 0) free_child(c);
    return;
  }
  run_ended(c);
  maybe_report_exit(c);
}

/* ---------------------------------------------------------- lifecycle */

pid_t gxd_child_pid(const gxd_child *c) { return c->pid; }

static void free_child(gxd_child *c) {
  void (*cb)(void *) = c->cbs.on_closed;
  void *ud = c->ud;
  free(c->out[0].buf);
  free(c->out[1].buf);
  free(c);
  if (cb) cb(ud);
}

/* Freed once every handle closed and the launcher was reaped (its exit
 * callback holds the child). */
static void on_handle_closed(uv_handle_t *h) {
  gxd_child *c = h->data;
  if (--c->open_handles > 0 || !c->closing || !c->reaped) return;
  free_child(c);
}

static void close_handle(gxd_child *c, uv_handle_t *h) {
  h->data = c; /* output polls pointed at their stream */
  c->open_handles++;
  uv_close(h, on_handle_closed);
}

void gxd_child_close(gxd_child *c) {
  if (c->closing) return;
  c->closing = 1;
  out_close_fd(&c->out[0]);
  out_close_fd(&c->out[1]);
  in_close_fd(c);
  rep_close(c);
  /* the timers are always closed here, so freeing happens in a callback */
  close_handle(c, (uv_handle_t *)&c->timeout_timer);
  close_handle(c, (uv_handle_t *)&c->kill_timer);
  close_handle(c, (uv_handle_t *)&c->drain_timer);
}

/* Pipe whose daemon end is non-blocking; the child's end stays blocking.
 * Data pipes are enlarged to @p size (best effort: a kernel limit). */
static int make_pipe(int fds[2], int daemon_end, int size) {
  if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
  int fl = fcntl(fds[daemon_end], F_GETFL);
  fcntl(fds[daemon_end], F_SETFL, fl | O_NONBLOCK);
  if (size) fcntl(fds[0], F_SETPIPE_SZ, size);
  return 0;
}

static void close_pair(int fds[2]) {
  if (fds[0] >= 0) close(fds[0]);
  if (fds[1] >= 0) close(fds[1]);
}

static int init_out(gxd_child *c, int i, int fd) {
  out_stream *s = &c->out[i];
  s->child = c;
  s->fd = fd;
  if (fd < 0) return 0;
  if (uv_poll_init(c->loop, &s->poll, fd) != 0) return -EINVAL;
  s->poll.data = s;
  s->has_poll = 1;
  out_set_polling(s, 1);
  return 0;
}

static int init_handles(gxd_child *c, int in_fd, int out_fd, int err_fd) {
  uv_timer_init(c->loop, &c->timeout_timer);
  uv_timer_init(c->loop, &c->kill_timer);
  uv_timer_init(c->loop, &c->drain_timer);
  c->timeout_timer.data = c->kill_timer.data = c->drain_timer.data = c;
  c->in_fd = in_fd;
  if (in_fd >= 0) {
    if (uv_poll_init(c->loop, &c->in_poll, in_fd) != 0) return -EINVAL;
    c->in_poll.data = c;
    c->in_has_poll = 1;
  }
  if (init_out(c, 0, out_fd) != 0 || init_out(c, 1, err_fd) != 0)
    return -EINVAL;
  gxl_reader_init(&c->rep);
  if (uv_poll_init(c->loop, &c->rep_poll, c->rep_fd) != 0) return -EINVAL;
  c->rep_poll.data = c;
  c->rep_has_poll = 1;
  uv_poll_start(&c->rep_poll, UV_READABLE | UV_DISCONNECT, on_rep_readable);
  return 0;
}

int gxd_child_start(gxd_launcher *l, const gxl_run *run,
                    const gxl_request *req, const gxd_child_stdio *io,
                    const gxd_child_cbs *cbs, void *ud, gxd_child **out) {
  int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1}, r[2] = {-1, -1};
  int rc;
  gxd_child *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  if ((io->stdin_pipe && (rc = make_pipe(in, 1, GXD_STDIN_PIPE_SIZE)) != 0) ||
      (io->stdout_pipe && (rc = make_pipe(o, 0, GXD_PIPE_SIZE)) != 0) ||
      (io->stderr_mode == 1 && (rc = make_pipe(e, 0, GXD_PIPE_SIZE)) != 0) ||
      (rc = make_pipe(r, 0, 0)) != 0)
    goto out_pipes;
  gxd_launch_fds fds = {.stdin_fd = in[0], .stdout_fd = o[1],
                        .stderr_fd = io->stderr_mode == 2 ? o[1] : e[1],
                        .report_fd = r[1]};
  c->rep_fd = r[0];
  c->loop = gxd_launcher_loop(l);
  c->launcher = l;
  c->run_id = run->run_id;
  c->cbs = *cbs;
  c->ud = ud;
  c->start_ns = uv_hrtime();
  if ((rc = gxd_launcher_spawn(l, run, req, &fds, on_reaped, c, &c->pid)) != 0)
    goto out_pipes;
  /* the child's ends now belong to the child */
  if (in[0] >= 0) close(in[0]);
  if (o[1] >= 0) close(o[1]);
  if (e[1] >= 0) close(e[1]);
  close(r[1]);
  /* uv_poll_init fails only for fds epoll rejects (regular files), never
   * for these pipes */
  init_handles(c, in[1], o[0], e[0]);
  *out = c; /* an early exit is reported later, on the loop */
  return 0;
out_pipes:
  close_pair(in);
  close_pair(o);
  close_pair(e);
  close_pair(r);
  free(c);
  return rc;
}
