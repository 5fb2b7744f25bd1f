/* One run's launcher on the loop: its stdio as io channels, its records,
 * the timers, the stop path and the reap. See child.h for the contract
 * (backpressure, end of a run, I/O channels). */
#include "server/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/child_internal.h"

typedef struct out_stream out_stream;

/* One descriptor the child polls, through its one poll handle (libuv
 * allows one per descriptor): the stream its reads fill and whether
 * stdin is written to it decide what it waits for. */
typedef struct {
  gxd_child *child; /* NULL: a free slot */
  int fd;           /* the daemon's end; -1 once closed */
  uv_poll_t poll;   /* initialized while fd >= 0 */
  int events;       /* what the handle polls for now (0: stopped) */
  out_stream *out;  /* the stream its reads fill, or NULL */
  int in;           /* stdin is written to it */
  int report;       /* the launcher's records come on it */
} io_chan;

/* One output stream: a buffer filled from its channel. */
struct out_stream {
  io_chan *ch;     /* NULL: none (/dev/null, or stdout's pipe) */
  int taken;       /* the buffer is being sent: wait for resume */
  uint8_t *buf;    /* GXD_CHUNK bytes, allocated on first data */
  size_t len;
  uint64_t seq;    /* when the buffer became non-empty: oldest first */
};

/* stdin, stdout, stderr and the report pipe: never more descriptors */
#define NCHAN 4

struct gxd_child {
  uv_loop_t *loop;
  gxd_launcher *launcher;
  uint64_t run_id;
  pid_t pid;
  gxd_child_cbs cbs;
  void *ud;
  io_chan chan[NCHAN];
  out_stream out[2];
  uint64_t seq;
  /* stdin */
  io_chan *in_ch;   /* stdin's channel; NULL once stdin ended */
  int in_close_requested;
  uint8_t *in_buf;  /* the unwritten rest of one message, or NULL */
  size_t in_off, in_len, in_cap;
  /* the launcher's records (fd 3 of the launcher) */
  io_chan *rep_ch;
  gxl_reader rep;
  int exec_seen;    /* an exec record arrived */
  /* timers */
  uv_timer_t timeout_timer, kill_timer, drain_timer;
  int stopping;
  uint64_t kill_at; /* loop time of the pending SIGKILL */
  int launcher_due; /* the command was SIGKILLed: the launcher is next */
  pid_t cmd_pid;    /* the command, once exec'd (0 before) */
  /* end */
  uint64_t start_ns;
  int reaped, exit_reported, closing;
  int open_handles; /* uv_close'd, callback pending */
  gxd_child_exit ex;
};

static void maybe_report_exit(gxd_child *c);
static void close_handle(gxd_child *c, uv_handle_t *h);
static void on_chan_event(uv_poll_t *h, int status, int events);
static void in_drop(gxd_child *c);
static void in_flush(gxd_child *c);
static void rep_event(gxd_child *c);

/* --------------------------------------------------------- channels */

static size_t in_pending(const gxd_child *c) { return c->in_len - c->in_off; }

/* A stream is read while its buffer has room and is not being sent. */
static int out_reading(const out_stream *s) {
  return !s->taken && s->len < GXD_CHUNK;
}

static int chan_is_open(const io_chan *ch) { return ch && ch->fd >= 0; }

static int out_open(const out_stream *s) { return chan_is_open(s->ch); }

/* What @p ch waits for: readable while its reads have room to go,
 * writable while stdin bytes are held for it. */
static int chan_want(const io_chan *ch) {
  int ev = 0;
  if (ch->report || (ch->out && out_reading(ch->out)))
    ev |= UV_READABLE | UV_DISCONNECT;
  if (ch->in && in_pending(ch->child)) ev |= UV_WRITABLE;
  return ev;
}

/* Has the poll handle of @p ch (if any is open) wait for what it wants. */
static void chan_update(io_chan *ch) {
  if (!chan_is_open(ch)) return;
  int want = chan_want(ch);
  if (want == ch->events) return;
  ch->events = want;
  if (want)
    uv_poll_start(&ch->poll, want, on_chan_event);
  else
    uv_poll_stop(&ch->poll);
}

