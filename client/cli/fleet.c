/* The fleet driver: see fleet.h. One thread of ours follows every host
 * through one event queue; a second only takes signals (as in run.c). */
#include "client/cli/fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "client/cli/exitcode.h"
#include "client/cli/fleet_report.h"
#include "client/cli/teardown.h"

/* Connections of ended hosts left open (closing costs ~1 ms each; the
 * process's end closes them) up to this many; past it each is closed. */
#define LINGER_MAX 512
/* Progress: first after 1 s, then every PROGRESS_MS. */
#define PROGRESS_FIRST_US 1000000
#define PROGRESS_MS 500

int64_t gxc_fleet_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------ signals */

/* The signal thread: the first two of SIGINT, SIGTERM, SIGHUP go to the
 * main thread through a pipe; a third ends the process at once. */
typedef struct {
  sigset_t sigs;
  int stop_sig;
  int wfd;
  pthread_mutex_t lock;
  int stopping, nsignals;
} sig_ctx;

static void *signal_main(void *arg) {
  sig_ctx *s = arg;
  for (;;) {
    int sig = sigwaitinfo(&s->sigs, NULL);
    if (sig <= 0) continue;
    pthread_mutex_lock(&s->lock);
    int stop = s->stopping, n = sig == s->stop_sig ? 0 : ++s->nsignals;
    pthread_mutex_unlock(&s->lock);
    if (sig == s->stop_sig && stop) return NULL;
    if (n > 2) _exit(GXC_EXIT_SIGNAL_BASE + sig);
    unsigned char b = (unsigned char)sig;
    if (n > 0 && write(s->wfd, &b, 1) < 0) _exit(GXC_EXIT_SIGNAL_BASE + sig);
  }
}

static int start_signals(sig_ctx *s, int *rfd, pthread_t *th) {
  int p[2];
  if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return errno;
  s->wfd = p[1];
  *rfd = p[0];
  s->stop_sig = SIGRTMIN;
  pthread_mutex_init(&s->lock, NULL);
  sigemptyset(&s->sigs);
  sigaddset(&s->sigs, SIGINT);
  sigaddset(&s->sigs, SIGTERM);
  sigaddset(&s->sigs, SIGHUP);
  sigaddset(&s->sigs, s->stop_sig);
  pthread_sigmask(SIG_BLOCK, &s->sigs, NULL);
  return pthread_create(th, NULL, signal_main, s);
}

static void stop_signals(sig_ctx *s, pthread_t th, int rfd) {
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  pthread_mutex_unlock(&s->lock);
  pthread_kill(th, s->stop_sig);
  pthread_join(th, NULL);
  close(s->wfd);
  close(rfd);
  pthread_mutex_destroy(&s->lock);
}

/* ------------------------------------------------------------ targets */

static int expand(gxc_fleet *f, char *why, size_t len) {
  const gxc_args *a = f->a;
  gxc_targets_ctx ctx = {.groups_file = a->groups_file};
  gxc_target_list excl = {0};
  int rc = 0;
  char item[900];
  for (size_t i = 0; i < a->nw && rc == 0; i++)
    if ((rc = gxc_targets_parse(a->wtargets[i], &ctx, &f->targets, item,
                                sizeof item)) != 0)
      snprintf(why, len, "-w %s", item);
  for (size_t i = 0; i < a->nx && rc == 0; i++)
    if ((rc = gxc_targets_parse(a->xtargets[i], &ctx, &excl, item,
                                sizeof item)) != 0)
      snprintf(why, len, "-x %s", item);
  if (rc == 0) gxc_targets_exclude(&f->targets, &excl);
  gxc_targets_free(&excl);
  if (rc == 0 && f->targets.n == 0) {
    snprintf(why, len, "no targets left (every one was excluded)");
    rc = -1;
  }
  return rc;
}

/* --outdir: two targets whose files would be the same are refused
 * before anything runs (the second host's files overwrote the first's). */
static int check_stems(gxc_fleet *f, char *why, size_t len) {
  size_t a = 0, b = 0;
  int rc = gxc_targets_stem_clash(&f->targets, &a, &b);
  if (rc < 0) snprintf(why, len, "out of memory");
  if (rc > 0) {
    char stem[256];
    gxc_target_file_stem(f->targets.v[a].name, stem, sizeof stem);
    snprintf(why, len, "--outdir: targets '%.200s' and '%.200s' would both "
             "write %.200s.out, .err and .json", f->targets.v[a].name,
             f->targets.v[b].name, stem);
  }
  return rc != 0 ? -1 : 0;
}

