/*
 * `gexec run`: one remote run, two threads of ours (and libgexec's one).
 *
 *  - The main thread connects, starts the run on an event queue
 *    (gexec_proc_start_async), then polls the queue's fd and fd 0: it
 *    writes output to fd 1 / fd 2 with write(2) as it arrives, or
 *    captures it (bounded) for --json; and (unless -n) it reads fd 0 and
 *    sends it with gexec_proc_try_write, one message in flight: while
 *    the remote side does not read, the next is not read from fd 0
 *    (backpressure) and output keeps flowing. It reads up to 1 MiB (one
 *    message) at a time, coalescing what is ready (input.h), and raises
 *    the buffer of a pipe on fd 0 to 1 MiB so that the writer can run
 *    one message ahead. On EOF it calls gexec_proc_close_stdin.
 *  - The signal thread waits (sigwaitinfo) for SIGINT, SIGTERM and
 *    SIGHUP, blocked in every thread. The first is forwarded
 *    (gexec_proc_signal), the second cancels the run (gexec_proc_cancel)
 *    and gexec exits 128 + signal, a third exits at once. Before the run
 *    has started (connecting) and after it ended, a signal exits at once:
 *    dropping the connection makes the daemon kill anything it started.
 *    The main thread stops it with SIGRTMIN sent to it alone.
 *
 * Our stdout or stderr being a closed pipe (EPIPE; SIGPIPE is ignored)
 * cancels the run and exits 141, silently, as a shell reports a process
 * killed by SIGPIPE.
 */
#include "client/cli/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/exitcode.h"
#include "client/cli/input.h"
#include "client/cli/json_out.h"
#include "client/cli/teardown.h"
#include "client/cli/textsafe.h"
#include "client/gexec.h"

/* --json keeps at most this much of each stream. */
#define CAPTURE_MAX ((size_t)16 << 20)
/* Most bytes read from our stdin per gexec_proc_write: one message (the
 * library's limit, GEXEC_STDIN_CHUNK). Also the pipe size we ask for. */
#define STDIN_MAX ((size_t)1 << 20)

/* Where a failure happened, for its message. */
typedef enum { STAGE_CONNECT = 1, STAGE_START, STAGE_RUN } stage;

/* A bounded, growable capture buffer. */
typedef struct {
  uint8_t *buf;
  size_t len, alloc;
} capture;

typedef struct {
  const gxc_args *args;
  const char *target; /* given to gexec_connect; may be NULL */
  const char *shown;  /* the target as shown to people */
  const gexec_conn_opts *opts; /* TLS; borrowed */
  sigset_t sigs;      /* what the signal thread waits for */
  int stop_sig;       /* SIGRTMIN: main -> signal thread: return */
  gexec_conn *conn;
  gexec_proc *proc;
  uint32_t pid;
  uint64_t run_id;

  pthread_mutex_t lock; /* guards live, nsignals, cancel_sig, stopping */
  gexec_proc *live;     /* where signals go; NULL: none (exit at once) */
  int stopping;         /* the signal thread is asked to return */
  int nsignals;
  int cancel_sig;       /* the signal that cancelled the run, or 0 */
  int cancelled_by;     /* cancel_sig, read once the run is over */

  gexec_evq *q;         /* the run's events (main thread only) */
  gxc_input in;         /* fd 0, while forwarding */
  uint8_t *stdin_buf;   /* STDIN_MAX bytes read, waiting to be sent */
  size_t stdin_len, stdin_off;
  int stdin_open;       /* fd 0 is forwarded and not at EOF yet */
  int stdin_errno;      /* a read error on fd 0, reported as a warning */

  int rc;               /* GEXEC_OK, or how the run failed */
  stage failed_at;
  gexec_error err;
  int has_exit;
  gexec_exit exit;
  int out_errno;        /* writing our stdout or stderr failed */
  const char *out_name; /* "stdout" or "stderr", for that message */
  capture cap[2];       /* --json: stdout, stderr */
  int truncated;        /* --json: a capture hit CAPTURE_MAX */
} run_ctx;

/* ------------------------------------------------------------ output */

/* Waits until @p fd is writable (a non-blocking fd we inherited). */
static void wait_writable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

/* Writes all of @p data to @p fd. Returns 0 or an errno value. */
static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_writable(fd);
      continue;
    }
    if (n < 0) return errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Appends to a capture, up to CAPTURE_MAX; returns nonzero if cut. */
