/* The blocking run (subprocess.run-like): feeds stdin and collects output
 * from one thread, interleaving both so that neither side can deadlock. */
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"
#include "lib/gx_err.h"

typedef struct {
  char *buf;
  size_t len, cap, max;
  int truncated;
} capture;

static int capture_add(capture *c, const uint8_t *data, size_t len) {
  if (c->max && c->len + len > c->max) {
    c->truncated = 1;
    len = c->max - c->len;
  }
  if (c->len + len + 1 > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + len + 1) cap *= 2;
    char *b = realloc(c->buf, cap);
    if (!b) return -1;
    c->buf = b;
    c->cap = cap;
  }
  memcpy(c->buf + c->len, data, len);
  c->len += len;
  c->buf[c->len] = '\0';
  return 0;
}

static int capture_finish(capture *c) {
  if (c->buf) return 0;
  c->buf = calloc(1, 1);
  return c->buf ? 0 : -1;
}

/* Sends the next stdin piece or the EOF when the send side is idle. */
static void feed_stdin(gexec_proc *p, const uint8_t *data, size_t len,
                       size_t *off) {
  if (p->send_busy || p->nsig || p->stdin_closed || p->status_received ||
      !p->call)
    return;
  if (*off < len) {
    size_t n = len - *off < GEXEC_STDIN_CHUNK ? len - *off : GEXEC_STDIN_CHUNK;
    if (gexec__send_stdin(p, data + *off, n) == 0) *off += n;
    return;
  }
  p->stdin_closed = 1;
  p->eof_pending = 1;
  gexec__pump_sends(p);
}

static int collect(gexec_proc *p, const gexec_run_opts *o, capture *out,
                   capture *err_cap, gexec_error *err) {
  const uint8_t *in = o && o->stdin_data ? o->stdin_data : NULL;
  size_t in_len = in ? o->stdin_len : 0, off = 0;
  int rc = GEXEC_OK;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    feed_stdin(p, in, in_len, &off);
    Gexec__V1__RunResponse *m = gexec__take_pending(p);
    if (m) {
      int is_out = m->event_case == GEXEC__V1__RUN_RESPONSE__EVENT_STDOUT;
      ProtobufCBinaryData d = is_out ? m->stdout : m->stderr;
      if (capture_add(is_out ? out : err_cap, d.data, d.len) != 0) {
        rc = gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory capturing");
        if (p->call && !p->status_received) gx_rpc_call_cancel(p->call);
      }
      gexec__v1__run_response__free_unpacked(m, NULL);
      p->current = NULL;
      continue;
    }
    if (p->status_received) break;
    pthread_cond_wait(&p->cv, &p->mu);
  }
  if (rc == GEXEC_OK) rc = gexec__end_result(p, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int gexec_run(gexec_conn *conn, const gexec_spec *spec,
              const gexec_run_opts *user_opts, gexec_result *res,
              gexec_error *err) {
  gexec_proc *p;
  capture out = {0}, errc = {0};
  gexec_run_opts o = GEXEC_RUN_OPTS_INIT, *opts = user_opts ? &o : NULL;
  memset(res, 0, sizeof *res);
  if (user_opts && gexec__load(&o, sizeof o, user_opts, user_opts->size,
                               GEXEC__RUN_OPTS_BASE) != GEXEC_OK)
    return gexec__fail(err, GEXEC_EINVAL, 0,
                       "the gexec_run_opts sets a field this libgexec "
                       "(" GEXEC_VERSION ") does not know");
  out.max = errc.max = opts ? opts->capture_max : 0;
  int rc = gexec_proc_start(conn, spec, &p, err);
  if (rc != GEXEC_OK) return rc;
  rc = collect(p, opts, &out, &errc, err);
  if (rc == GEXEC_OK && (capture_finish(&out) || capture_finish(&errc)))
    rc = gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  if (rc == GEXEC_OK) {
    res->exit = p->exit;
    res->out = out.buf;
    res->out_len = out.len;
    res->out_truncated = out.truncated;
    res->err = errc.buf;
    res->err_len = errc.len;
    res->err_truncated = errc.truncated;
  } else {
    free(out.buf);
    free(errc.buf);
  }
  gexec_proc_free(p);
  return rc;
}

void gexec_result_free(gexec_result *res) {
  if (!res) return;
  free(res->out);
  free(res->err);
  res->out = res->err = NULL;
  res->out_len = res->err_len = 0;
}
