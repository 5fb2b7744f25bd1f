/* A fake child module; see fake_child.h. */
#include "tests/server/fake_child.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct gxd_launcher {
  const char *path;
};

gxd_child *fake_child_last;
int fake_child_start_rc;

gxd_launcher *fake_launcher(void) {
  static gxd_launcher l = {FAKE_LAUNCHER_PATH};
  return &l;
}

/* ------------------------------------------- what the session calls */

const char *gxd_launcher_path(const gxd_launcher *l) { return l->path; }

int gxd_child_start(gxd_launcher *l, const gxl_run *run,
                    const gxl_request *req, const gxd_child_stdio *io,
                    const gxd_child_cbs *cbs, void *ud, gxd_child **out) {
  static int next_pid = 1000;
  int rc = fake_child_start_rc;
  (void)l;
  fake_child_start_rc = 0;
  if (rc != 0) return rc;
  gxd_child *c = calloc(1, sizeof *c);
  assert_non_null(c);
  c->cbs = *cbs;
  c->ud = ud;
  c->run = *run;
  c->io = *io;
  snprintf(c->cwd, sizeof c->cwd, "%s", req->cwd);
  c->argc = req->argc;
  for (size_t i = 0; i < req->envc; i++) /* the env is freed after this */
    snprintf(c->env + strlen(c->env), sizeof c->env - strlen(c->env),
             "%s%s", i ? " " : "", req->envp[i]);
  c->allowc = req->allowc;
  snprintf(c->allow0, sizeof c->allow0, "%s", req->allowc ? req->allow[0] : "");
  c->pid = next_pid++;
  c->pipe_room = (size_t)-1;
  fake_child_last = c;
  *out = c;
  return 0;
}

pid_t gxd_child_pid(const gxd_child *c) { return c->pid; }

void gxd_child_set_timeout(gxd_child *c, uint64_t timeout_ms) {
  c->timeout_ms = timeout_ms;
}

size_t gxd_child_peek(gxd_child *c, int *stream, const uint8_t **data) {
  int s;
  if (c->len[0] && c->len[1])
    s = c->seq[0] <= c->seq[1] ? 0 : 1;
  else if (c->len[0] || c->len[1])
    s = c->len[0] ? 0 : 1;
  else
    return 0;
  *stream = s + 1;
  *data = c->buf[s];
  return c->len[s];
}

void gxd_child_consume(gxd_child *c, int stream) {
  c->len[stream - 1] = 0;
}

uint8_t *gxd_child_take(gxd_child *c, int stream, size_t *len) {
  uint8_t *buf = c->buf[stream - 1];
  assert_false(c->taken[stream - 1]);
  *len = c->len[stream - 1];
  c->buf[stream - 1] = NULL;
  c->len[stream - 1] = 0;
  c->taken[stream - 1] = 1;
  return buf;
}

void gxd_child_resume(gxd_child *c, int stream) {
  assert_true(c->taken[stream - 1]);
  c->taken[stream - 1] = 0;
}

size_t gxd_child_write_stdin(gxd_child *c, const uint8_t *data, size_t len) {
  if (c->stdin_closed) return c->in_pending;
  size_t now = len < c->pipe_room ? len : c->pipe_room;
  assert_true(c->in_len + len <= sizeof c->in);
  memcpy(c->in + c->in_len, data, len); /* in order, taken now or later */
  c->in_len += len;
  c->in_pending += len - now;
  return c->in_pending;
}

void gxd_child_close_stdin(gxd_child *c) { c->stdin_closed = 1; }

int gxd_child_signal(gxd_child *c, int sig) {
  if (!c->cmd_exists || c->reaped) return -ESRCH;
  assert_true(c->nsignals < 16);
  c->signals[c->nsignals++] = sig;
  return 0;
}

void gxd_child_stop(gxd_child *c, uint32_t grace_ms) {
  assert_true(c->nstops < 8);
  c->stops[c->nstops++] = grace_ms;
}

void gxd_child_close(gxd_child *c) {
  assert_false(c->closing);
  c->closing = 1;
}

/* --------------------------------------------- what the test drives */

void fake_child_output(gxd_child *c, int stream, const char *data,
                       size_t len) {
  int s = stream - 1;
  assert_false(c->taken[s]); /* the real child does not read then */
  if (!c->buf[s]) {
    c->buf[s] = malloc(GXD_CHUNK);
    assert_non_null(c->buf[s]);
  }
  assert_true(c->len[s] + len <= GXD_CHUNK);
  if (c->len[s] == 0) c->seq[s] = ++c->nseq;
  memcpy(c->buf[s] + c->len[s], data, len);
  c->len[s] += len;
  c->cbs.on_output(c->ud);
}

void fake_child_exec_ok(gxd_child *c, int pid) {
  gxl_record rec = {.kind = GXL_REC_EXEC_OK, .pid = pid};
  c->cmd_exists = 1;
  c->cbs.on_exec(c->ud, &rec);
}

void fake_child_exec_fail(gxd_child *c, gxl_fail_what what, int err) {
  gxl_record rec = {.kind = GXL_REC_EXEC_FAIL, .what = what, .err = err};
  c->cbs.on_exec(c->ud, &rec);
}

void fake_child_timeout(gxd_child *c) { c->cbs.on_timeout(c->ud); }

void fake_child_exit(gxd_child *c, const gxd_child_exit *ex) {
  c->reaped = 1;
  c->cbs.on_reaped(c->ud);
  c->cbs.on_exit(c->ud, ex);
}

void fake_child_drain_stdin(gxd_child *c) {
  c->in_pending = 0;
  c->cbs.on_stdin_drained(c->ud);
}

void fake_child_closed(gxd_child *c) {
  assert_true(c->closing);
  void (*cb)(void *) = c->cbs.on_closed;
  void *ud = c->ud;
  free(c->buf[0]);
  free(c->buf[1]);
  if (fake_child_last == c) fake_child_last = NULL;
  free(c);
  cb(ud);
}