static int capture_add(capture *c, const uint8_t *data, size_t len) {
  size_t room = CAPTURE_MAX - c->len, take = len < room ? len : room;
  if (c->len + take > c->alloc) {
    size_t want = c->alloc ? c->alloc : 65536;
    while (want < c->len + take) want *= 2;
    if (want > CAPTURE_MAX) want = CAPTURE_MAX;
    uint8_t *nb = realloc(c->buf, want);
    if (!nb) return 1;
    c->buf = nb;
    c->alloc = want;
  }
  memcpy(c->buf + c->len, data, take);
  c->len += take;
  return take < len;
}

/* Delivers one chunk of output. Returns 0, or -1 when our side of the
 * stream is broken (c->out_errno set). */
static int deliver(run_ctx *c, const gexec_event *ev) {
  int i = ev->type == GEXEC_EV_STDERR;
  if (ev->type != GEXEC_EV_STDOUT && ev->type != GEXEC_EV_STDERR) return 0;
  if (c->args->json) {
    if (capture_add(&c->cap[i], ev->data, ev->len)) c->truncated = 1;
    return 0;
  }
  c->out_errno = write_all(i ? STDERR_FILENO : STDOUT_FILENO, ev->data,
                           ev->len);
  c->out_name = i ? "stderr" : "stdout";
  return c->out_errno ? -1 : 0;
}

/* -v: says which isolation is in force, as soon as the run started. */
static void report_isolation(const gexec_isolation *i) {
  if (!gxc_isolation_reported(i)) {
    fprintf(stderr, "gexec: isolation: none reported by the daemon\n");
    return;
  }
  if (i->description[0])
    fprintf(stderr, "gexec: isolation: %s\n", i->description);
  else
    fprintf(stderr, "gexec: isolation: profile %s\n",
            i->profile[0] ? i->profile : "(unnamed)");
}

/* ------------------------------------------------ events and stdin */

/* One thread follows the run: it polls the event queue's fd and fd 0,
 * takes the run's events (output is written as it comes: a slow stdout
 * holds the run back, not our memory) and sends what fd 0 has with
 * gexec_proc_try_write, one message of up to 1 MiB in flight; the next
 * is read once GEXEC_EV_WRITABLE says there is room. The signal thread
 * stays: a write to a stalled stdout blocks this one. */

/* Sends what is buffered; stops at GEXEC_EAGAIN (a WRITABLE event
 * follows) or when the run no longer takes input. */
static void push_stdin(run_ctx *c) {
  while (c->stdin_len > 0) {
    size_t n = 0;
    int rc = gexec_proc_try_write(c->proc, c->stdin_buf + c->stdin_off,
                                  c->stdin_len, &n, NULL);
    if (rc == GEXEC_EAGAIN) return;
    if (rc != GEXEC_OK) { /* the run ended: its end is reported */
      c->stdin_len = 0;
      c->stdin_open = 0;
      return;
    }
    c->stdin_off += n;
    c->stdin_len -= n;
  }
}

/* fd 0 is readable: reads up to a message, or ends the run's stdin. */
static void read_stdin(run_ctx *c) {
  ssize_t n = gxc_input_read(&c->in, c->stdin_buf, STDIN_MAX);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n < 0 && errno != EBADF) c->stdin_errno = errno;
  if (n <= 0) {
    c->stdin_open = 0;
    gexec_proc_close_stdin(c->proc, NULL);
    return;
  }
  c->stdin_off = 0;
  c->stdin_len = (size_t)n;
  push_stdin(c);
}

/* Handles one event; returns 1 once the run is over for us. */
static int on_event(run_ctx *c, const gexec_run_event *ev) {
  gexec_event out = {.type = ev->type, .data = ev->data, .len = ev->len};
  switch (ev->type) {
    case GEXEC_EV_STDOUT:
    case GEXEC_EV_STDERR:
      if (deliver(c, &out) == 0) return 0;
      gexec_proc_cancel(c->proc); /* our stdout is gone */
      return 1;
    case GEXEC_EV_WRITABLE: push_stdin(c); return 0;
    case GEXEC_EV_EXIT:
      c->has_exit = 1;
      c->exit = *ev->exit;
      return 1;
    case GEXEC_EV_ERROR:
      c->rc = ev->error->code;
      c->err = *ev->error;
      c->failed_at = STAGE_RUN;
      return 1;
    default: return 0;
  }
}