static int make_hosts(gxc_fleet *f) {
  f->n = f->targets.n;
  f->hosts = calloc(f->n, sizeof *f->hosts);
  if (!f->hosts) return -1;
  for (size_t i = 0; i < f->n; i++) {
    gxc_host *h = &f->hosts[i];
    h->index = i;
    h->name = f->targets.v[i].name;
    h->address = f->targets.v[i].address;
    h->out_fd[0] = h->out_fd[1] = -1;
  }
  return 0;
}

/* -------------------------------------------------------- host states */

void gxc_fleet_end(gxc_fleet *f, gxc_host *h) {
  if (h->proc) gexec_proc_free(h->proc);
  h->proc = NULL;
  if (h->conn && (GXC_FULL_TEARDOWN || f->open_conns >= LINGER_MAX))
    gexec_conn_close(h->conn);
  else if (h->conn)
    f->open_conns++;
  h->conn = NULL;
  if (h->state == GXC_HOST_CALLING || h->state == GXC_HOST_RUNNING)
    f->active--;
  h->state = GXC_HOST_DONE;
  h->t_end_us = gxc_fleet_now_us();
  f->ndone++;
  if (f->kind->on_end) f->kind->on_end(f, h);
}

void gxc_fleet_fail(gxc_fleet *f, gxc_host *h, gxc_outcome o,
                    const char *why) {
  gexec_error e = {.code = GEXEC_ECONNECT};
  snprintf(e.message, sizeof e.message, "%s", why);
  gxc_host_set_error(h, o == GXC_OUTCOME_UNREACHABLE ? GEXEC_ECONNECT
                                                      : GEXEC_ESTATUS,
                     &e, h->state == GXC_HOST_RUNNING);
  h->outcome = o;
  if (o != GXC_OUTCOME_UNREACHABLE) h->err.status = GEXEC_STATUS_CANCELLED;
  gxc_fleet_end(f, h);
}

/* The timeout to send: min(-t, time left); 0 = none. Returns -1 when
 * the deadline has passed. */
static int64_t run_timeout(const gxc_fleet *f, int64_t now) {
  uint64_t t = f->a->timeout_ms;
  if (!f->deadline_us) return (int64_t)t;
  int64_t left = (f->deadline_us - now) / 1000;
  if (left <= 0) return -1;
  return t && (int64_t)t < left ? (int64_t)t : left;
}

static void start_host(gxc_fleet *f, gxc_host *h) {
  gexec_error err = {0};
  int64_t now = gxc_fleet_now_us(), t = run_timeout(f, now);
  if (t < 0) {
    gxc_fleet_fail(f, h, GXC_OUTCOME_UNREACHABLE,
                   "not started before the deadline");
    return;
  }
  h->t_start_us = now;
  h->timeout_ms = (uint64_t)t;
  int rc = gexec_connect(h->address, f->opts, &h->conn, &err);
  if (rc == GEXEC_OK) rc = f->kind->start(f, h, h->timeout_ms, &err);
  if (rc != GEXEC_OK) {
    gxc_host_set_error(h, rc, &err, 0);
    gxc_fleet_end(f, h);
    return;
  }
  h->state = GXC_HOST_CALLING;
  f->active++;
}

static void fill_slots(gxc_fleet *f) {
  while (!f->interrupted && f->active < f->a->fanout && f->next < f->n)
    start_host(f, &f->hosts[f->next++]);
  while (f->interrupted && f->next < f->n)
    gxc_fleet_fail(f, &f->hosts[f->next++], GXC_OUTCOME_FAILED,
                   "not started: interrupted");
}

/* ------------------------------------------------------------- events */

