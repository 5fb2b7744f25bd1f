/* Unit tests for server/facts_statvfs: a statvfs that never answers (a
 * hung NFS server, a FUSE daemon that does not reply) costs the facts
 * worker at most the timeout, is left on a detached thread that cleans
 * up after itself, and at most GXD_FACTS_STUCK_MAX such threads exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/facts_read.h"

static int gate[2];          /* blocking_fn reads one byte from gate[0] */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int calls;

static void count_call(void) {
  pthread_mutex_lock(&mu);
  calls++;
  pthread_mutex_unlock(&mu);
}

static int ncalls(void) {
  pthread_mutex_lock(&mu);
  int n = calls;
  pthread_mutex_unlock(&mu);
  return n;
}

static int fast_fn(const char *path, struct statvfs *v) {
  count_call();
  memset(v, 0, sizeof *v);
  v->f_frsize = 4096;
  v->f_blocks = strlen(path);
  return 0;
}

static int failing_fn(const char *path, struct statvfs *v) {
  (void)path;
  (void)v;
  count_call();
  errno = ENOENT;
  return -1;
}

/* A statvfs that hangs until the test writes a byte to the gate. */
static int blocking_fn(const char *path, struct statvfs *v) {
  char b;
  (void)path;
  count_call();
  memset(v, 0, sizeof *v);
  while (read(gate[0], &b, 1) < 0 && errno == EINTR) {
  }
  return 0;
}

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits (up to 5 s) until no probe thread is alive. */
static void wait_no_stuck(void) {
  for (int i = 0; i < 500 && gxd_facts_statvfs_stuck() > 0; i++)
    usleep(10000);
  assert_int_equal(gxd_facts_statvfs_stuck(), 0);
}

static void types_that_may_hang(void **state) {
  (void)state;
  assert_true(gxd_facts_fs_may_hang("nfs"));
  assert_true(gxd_facts_fs_may_hang("nfs4"));
  assert_true(gxd_facts_fs_may_hang("cifs"));
  assert_true(gxd_facts_fs_may_hang("fuse"));
  assert_true(gxd_facts_fs_may_hang("fuseblk"));
  assert_true(gxd_facts_fs_may_hang("fuse.sshfs"));
  assert_false(gxd_facts_fs_may_hang("ext4"));
  assert_false(gxd_facts_fs_may_hang("xfs"));
  assert_false(gxd_facts_fs_may_hang("tmpfs"));
  assert_false(gxd_facts_fs_may_hang("nfsd")); /* the server's own fs */
}

static void answers_pass_through(void **state) {
  struct statvfs v;
  (void)state;
  memset(&v, 0xff, sizeof v);
  assert_int_equal(gxd_facts_statvfs_bounded("/abc", &v, 1000, fast_fn), 0);
  assert_int_equal(v.f_frsize, 4096);
  assert_int_equal(v.f_blocks, 4);
  errno = 0;
  assert_int_equal(gxd_facts_statvfs_bounded("/x", &v, 1000, failing_fn), -1);
  assert_int_equal(errno, ENOENT);
  wait_no_stuck();
}

static void hang_costs_the_timeout_only(void **state) {
  struct statvfs v;
  (void)state;
  assert_int_equal(pipe(gate), 0);
  int64_t t0 = now_ms();
  assert_int_equal(gxd_facts_statvfs_bounded("/mnt/hung", &v, 100,
                                             blocking_fn), -2);
  int64_t took = now_ms() - t0;
  assert_true(took >= 100);
  assert_int_equal(gxd_facts_statvfs_stuck(), 1);
  /* the kernel lets it go: the thread ends and frees its state */
  assert_int_equal(write(gate[1], "x", 1), 1);
  wait_no_stuck();
  close(gate[0]);
  close(gate[1]);
}

static void stuck_threads_are_bounded(void **state) {
  struct statvfs v;
  (void)state;
  assert_int_equal(pipe(gate), 0);
  int before = ncalls();
  for (int i = 0; i < GXD_FACTS_STUCK_MAX; i++)
    assert_int_equal(gxd_facts_statvfs_bounded("/mnt/hung", &v, 20,
                                               blocking_fn), -2);
  assert_int_equal(gxd_facts_statvfs_stuck(), GXD_FACTS_STUCK_MAX);
  /* no thread left: not even tried, at once */
  int64_t t0 = now_ms();
  assert_int_equal(gxd_facts_statvfs_bounded("/mnt/other", &v, 1000,
                                             fast_fn), -2);
  assert_true(now_ms() - t0 < 500);
  assert_int_equal(ncalls(), before + GXD_FACTS_STUCK_MAX);
  for (int i = 0; i < GXD_FACTS_STUCK_MAX; i++)
    assert_int_equal(write(gate[1], "x", 1), 1);
  wait_no_stuck();
  /* slots are back */
  assert_int_equal(gxd_facts_statvfs_bounded("/ok", &v, 1000, fast_fn), 0);
  wait_no_stuck();
  close(gate[0]);
  close(gate[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(types_that_may_hang),
      cmocka_unit_test(answers_pass_through),
      cmocka_unit_test(hang_costs_the_timeout_only),
      cmocka_unit_test(stuck_threads_are_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