/* Takes every waiting event; returns 1 once the run is over for us. */
static int drain_events(run_ctx *c) {
  const gexec_run_event *ev;
  while (gexec_evq_next(c->q, &ev, 0, NULL) == GEXEC_OK)
    if (on_event(c, ev)) return 1;
  return 0;
}

/* Follows the run to its end (or until our output broke). */
static void follow(run_ctx *c) {
  for (;;) {
    int want_in = c->stdin_open && c->stdin_len == 0;
    struct pollfd p[2] = {{.fd = gexec_evq_fd(c->q), .events = POLLIN},
                          {.fd = STDIN_FILENO, .events = POLLIN}};
    if (poll(p, want_in ? 2 : 1, -1) < 0 && errno != EINTR) {
      c->rc = GEXEC_ENOMEM; /* poll(2) fails only without memory */
      snprintf(c->err.message, sizeof c->err.message, "poll: %s",
               strerror(errno));
      c->failed_at = STAGE_RUN;
      return;
    }
    if (drain_events(c)) return;
    if (want_in && p[1].revents) read_stdin(c);
  }
}

/* ----------------------------------------------------- signal thread */

static void set_live(run_ctx *c, gexec_proc *p) {
  pthread_mutex_lock(&c->lock);
  c->live = p;
  pthread_mutex_unlock(&c->lock);
}

/* Handles one of SIGINT, SIGTERM, SIGHUP (see the top of the file). */
static void on_signal(run_ctx *c, int sig) {
  pthread_mutex_lock(&c->lock);
  int n = ++c->nsignals;
  gexec_proc *p = c->live;
  if (p && n == 1) gexec_proc_signal(p, sig, NULL);
  if (p && n == 2) {
    c->cancel_sig = sig;
    gexec_proc_cancel(p);
  }
  pthread_mutex_unlock(&c->lock);
  if (!p || n > 2) _exit(GXC_EXIT_SIGNAL_BASE + sig);
}

/* Tells whether the signal thread is asked to return. */
static int stopping(run_ctx *c) {
  pthread_mutex_lock(&c->lock);
  int stop = c->stopping;
  pthread_mutex_unlock(&c->lock);
  return stop;
}

/* Takes our signals until stop_signals asks it to return. A stop signal
 * from outside (kill -s RTMIN) before that is ignored. */
static void *signal_main(void *arg) {
  run_ctx *c = arg;
  for (;;) {
    int sig = sigwaitinfo(&c->sigs, NULL);
    if (sig == c->stop_sig && stopping(c)) return NULL;
    if (sig > 0 && sig != c->stop_sig) on_signal(c, sig);
  }
}

static int cancel_signal(run_ctx *c) {
  pthread_mutex_lock(&c->lock);
  int sig = c->cancel_sig;
  pthread_mutex_unlock(&c->lock);
  return sig;
}

/* ------------------------------------------------------------ the run */

void gxc_build_spec(const gxc_args *a, gexec_spec *s) {
  memset(s, 0, sizeof *s);
  s->size = sizeof *s;
  s->argv = (const char *const *)a->prog;
  s->env = a->nenv ? a->env : NULL;
  s->cwd = a->cwd;
  s->timeout_ms = a->timeout_ms;
  s->kill_grace_ms = a->kill_grace_ms;
  s->stdin_null = a->stdin_null;
  s->stdout_mode = GEXEC_OUT_PIPE;
  s->stderr_mode = a->merge_stderr ? GEXEC_OUT_MERGE : GEXEC_OUT_PIPE;
  s->profile = a->profile;
  s->user = a->user;
  s->memory_bytes = a->memory_bytes;
  s->pids = a->pids;
  s->cpu_time_ms = a->cpu_time_ms;
  s->open_files = a->open_files;
}

/* Waits for the run's first event: GEXEC_EV_STARTED, or GEXEC_EV_ERROR
 * (refused; c->rc, c->err set). Returns 0 once started. */
static int wait_started(run_ctx *c) {
  const gexec_run_event *ev;
  c->rc = gexec_evq_next(c->q, &ev, -1, &c->err);
  if (c->rc == GEXEC_OK && ev->type == GEXEC_EV_STARTED) return 0;
  if (c->rc == GEXEC_OK && ev->type == GEXEC_EV_ERROR) {
    c->rc = ev->error->code;
    c->err = *ev->error;
  } else if (c->rc == GEXEC_OK) {
    c->rc = GEXEC_ESTATUS;
    snprintf(c->err.message, sizeof c->err.message,
             "protocol error: event %d before started", (int)ev->type);
  }
  return -1;
}