static void on_event(gxc_fleet *f, const gexec_run_event *ev) {
  gxc_host *h = ev->user_data;
  switch (ev->type) {
    case GEXEC_EV_STARTED:
      h->state = GXC_HOST_RUNNING;
      h->pid = gexec_proc_pid(h->proc);
      h->run_id = gexec_proc_run_id(h->proc);
      snprintf(h->identity, sizeof h->identity, "%s",
               gexec_proc_server_identity(h->proc));
      h->stdin_progress_us = gxc_fleet_now_us();
      break;
    case GEXEC_EV_EXIT:
      gxc_host_set_exit(h, ev->exit);
      gxc_fleet_end(f, h);
      return;
    case GEXEC_EV_ERROR: {
      gexec_error e = *ev->error;
      snprintf(e.message, sizeof e.message, "%s",
               gxc_strip_target(ev->error->message, h->address));
      gxc_host_set_error(h, e.code, &e, h->state == GXC_HOST_RUNNING);
      gxc_fleet_end(f, h);
      return;
    }
    default: break;
  }
  if (f->kind->on_event) f->kind->on_event(f, h, ev);
}

static void drain(gxc_fleet *f) {
  const gexec_run_event *ev;
  while (gexec_evq_next(f->q, &ev, 0, NULL) == GEXEC_OK) on_event(f, ev);
}

/* ----------------------------------------------------------- deadline */

static void check_deadline(gxc_fleet *f, int64_t now) {
  if (!f->deadline_us || now < f->deadline_us) return;
  int64_t late = f->deadline_us +
                 ((int64_t)GXC_FLEET_LATE_MS + f->a->kill_grace_ms) * 1000;
  for (size_t i = 0; i < f->next; i++) {
    gxc_host *h = &f->hosts[i];
    if (h->state == GXC_HOST_CALLING)
      gxc_fleet_fail(f, h, GXC_OUTCOME_UNREACHABLE,
                     "still connecting at the deadline");
    else if (h->state == GXC_HOST_RUNNING && now >= late)
      gxc_fleet_fail(f, h, GXC_OUTCOME_FAILED,
                     "no answer from the daemon after the deadline: "
                     "cancelled");
  }
}

/* A host whose run was sent a timeout and whose daemon has not reported
 * its end GXC_FLEET_LATE_MS after it (plus the kill grace) is cancelled,
 * with or without --deadline: a daemon that takes the call and never
 * answers must not hold the fleet run forever. */
static void check_late(gxc_fleet *f, int64_t now) {
  for (size_t i = 0; i < f->next; i++) {
    gxc_host *h = &f->hosts[i];
    if ((h->state != GXC_HOST_CALLING && h->state != GXC_HOST_RUNNING) ||
        !h->timeout_ms)
      continue;
    int64_t late = h->t_start_us + ((int64_t)h->timeout_ms + GXC_FLEET_LATE_MS +
                                    f->a->kill_grace_ms) * 1000;
    if (now >= late)
      gxc_fleet_fail(f, h, GXC_OUTCOME_FAILED, "no answer from the daemon "
                     "after the run's timeout: cancelled");
  }
}

/* ------------------------------------------------------------ signals */

/* Cancels every host that is calling or running, and starts no more. */
static void stop_all(gxc_fleet *f, const char *why) {
  f->interrupted = f->interrupted ? f->interrupted : SIGPIPE;
  for (size_t j = 0; j < f->next; j++)
    if (f->hosts[j].state == GXC_HOST_CALLING ||
        f->hosts[j].state == GXC_HOST_RUNNING)
      gxc_fleet_fail(f, &f->hosts[j], GXC_OUTCOME_FAILED, why);
}

static void on_signals(gxc_fleet *f) {
  unsigned char b[8];
  ssize_t k;
  while ((k = read(f->sig_fd, b, sizeof b)) > 0) {
    for (ssize_t i = 0; i < k; i++) {
      if (!f->interrupted) {
        f->interrupted = b[i];
        for (size_t j = 0; j < f->next; j++)
          if (f->hosts[j].proc) gexec_proc_signal(f->hosts[j].proc, b[i], NULL);
      } else if (!f->cancel_sig) {
        f->cancel_sig = b[i];
      }
    }
  }
  if (!f->cancel_sig) return;
  char what[64];
  snprintf(what, sizeof what, "cancelled by a second SIG%s",
           sigabbrev_np(f->cancel_sig));
  stop_all(f, what);
}

/* ----------------------------------------------------------- progress */

void gxc_fleet_clear_progress(gxc_fleet *f) {
  if (!f->progress_shown) return;
  gxc_out_flush(&f->err);
  gxc_write_all(STDERR_FILENO, "\r\033[K", 4);
  f->progress_shown = 0;
}

