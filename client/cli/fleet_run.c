/* `gexec run -w`: the run kind of the fleet driver (fleet.h).
 *
 * Output goes where the mode says: live (each line prefixed with its
 * host, on the stream it came on), or captured (-b, --json) up to
 * GXC_FLEET_CAPTURE_MAX per stream; --outdir also writes each host's
 * streams to its files as they arrive, and its JSON object at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli/exitcode.h"
#include "client/cli/fleet.h"
#include "client/cli/fleet_report.h"
#include "client/cli/json_out.h"
#include "client/cli/run.h"

static int live(const gxc_fleet *f) { return !f->a->gather && !f->a->json; }

static int capturing(const gxc_fleet *f) {
  return f->a->gather || f->a->json || f->a->outdir;
}

/* ------------------------------------------------------------- outdir */

/* DIR/STEM.EXT into @p buf. */
static void outdir_path(const gxc_fleet *f, const gxc_host *h, const char *ext,
                        char *buf, size_t len) {
  char stem[256];
  gxc_target_file_stem(h->name, stem, sizeof stem);
  snprintf(buf, len, "%s/%s.%s", f->a->outdir, stem, ext);
}

static int open_out(const gxc_fleet *f, const gxc_host *h, const char *ext,
                    gexec_error *err) {
  char path[4096 + 300];
  outdir_path(f, h, ext, path, sizeof path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                0644);
  if (fd < 0) {
    err->code = GEXEC_EINVAL;
    snprintf(err->message, sizeof err->message, "--outdir: %.300s: %s", path,
             strerror(errno));
  }
  return fd;
}

/* Writes to a host's file; a failure is reported once, at the end. */
static void to_file(gxc_host *h, int i, const uint8_t *data, size_t len) {
  if (h->out_fd[i] >= 0 && gxc_write_all(h->out_fd[i], data, len) != 0) {
    close(h->out_fd[i]);
    h->out_fd[i] = -2; /* failed */
  }
}

/* ---------------------------------------------------------------- start */

static int start(gxc_fleet *f, gxc_host *h, uint64_t timeout_ms,
                 gexec_error *err) {
  gexec_spec spec;
  gxc_build_spec(f->a, &spec);
  spec.timeout_ms = timeout_ms;
  spec.stdin_null = !f->a->send_stdin;
  if (f->a->outdir) {
    if ((h->out_fd[0] = open_out(f, h, "out", err)) < 0 ||
        (h->out_fd[1] = open_out(f, h, "err", err)) < 0)
      return GEXEC_EINVAL;
  }
  return gexec_proc_start_async(h->conn, &spec, f->q, h, &h->proc, err);
}

/* --------------------------------------------------------------- stdin */

/* Sends what the run has not taken of the spool; closes its stdin at the
 * end. Stops at GEXEC_EAGAIN (a WRITABLE event follows). */
static void push_stdin(gxc_fleet *f, gxc_host *h, int64_t now) {
  while (!h->stdin_closed && h->stdin_off < f->spool_len) {
    size_t n = 0;
    int rc = gexec_proc_try_write(h->proc, f->spool + h->stdin_off,
                                  f->spool_len - h->stdin_off, &n, NULL);
    if (rc == GEXEC_EAGAIN) return;
    if (rc != GEXEC_OK) { /* the run ended: its end is reported */
      h->stdin_closed = 1;
      return;
    }
    h->stdin_off += n;
    h->stdin_progress_us = now;
  }
  if (!h->stdin_closed) {
    h->stdin_closed = 1;
    gexec_proc_close_stdin(h->proc, NULL);
  }
}

static void tick(gxc_fleet *f, gxc_host *h, int64_t now) {
  uint64_t t = f->a->stdin_timeout_ms;
  if (!f->a->send_stdin || h->stdin_closed || !t ||
      now - h->stdin_progress_us < (int64_t)t * 1000)
    return;
  char why[200];
  snprintf(why, sizeof why,
           "stdin: the run took none of its input for %llu ms (%zu of %zu "
           "bytes sent): cut off",
           (unsigned long long)t, h->stdin_off, f->spool_len);
  gxc_fleet_fail(f, h, GXC_OUTCOME_FAILED, why);
}

/* -------------------------------------------------------------- output */

typedef struct {
  gxc_fleet *f;
  gxc_host *h;
  gxc_out *o;
} line_ctx;

/* Writes "NAME: LINE\n". */
static int put_line(void *ud, const uint8_t *line, size_t len) {
  line_ctx *c = ud;
  gxc_out *o = c->o;
  gxc_fleet_clear_progress(c->f);
  if (gxc_out_puts(o, c->h->name) || gxc_out_put(o, ": ", 2) ||
      gxc_out_put(o, line, len) || gxc_out_put(o, "\n", 1))
    return -1;
  return 0;
}