/* Connects and starts the run; returns 0 or -1 (c->rc, c->err set). */
static int start(run_ctx *c) {
  gexec_spec spec;
  c->rc = gexec_connect(c->target, c->opts, &c->conn, &c->err);
  if (c->rc != GEXEC_OK) return c->failed_at = STAGE_CONNECT, -1;
  gxc_build_spec(c->args, &spec);
  c->rc = gexec_evq_new(&c->q, &c->err);
  if (c->rc == GEXEC_OK)
    c->rc = gexec_proc_start_async(c->conn, &spec, c->q, NULL, &c->proc,
                                   &c->err);
  if (c->rc != GEXEC_OK || wait_started(c) != 0)
    return c->failed_at = STAGE_START, -1;
  c->pid = gexec_proc_pid(c->proc);
  c->run_id = gexec_proc_run_id(c->proc);
  if (c->args->verbose) report_isolation(gexec_proc_isolation(c->proc));
  return 0;
}

/* Streams a started run to its end. */
static void stream(run_ctx *c) {
  set_live(c, c->proc);
  if (!c->args->stdin_null) {
    c->stdin_buf = malloc(STDIN_MAX);
    if (c->stdin_buf) {
      gxc_input_init(&c->in, STDIN_FILENO);
      (void)gxc_input_grow_pipe(STDIN_FILENO, STDIN_MAX);
      c->stdin_open = 1;
    } else {
      fprintf(stderr, "gexec: cannot forward stdin: out of memory\n");
      gexec_proc_close_stdin(c->proc, NULL);
    }
  }
  follow(c);
  set_live(c, NULL);
  if (!c->has_exit) gexec_proc_cancel(c->proc);
  free(c->stdin_buf);
  c->stdin_buf = NULL;
}

/* ----------------------------------------------------------- results */

static const char *reason(const run_ctx *c) {
  return c->err.message[0] ? c->err.message : gexec_strerror(c->rc);
}

/* Rewrites c->err into the one-line reason shown for the failure, so
 * that stderr and the JSON "error" say the same. */
static void explain(run_ctx *c) {
  char msg[sizeof c->err.message];
  const char *prog = c->args->prog[0];
  if (c->cancelled_by) {
    c->rc = GEXEC_ESTATUS;
    c->err.code = GEXEC_ESTATUS;
    c->err.status = GEXEC_STATUS_CANCELLED;
    snprintf(msg, sizeof msg, "run of '%.100s' cancelled by a second SIG%s",
             prog, sigabbrev_np(c->cancelled_by));
  } else if (c->failed_at == STAGE_CONNECT) {
    snprintf(msg, sizeof msg, "cannot connect to %.140s: %.350s", c->shown,
             gxc_strip_target(reason(c), c->shown));
  } else if (c->failed_at == STAGE_START) {
    snprintf(msg, sizeof msg, "%s", reason(c));
  } else {
    snprintf(msg, sizeof msg, "run of '%.100s' failed: %.350s", prog,
             reason(c));
  }
  memcpy(c->err.message, msg, sizeof msg);
}

static int exit_status(const run_ctx *c) {
  if (c->cancelled_by) return GXC_EXIT_SIGNAL_BASE + c->cancelled_by;
  if (c->out_errno == EPIPE) return GXC_EXIT_EPIPE;
  if (c->out_errno) return GXC_EXIT_ERROR;
  if (c->rc != GEXEC_OK && c->failed_at == STAGE_RUN) return GXC_EXIT_ERROR;
  if (c->rc != GEXEC_OK) return gxc_exit_from_error(c->rc, &c->err);
  if (c->has_exit) return gxc_exit_from_exit(&c->exit);
  return GXC_EXIT_ERROR;
}