static void show_progress(gxc_fleet *f, int64_t now) {
  if (!f->tty || now - f->t0_us < PROGRESS_FIRST_US ||
      now < f->next_progress_us)
    return;
  f->next_progress_us = now + PROGRESS_MS * 1000;
  size_t failed = 0, slow[3];
  int nslow = 0;
  for (size_t i = 0; i < f->n; i++) {
    const gxc_host *h = &f->hosts[i];
    if (h->state == GXC_HOST_DONE && h->outcome != GXC_OUTCOME_OK) failed++;
    if (h->state != GXC_HOST_CALLING && h->state != GXC_HOST_RUNNING)
      continue;
    /* keep the three that started first, oldest first */
    int k = nslow < 3 ? nslow++ : 3;
    while (k > 0 && h->t_start_us < f->hosts[slow[k - 1]].t_start_us) {
      if (k < 3) slow[k] = slow[k - 1];
      k--;
    }
    if (k < 3) slow[k] = i;
  }
  char line[512];
  int len = snprintf(line, sizeof line, "\rgexec: %zu/%zu done, %zu failed",
                     f->ndone, f->n, failed);
  for (int k = 0; k < nslow && len < (int)sizeof line - 80; k++)
    len += snprintf(line + len, sizeof line - (size_t)len, "%s%.40s (%llds)",
                    k ? ", " : "; slowest: ", f->hosts[slow[k]].name,
                    (long long)((now - f->hosts[slow[k]].t_start_us) /
                                1000000));
  if (len > (int)sizeof line - 4) len = (int)sizeof line - 4;
  memcpy(line + len, "\033[K", 3);
  gxc_out_flush(&f->out);
  gxc_out_flush(&f->err);
  gxc_write_all(STDERR_FILENO, line, (size_t)len + 3);
  f->progress_shown = 1;
}

/* --------------------------------------------------------------- loop */

/* How long poll may sleep: until the deadline, the next progress line,
 * or 1 s (stdin timeouts, late daemons), whichever is first. */
static int poll_ms(const gxc_fleet *f, int64_t now) {
  int64_t ms = 1000;
  if (f->deadline_us && f->deadline_us > now &&
      (f->deadline_us - now) / 1000 + 1 < ms)
    ms = (f->deadline_us - now) / 1000 + 1;
  if (f->tty && f->progress_shown &&
      (f->next_progress_us - now) / 1000 + 1 < ms)
    ms = (f->next_progress_us - now) / 1000 + 1;
  return ms < 1 ? 1 : (int)ms;
}

static void loop(gxc_fleet *f) {
  for (;;) {
    fill_slots(f);
    if (f->ndone == f->n) return;
    gxc_out_flush(&f->out);
    gxc_out_flush(&f->err);
    int64_t now = gxc_fleet_now_us();
    struct pollfd p[2] = {{.fd = gexec_evq_fd(f->q), .events = POLLIN},
                          {.fd = f->sig_fd, .events = POLLIN}};
    poll(p, 2, poll_ms(f, now));
    drain(f);
    on_signals(f);
    now = gxc_fleet_now_us();
    check_deadline(f, now);
    check_late(f, now);
    for (size_t i = 0; f->kind->tick && i < f->next; i++)
      if (f->hosts[i].state == GXC_HOST_RUNNING)
        f->kind->tick(f, &f->hosts[i], now);
    if (f->out.err && !f->cancel_sig) stop_all(f, "our stdout is closed");
    show_progress(f, now);
  }
}

/* ---------------------------------------------------------------- main */

static int finish(gxc_fleet *f) {
  int64_t wall = gxc_fleet_now_us() - f->t0_us;
  gxc_fleet_clear_progress(f);
  int status = f->kind->report(f, wall);
  gxc_out_flush(&f->out);
  /* a closed stdout (| head) ends us silently, as SIGPIPE would */
  if (f->out.err == EPIPE && !f->cancel_sig) return GXC_EXIT_EPIPE;
  gxc_fleet_summary(f->hosts, f->n, &f->err);
  gxc_out_flush(&f->err);
  if (f->cancel_sig) return GXC_EXIT_SIGNAL_BASE + f->cancel_sig;
  if (f->out.err) {
    fprintf(stderr, "gexec: cannot write to stdout: %s\n",
            strerror(f->out.err));
    return GXC_EXIT_ERROR;
  }
  return status;
}