static void output(gxc_fleet *f, gxc_host *h, int i, const uint8_t *data,
                   size_t len) {
  if (capturing(f)) gxc_capture_add(&h->cap[i], data, len);
  if (f->a->outdir) to_file(h, i, data, len);
  if (!live(f)) return;
  line_ctx c = {f, h, i ? &f->err : &f->out};
  if (gxc_lines_feed(&h->lines[i], data, len, put_line, &c) == -2)
    put_line(&c, (const uint8_t *)"[gexec: out of memory: output lost]", 35);
}

static int on_event(gxc_fleet *f, gxc_host *h, const gexec_run_event *ev) {
  switch (ev->type) {
    case GEXEC_EV_STDOUT: output(f, h, 0, ev->data, ev->len); return 0;
    case GEXEC_EV_STDERR: output(f, h, 1, ev->data, ev->len); return 0;
    case GEXEC_EV_STARTED:
      if (f->a->send_stdin) push_stdin(f, h, h->stdin_progress_us);
      return 0;
    case GEXEC_EV_WRITABLE: push_stdin(f, h, gxc_fleet_now_us()); return 0;
    default: return 0;
  }
}

static void on_end(gxc_fleet *f, gxc_host *h) {
  for (int i = 0; i < 2 && live(f); i++) {
    line_ctx c = {f, h, i ? &f->err : &f->out};
    gxc_lines_finish(&h->lines[i], put_line, &c);
    gxc_lines_free(&h->lines[i]);
  }
  /* --outdir: an ended host's files are closed now, not at the end of the
   * whole run (a fleet larger than RLIMIT_NOFILE / 2 ran out of fds); -2
   * (a failed write, reported at the end) stays */
  for (int i = 0; i < 2; i++)
    if (h->out_fd[i] >= 0) {
      close(h->out_fd[i]);
      h->out_fd[i] = -1;
    }
}

/* -------------------------------------------------------------- report */

static int write_json(gxc_out *o, json_object *obj) {
  size_t len = 0;
  const char *text = gxc_json_text(obj, &len);
  if (!text) return -1;
  return gxc_out_put(o, text, len) || gxc_out_put(o, "\n", 1) ? -1 : 0;
}

/* --outdir: a host that never ran (unreachable, refused) keeps only its
 * T.json; the T.out and T.err opened for it are removed. */
static void drop_streams(const gxc_fleet *f, const gxc_host *h) {
  char path[4096 + 300];
  if (h->outcome != GXC_OUTCOME_UNREACHABLE &&
      h->outcome != GXC_OUTCOME_REFUSED)
    return;
  outdir_path(f, h, "out", path, sizeof path);
  unlink(path);
  outdir_path(f, h, "err", path, sizeof path);
  unlink(path);
}

/* --outdir: each host's DIR/T.json: its object of the --json document. */
static void write_outdir_json(gxc_fleet *f, json_object *doc) {
  json_object *arr = json_object_object_get(doc, "hosts");
  for (size_t i = 0; i < f->n; i++) {
    gxc_host *h = &f->hosts[i];
    gexec_error err = {0};
    int fd = open_out(f, h, "json", &err);
    gxc_out o = {.fd = fd};
    if (fd < 0 || write_json(&o, json_object_array_get_idx(arr, i)) != 0 ||
        gxc_out_flush(&o) != 0)
      fprintf(stderr, "gexec: %s\n", fd < 0 ? err.message
                                            : "--outdir: writing failed");
    for (int s = 0; s < 2; s++)
      if (h->out_fd[s] == -2)
        fprintf(stderr, "gexec: --outdir: writing %s's %s failed\n", h->name,
                s ? "stderr" : "stdout");
    gxc_out_free(&o);
    if (fd >= 0) close(fd);
    drop_streams(f, h);
  }
}

static int report(gxc_fleet *f, int64_t wall_us) {
  int status = gxc_fleet_status(f->hosts, f->n);
  if (f->a->gather)
    gxc_fleet_gather(f->hosts, f->n, f->a->diff, &f->out, &f->err);
  if (!f->a->json && !f->a->outdir) return status;
  json_object *doc = gxc_fleet_json(f->hosts, f->n,
                                    (const char *const *)f->a->prog, wall_us);
  if (!doc) {
    fprintf(stderr, "gexec: out of memory building the JSON output\n");
    return GXC_EXIT_ERROR;
  }
  if (f->a->json) write_json(&f->out, doc);
  if (f->a->outdir) write_outdir_json(f, doc);
  json_object_put(doc);
  return status;
}

const gxc_fleet_kind gxc_fleet_run_kind = {start, on_event, tick, on_end,
                                           report};

int gxc_fleet_make_outdir(const char *dir, char *why, size_t len) {
  if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    snprintf(why, len, "--outdir %.300s: not a directory", dir);
    return -1;
  }
  snprintf(why, len, "--outdir %.300s: %s", dir, strerror(errno));
  return -1;
}