/* Prints the one-line reasons and warnings on stderr. */
static void report(const run_ctx *c) {
  char safe[4 * sizeof c->err.message]; /* the daemon's words: escaped */
  if (c->rc != GEXEC_OK)
    fprintf(stderr, "gexec: %s\n",
            gxc_text_safe(c->err.message, safe, sizeof safe));
  if (c->out_errno && c->out_errno != EPIPE)
    fprintf(stderr, "gexec: cannot write to %s: %s\n", c->out_name,
            strerror(c->out_errno));
  if (c->stdin_errno)
    fprintf(stderr, "gexec: warning: reading stdin failed (%s); sent EOF\n",
            strerror(c->stdin_errno));
  if (!c->args->json && c->has_exit && c->exit.output_truncated)
    fprintf(stderr, "gexec: warning: the daemon truncated the output\n");
  if (!c->args->json && c->has_exit && c->exit.oom_killed)
    fprintf(stderr, "gexec: killed by the memory limit (OOM)\n");
}

/* Prints the --json object; returns the exit status to use. */
static int print_json(const run_ctx *c, int status) {
  gxc_json_run r = {
      .target = c->shown, .argv = (const char *const *)c->args->prog,
      .has_exit = c->has_exit, .exit = c->exit, .pid = c->pid,
      .run_id = c->run_id,
      .out = c->cap[0].buf, .out_len = c->cap[0].len,
      .err = c->cap[1].buf, .err_len = c->cap[1].len,
      .capture_truncated = c->truncated,
      .rc = c->rc, .error = &c->err};
  json_object *obj = gxc_json_build(&r);
  if (!obj) {
    fprintf(stderr, "gexec: out of memory building the JSON output\n");
    return GXC_EXIT_ERROR;
  }
  size_t len = 0;
  const char *text = gxc_json_text(obj, &len);
  int e = text ? write_all(STDOUT_FILENO, text, len) : ENOMEM;
  if (e == 0) e = write_all(STDOUT_FILENO, "\n", 1);
  json_object_put(obj);
  if (e == EPIPE) return GXC_EXIT_EPIPE;
  if (e) fprintf(stderr, "gexec: cannot write to stdout: %s\n", strerror(e));
  return e ? GXC_EXIT_ERROR : status;
}

/* Blocks our three signals and the stop signal, and starts the thread
 * that takes them. */
static int start_signals(run_ctx *c, pthread_t *th) {
  c->stop_sig = SIGRTMIN;
  sigemptyset(&c->sigs);
  sigaddset(&c->sigs, SIGINT);
  sigaddset(&c->sigs, SIGTERM);
  sigaddset(&c->sigs, SIGHUP);
  sigaddset(&c->sigs, c->stop_sig);
  pthread_sigmask(SIG_BLOCK, &c->sigs, NULL);
  int e = pthread_create(th, NULL, signal_main, c);
  if (e != 0)
    fprintf(stderr, "gexec: cannot start a thread: %s\n", strerror(e));
  return e;
}

/* Stops the signal thread; our signals stay blocked until we exit. Not
 * with pthread_cancel: glibc's cancellation loads libgcc_s.so (dlopen)
 * for its unwinder, ~1 ms at the end of every run. */
static void stop_signals(run_ctx *c, pthread_t th) {
  pthread_mutex_lock(&c->lock);
  c->stopping = 1;
  pthread_mutex_unlock(&c->lock);
  pthread_kill(th, c->stop_sig);
  pthread_join(th, NULL);
}

/* Ends the remote side: frees the run (cancelling it if still going);
 * the connection is closed by the end of the process (teardown.h). */
static void release_remote(run_ctx *c) {
  if (c->proc) gexec_proc_free(c->proc);
  gexec_evq_free(c->q); /* after its run */
  gxc_conn_release(c->conn);
  c->proc = NULL;
  c->q = NULL;
  c->conn = NULL;
}

int gxc_run(const gxc_args *a, const char *target, const char *shown,
            const gexec_conn_opts *opts) {
  run_ctx c;
  pthread_t sig_thread;
  memset(&c, 0, sizeof c);
  c.args = a;
  c.target = target;
  c.shown = shown;
  c.opts = opts;
  pthread_mutex_init(&c.lock, NULL);
  if (start_signals(&c, &sig_thread) != 0) return GXC_EXIT_ERROR;
  if (start(&c) == 0) stream(&c);
  c.cancelled_by = cancel_signal(&c);
  release_remote(&c);
  int status = exit_status(&c);
  if (c.rc != GEXEC_OK || c.cancelled_by) explain(&c);
  report(&c);
  if (a->json) status = print_json(&c, status);
  stop_signals(&c, sig_thread);
  free(c.cap[0].buf);
  free(c.cap[1].buf);
  pthread_mutex_destroy(&c.lock);
  return status;
}