static void release(gxc_fleet *f) {
  for (size_t i = 0; i < f->n; i++) {
    gxc_host *h = &f->hosts[i];
    if (h->proc) gexec_proc_free(h->proc);
    if (h->conn) gexec_conn_close(h->conn);
    gxc_host_release(h);
  }
  free(f->hosts);
  gexec_evq_free(f->q);
  gxc_targets_free(&f->targets);
  gxc_out_free(&f->out);
  gxc_out_free(&f->err);
  free(f->spool);
}

/* Reads all of our stdin into the spool (--stdin). */
static int read_spool(gxc_fleet *f, char *why, size_t len) {
  size_t cap = 0;
  for (;;) {
    if (f->spool_len == cap) {
      size_t want = cap ? cap * 2 : 65536;
      if (want > GXC_FLEET_STDIN_MAX + 1) want = GXC_FLEET_STDIN_MAX + 1;
      uint8_t *nb = want > cap ? realloc(f->spool, want) : NULL;
      if (!nb) {
        snprintf(why, len, "--stdin: our stdin is larger than %zu MiB "
                 "(the --stdin limit)", GXC_FLEET_STDIN_MAX >> 20);
        return -1;
      }
      f->spool = nb;
      cap = want;
    }
    ssize_t k = read(STDIN_FILENO, f->spool + f->spool_len, cap - f->spool_len);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN) {
      struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
      poll(&p, 1, -1);
      continue;
    }
    if (k < 0) {
      snprintf(why, len, "--stdin: reading stdin: %s", strerror(errno));
      return -1;
    }
    if (k == 0) return 0;
    f->spool_len += (size_t)k;
  }
}

/* A host holds a socket (and with --outdir two files while it runs), and
 * up to LINGER_MAX ended ones keep theirs: the soft descriptor limit is
 * raised to the hard one, so a large fleet does not fail with EMFILE. */
static void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

static int setup(gxc_fleet *f, gexec_conn_opts *opts) {
  char why[1024];
  gexec_error err;
  raise_nofile();
  gexec_conn_opts_set_lazy(opts, 1);
  if (f->a->connect_timeout_ms)
    gexec_conn_opts_set_connect_timeout(opts,
                                        (int64_t)f->a->connect_timeout_ms);
  if (expand(f, why, sizeof why) != 0) {
    fprintf(stderr, "gexec: %s\n", why);
    return GXC_EXIT_USAGE;
  }
  if (f->a->outdir && check_stems(f, why, sizeof why) != 0) {
    fprintf(stderr, "gexec: %s\n", why);
    return GXC_EXIT_USAGE;
  }
  if (f->a->outdir &&
      gxc_fleet_make_outdir(f->a->outdir, why, sizeof why) != 0) {
    fprintf(stderr, "gexec: %s\n", why);
    return GXC_EXIT_ERROR;
  }
  if (f->a->send_stdin && read_spool(f, why, sizeof why) != 0) {
    fprintf(stderr, "gexec: %s\n", why);
    return GXC_EXIT_ERROR;
  }
  if (make_hosts(f) != 0 || gexec_evq_new(&f->q, &err) != GEXEC_OK) {
    fprintf(stderr, "gexec: out of memory\n");
    return GXC_EXIT_ERROR;
  }
  return 0;
}

int gxc_fleet_main(const gxc_args *a, gexec_conn_opts *opts,
                   const gxc_fleet_kind *kind) {
  gxc_fleet f;
  sig_ctx sigs;
  pthread_t th;
  memset(&f, 0, sizeof f);
  memset(&sigs, 0, sizeof sigs);
  f.a = a;
  f.opts = opts;
  f.kind = kind;
  f.out.fd = STDOUT_FILENO;
  f.err.fd = STDERR_FILENO;
  f.tty = isatty(STDERR_FILENO);
  f.t0_us = gxc_fleet_now_us();
  if (a->deadline_ms) f.deadline_us = f.t0_us + (int64_t)a->deadline_ms * 1000;
  int status = setup(&f, opts);
  if (status == 0 && start_signals(&sigs, &f.sig_fd, &th) != 0) {
    fprintf(stderr, "gexec: cannot start a thread\n");
    status = GXC_EXIT_ERROR;
  } else if (status == 0) {
    loop(&f);
    status = finish(&f);
    stop_signals(&sigs, th, f.sig_fd);
  }
  release(&f);
  return status;
}