/* Closes @p ch, dropping stdin bytes held for it. The poll handle is
 * closed together with the descriptor: uv_close on a poll unregisters
 * the fd number from epoll, so a handle outliving its fd would
 * unregister whatever reused that number. */
static void chan_close(io_chan *ch) {
  if (!chan_is_open(ch)) return;
  gxd_child *c = ch->child;
  if (ch->in) {
    ch->in = 0;
    c->in_ch = NULL;
    in_drop(c);
  }
  close_handle(c, (uv_handle_t *)&ch->poll);
  close(ch->fd);
  ch->fd = -1;
  ch->events = 0;
}

/* The channel of @p fd (the daemon's end, made non-blocking): the one it
 * already is (stdin and an output on one descriptor), or a new one. NULL
 * if epoll refuses it (never a pipe or socket): it is closed, and its
 * stream is at EOF. */
static io_chan *chan_open(gxd_child *c, int fd) {
  io_chan *ch = c->chan;
  while (ch->child && ch->fd != fd) ch++; /* NCHAN slots are enough */
  if (ch->child) return ch;
  ch->child = c;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (uv_poll_init(c->loop, &ch->poll, fd) != 0) {
    close(fd);
    return NULL;
  }
  ch->poll.data = ch;
  ch->fd = fd;
  return ch;
}

static void out_read(out_stream *s);

/* One event on a channel: held stdin is written, then output read. On
 * an error (POLLERR) libuv stopped the handle and names no event, so
 * both are tried: the write or the read tells what happened. */
static void on_chan_event(uv_poll_t *h, int status, int events) {
  io_chan *ch = h->data;
  gxd_child *c = ch->child;
  size_t held = ch->in ? in_pending(c) : 0;
  if (status < 0) {
    ch->events = 0;
    events = UV_READABLE | UV_WRITABLE;
  }
  if (ch->report) rep_event(c);
  if (ch->in && held && (events & UV_WRITABLE)) in_flush(c);
  if (ch->out && out_reading(ch->out) &&
      (events & (UV_READABLE | UV_DISCONNECT)))
    out_read(ch->out);
  chan_update(ch);
  if (held && !in_pending(c) && !c->closing && c->cbs.on_stdin_drained)
    c->cbs.on_stdin_drained(c->ud);
}

/* ----------------------------------------------------------- output */

