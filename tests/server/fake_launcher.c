/* A fake launcher module; see fake_launcher.h. */
#include "tests/server/fake_launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

void fake_launcher_init(gxd_launcher *l, uv_loop_t *loop) {
  memset(l, 0, sizeof *l);
  l->loop = loop;
}

void fake_launcher_close(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

void fake_launcher_close_all(fake_run *r) {
  fake_launcher_close(&r->in_fd);
  fake_launcher_close(&r->out_fd);
  fake_launcher_close(&r->err_fd);
  fake_launcher_close(&r->rep_fd);
}

void fake_launcher_done(gxd_launcher *l) {
  for (int i = 0; i < l->nruns; i++) fake_launcher_close_all(&l->runs[i]);
}

fake_run *fake_launcher_last(gxd_launcher *l) {
  return l->nruns ? &l->runs[l->nruns - 1] : NULL;
}

static fake_run *find(gxd_launcher *l, uint64_t run_id) {
  for (int i = 0; i < l->nruns; i++)
    if (l->runs[i].run.run_id == run_id) return &l->runs[i];
  return NULL;
}

/* The test's own copy of @p fd (-1 stays -1). */
static int copy(int fd) {
  if (fd < 0) return -1;
  int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  assert_true(c >= 0);
  return c;
}

/* ------------------------------------------- what the child calls */

const char *gxd_launcher_path(const gxd_launcher *l) {
  (void)l;
  return FAKE_LAUNCHER_PATH;
}

uv_loop_t *gxd_launcher_loop(const gxd_launcher *l) { return l->loop; }

int gxd_launcher_spawn(gxd_launcher *l, const gxl_run *run,
                       const gxl_request *req, const gxd_launch_fds *fds,
                       gxd_launcher_exit_fn on_exit, void *ud, pid_t *pid) {
  int rc = l->spawn_rc;
  l->spawn_rc = 0;
  if (rc != 0) return rc;
  assert_true(l->nruns < FAKE_LAUNCHER_RUNS);
  assert_null(find(l, run->run_id)); /* one launcher per run */
  assert_true(fds->report_fd >= 0);
  fake_run *r = &l->runs[l->nruns++];
  memset(r, 0, sizeof *r);
  r->run = *run;
  snprintf(r->argv0, sizeof r->argv0, "%s", req->argc ? req->argv[0] : "");
  r->pid = 7000 + l->nruns;
  r->in_fd = copy(fds->stdin_fd);
  r->out_fd = copy(fds->stdout_fd);
  r->err_fd = copy(fds->stderr_fd);
  r->rep_fd = copy(fds->report_fd);
  r->on_exit = on_exit;
  r->ud = ud;
  *pid = r->pid;
  return 0;
}

void gxd_launcher_kill(gxd_launcher *l, uint64_t run_id) {
  fake_run *r = find(l, run_id);
  assert_non_null(r);
  if (r->exited) r->kills_after_exit++;
  assert_true(r->nkills < FAKE_LAUNCHER_KILLS);
  r->kill_at[r->nkills++] = uv_now(l->loop);
}

/* --------------------------------------------- what the test drives */

void fake_launcher_write_line(fake_run *r, const char *line) {
  size_t len = strlen(line);
  assert_true(r->rep_fd >= 0);
  assert_int_equal(write(r->rep_fd, line, len), (ssize_t)len);
}

void fake_launcher_record(fake_run *r, const gxl_record *rec) {
  char line[GXL_LINE_MAX];
  assert_true(gxl_record_format(rec, line, sizeof line) > 0);
  fake_launcher_write_line(r, line);
}

void fake_launcher_exit(fake_run *r, int wait_status,
                        const struct rusage *ru) {
  struct rusage zero;
  memset(&zero, 0, sizeof zero);
  assert_false(r->exited); /* exactly once */
  r->exited = 1;
  r->on_exit(r->ud, wait_status, ru ? ru : &zero);
}