/* Reads until the buffer is full, the descriptor is empty, or EOF. */
static void out_read(out_stream *s) {
  io_chan *ch = s->ch;
  gxd_child *c = ch->child;
  size_t before = s->len;
  if (!s->buf && !(s->buf = malloc(GXD_CHUNK))) return; /* retried */
  while (s->len < GXD_CHUNK) {
    ssize_t n = read(ch->fd, s->buf + s->len, GXD_CHUNK - s->len);
    if (n > 0) {
      s->len += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    chan_close(ch); /* EOF or error: nothing more will come */
    break;
  }
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
  chan_update(s->ch);
}

uint8_t *gxd_child_take(gxd_child *c, int stream, size_t *len) {
  out_stream *s = &c->out[stream - 1];
  uint8_t *buf = s->buf;
  *len = s->len;
  s->buf = NULL; /* a fresh one is allocated for the next read */
  s->len = 0;
  s->taken = 1;
  chan_update(s->ch);
  return buf;
}

void gxd_child_resume(gxd_child *c, int stream) {
  out_stream *s = &c->out[stream - 1];
  s->taken = 0;
  chan_update(s->ch);
}

/* ------------------------------------------------------------ stdin */

/* Frees the held bytes. */
static void in_drop(gxd_child *c) {
  free(c->in_buf);
  c->in_buf = NULL;
  c->in_off = c->in_len = c->in_cap = 0;
}

/* Stdin ends (EOF for the command, or it closed its end). A descriptor
 * of its own is closed; one that also carries output is still read, and
 * only its write side is shut down (a socket's reader sees EOF; a pty
 * master would write VEOF instead, see child.h). */
static void in_end(gxd_child *c) {
  io_chan *ch = c->in_ch;
  if (!ch) return;
  if (!ch->out) return chan_close(ch);
  in_drop(c);
  c->in_ch = NULL;
  ch->in = 0;
  shutdown(ch->fd, SHUT_WR);
  chan_update(ch);
}

/* Writes what stdin's descriptor takes now. Returns the bytes taken, or
 * all of them once stdin ended (EPIPE: the command closed its end; the
 * bytes are dropped). */
static size_t in_write(gxd_child *c, const uint8_t *data, size_t len) {
  size_t done = 0;
  while (c->in_ch && done < len) {
    ssize_t n = write(c->in_ch->fd, data + done, len - done);
    if (n > 0) done += (size_t)n;
    else if (n < 0 && errno == EINTR) continue;
    else if (n < 0 && errno == EAGAIN) break;
    else in_end(c);
  }
  return c->in_ch ? done : len;
}

/* Writes held stdin; once nothing is held, a requested close happens. */
static void in_flush(gxd_child *c) {
  if (in_pending(c)) {
    size_t n = in_write(c, c->in_buf + c->in_off, in_pending(c));
    if (!c->in_ch) return; /* ended: the rest was dropped with it */
    c->in_off += n;
    if (in_pending(c)) return; /* the rest when writable */
  }
  in_drop(c); /* held only while a message is pending */
  if (c->in_close_requested) in_end(c);
}

/* Appends @p len bytes to the held ones; 0, or -1 when out of memory. */
static int in_hold(gxd_child *c, const uint8_t *data, size_t len) {
  if (c->in_off > 0) { /* compact */
    memmove(c->in_buf, c->in_buf + c->in_off, in_pending(c));
    c->in_len -= c->in_off;
    c->in_off = 0;
  }
  if (c->in_len + len > c->in_cap) {
    uint8_t *nb = realloc(c->in_buf, c->in_len + len);
    if (!nb) return -1;
    c->in_buf = nb;
    c->in_cap = c->in_len + len;
  }
  memcpy(c->in_buf + c->in_len, data, len);
  c->in_len += len;
  return 0;
}

size_t gxd_child_write_stdin(gxd_child *c, const uint8_t *data, size_t len) {
  if (!c->in_ch || c->in_close_requested || len == 0) return in_pending(c);
  if (!in_pending(c)) { /* nothing held: straight to the descriptor */
    size_t n = in_write(c, data, len);
    data += n;
    len -= n;
  }
  if (len > 0 && in_hold(c, data, len) == 0) /* else dropped: no memory */
    in_flush(c);
  chan_update(c->in_ch);
  return in_pending(c);
}

void gxd_child_close_stdin(gxd_child *c) {
  c->in_close_requested = 1;
  if (!in_pending(c)) in_end(c);
}

/* ------------------------------------------------------ stop and exit */

/* The run's processes are all gone: the launcher reported (every one was
 * reaped by init or by it) or was reaped itself. */
static int run_over(const gxd_child *c) {
  return c->reaped || c->ex.reported;
}

/* The one place that knows where a run's signals go: the command's
 * process group (it leads its own; the launcher and init are outside
 * it, so they never get a client's signal). A pty run would aim at the
 * terminal's foreground group instead (child.h, I/O channels). Returns
 * 0, or -errno (-ESRCH before the command exists). */
static int signal_run(gxd_child *c, int sig) {
  if (!c->cmd_pid) return -ESRCH;
  return killpg(c->cmd_pid, sig) == 0 ? 0 : -errno;
}

int gxd_child_signal(gxd_child *c, int sig) {
  return run_over(c) ? -ESRCH : signal_run(c, sig);
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

/* The launcher was asked to die before the command existed: should the
 * command exist all the same (the KILL came too late), it goes at once,
 * and the launcher after GXD_LAUNCHER_KILL_MS if it has not reported. */
static void stopped_before_exec(gxd_child *c) {
  signal_run(c, SIGKILL);
  c->launcher_due = 1;
  c->kill_at = uv_now(c->loop);
  uv_timer_start(&c->kill_timer, on_kill_timer, GXD_LAUNCHER_KILL_MS, 0);
}

void gxd_child_stop(gxd_child *c, uint32_t grace_ms) {
  if (run_over(c)) return;
  if (!c->cmd_pid) { /* no command yet: nothing to be graceful to */
    c->stopping = 1;
    return kill_launcher(c); /* repeated by every stop until it worked */
  }
  uint64_t at = uv_now(c->loop) + grace_ms;
  if (c->stopping && (c->launcher_due || (c->kill_at && at >= c->kill_at)))
    return;
  if (!c->stopping) {
    signal_run(c, SIGTERM);
    signal_run(c, SIGCONT); /* stopped processes must see it */
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

/* Output still open GXD_DRAIN_MS after the exit: a process outside the
 * group holds it. A stream paused by backpressure is not that case (the
 * client is slow): wait for it rather than drop its bytes. */
static void on_drain_timeout(uv_timer_t *t) {
  gxd_child *c = t->data;
  for (int i = 0; i < 2; i++)
    if (out_open(&c->out[i]) && !out_reading(&c->out[i])) {
      uv_timer_start(&c->drain_timer, on_drain_timeout, GXD_DRAIN_MS, 0);
      return;
    }
  c->ex.pipes_forced = 1;
  chan_close(c->out[0].ch);
  chan_close(c->out[1].ch);
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

/* The launcher broke the contract: remember why, read no more. */
static void rep_broken(gxd_child *c, const char *why) {
  if (!c->ex.launch_error[0])
    snprintf(c->ex.launch_error, sizeof c->ex.launch_error,
             "the launcher broke its contract: %s", why);
  chan_close(c->rep_ch);
}

static void take_record(gxd_child *c, const gxl_record *rec) {
  switch (rec->kind) {
    case GXL_REC_EXEC_OK:
    case GXL_REC_EXEC_FAIL:
      if (c->exec_seen) return rep_broken(c, "a second exec record");
      c->exec_seen = 1;
      if (rec->kind == GXL_REC_EXEC_OK) c->cmd_pid = (pid_t)rec->pid;
      if (rec->kind == GXL_REC_EXEC_OK && c->stopping && !c->kill_at)
        stopped_before_exec(c);
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
  while (chan_is_open(c->rep_ch)) {
    size_t room = gxl_reader_room(&c->rep);
    if (room > sizeof buf) room = sizeof buf;
    ssize_t n = read(c->rep_ch->fd, buf, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return chan_close(c->rep_ch); /* EOF: the launcher is done */
    gxl_reader_push(&c->rep, buf, (size_t)n);
    while (chan_is_open(c->rep_ch) &&
           (got = gxl_reader_next(&c->rep, &rec)) != 0) {
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

static void rep_event(gxd_child *c) {
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
    signal_run(c, SIGKILL); /* what is left of the command */
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
  h->data = c; /* channel polls pointed at their channel */
  c->open_handles++;
  uv_close(h, on_handle_closed);
}

void gxd_child_close(gxd_child *c) {
  if (c->closing) return;
  c->closing = 1;
  for (int i = 0; i < NCHAN; i++) chan_close(&c->chan[i]);
  /* the timers are always closed here, so freeing happens in a callback */
  close_handle(c, (uv_handle_t *)&c->timeout_timer);
  close_handle(c, (uv_handle_t *)&c->kill_timer);
  close_handle(c, (uv_handle_t *)&c->drain_timer);
}

/* Polls the daemon's ends: stdin's channel, the outputs', the report's. */
static void open_channels(gxd_child *c, const int fd[3], int rep_fd) {
  for (int i = 0; i < NCHAN; i++) c->chan[i].fd = -1;
  if (fd[0] >= 0 && (c->in_ch = chan_open(c, fd[0])) != NULL)
    c->in_ch->in = 1;
  for (int i = 0; i < 2; i++)
    if (fd[i + 1] >= 0 && (c->out[i].ch = chan_open(c, fd[i + 1])) != NULL)
      c->out[i].ch->out = &c->out[i];
  gxl_reader_init(&c->rep);
  if ((c->rep_ch = chan_open(c, rep_fd)) != NULL) c->rep_ch->report = 1;
  for (int i = 0; i < NCHAN; i++) chan_update(&c->chan[i]);
}

static void init_timers(gxd_child *c) {
  uv_timer_init(c->loop, &c->timeout_timer);
  uv_timer_init(c->loop, &c->kill_timer);
  uv_timer_init(c->loop, &c->drain_timer);
  c->timeout_timer.data = c->kill_timer.data = c->drain_timer.data = c;
}

/* A pipe, both ends close-on-exec, enlarged to @p size if not 0 (best
 * effort: a kernel limit). Its ends stay blocking until a channel takes
 * the daemon's. */
static int make_pipe(int fds[2], int size) {
  if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
  if (size) fcntl(fds[0], F_SETPIPE_SZ, size);
  return 0;
}

/* Closes each distinct descriptor of @p fd[0..n) once. */
static void close_distinct(const int *fd, int n) {
  for (int i = 0; i < n; i++) {
    int dup = 0;
    for (int j = 0; j < i; j++) dup |= fd[j] == fd[i];
    if (fd[i] >= 0 && !dup) close(fd[i]);
  }
}

/* The run's stdio as pipes, as @p io asks. */
static int make_stdio(const gxd_child_stdio *io, gxd__child_fds *fds) {
  int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1}, rc = 0;
  if ((io->stdin_pipe && (rc = make_pipe(in, GXD_STDIN_PIPE_SIZE)) != 0) ||
      (io->stdout_pipe && (rc = make_pipe(o, GXD_PIPE_SIZE)) != 0) ||
      (io->stderr_mode == 1 && (rc = make_pipe(e, GXD_PIPE_SIZE)) != 0)) {
    close_distinct(in, 2);
    close_distinct(o, 2);
    close_distinct(e, 2);
    return rc;
  }
  *fds = (gxd__child_fds){
      .daemon = {in[1], o[0], e[0]},
      .launcher = {in[0], o[1], io->stderr_mode == 2 ? o[1] : e[1]}};
  return 0;
}

int gxd__child_start_fds(gxd_launcher *l, const gxl_run *run,
                         const gxl_request *req, const gxd__child_fds *fds,
                         const gxd_child_cbs *cbs, void *ud,
                         gxd_child **out) {
  int r[2] = {-1, -1}, rc = -ENOMEM;
  gxd_child *c = calloc(1, sizeof *c);
  if (!c) goto out_fds;
  if ((rc = make_pipe(r, 0)) != 0) goto out_free;
  gxd_launch_fds lf = {.stdin_fd = fds->launcher[0],
                       .stdout_fd = fds->launcher[1],
                       .stderr_fd = fds->launcher[2],
                       .report_fd = r[1]};
  c->loop = gxd_launcher_loop(l);
  c->launcher = l;
  c->run_id = run->run_id;
  c->cbs = *cbs;
  c->ud = ud;
  c->start_ns = uv_hrtime();
  if ((rc = gxd_launcher_spawn(l, run, req, &lf, on_reaped, c, &c->pid)) != 0)
    goto out_report;
  /* the launcher's ends now belong to the launcher */
  close_distinct(fds->launcher, 3);
  close(r[1]);
  open_channels(c, fds->daemon, r[0]);
  init_timers(c);
  *out = c; /* an early exit is reported later, on the loop */
  return 0;
out_report:
  close_distinct(r, 2);
out_free:
  free(c);
out_fds:
  close_distinct(fds->daemon, 3);
  close_distinct(fds->launcher, 3);
  return rc;
}

int gxd_child_start(gxd_launcher *l, const gxl_run *run,
                    const gxl_request *req, const gxd_child_stdio *io,
                    const gxd_child_cbs *cbs, void *ud, gxd_child **out) {
  gxd__child_fds fds;
  int rc = make_stdio(io, &fds);
  return rc != 0 ? rc : gxd__child_start_fds(l, run, req, &fds, cbs, ud, out);
}
