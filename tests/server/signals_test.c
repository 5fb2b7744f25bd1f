/* Unit tests for server/signals: the blocked signals read on a bare uv
 * loop. A process-directed signal is read on the loop even while another
 * thread waits in a raw futex (what gRPC's idle threads do, where a
 * handler-based watcher under TSan could wait forever); threads created
 * after gxd_signals_block inherit the mask. */
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/signals.h"

typedef struct {
  int got[8];
  int n;
} seen;

static void on_sig(void *ud, int sig) {
  seen *s = ud;
  if (s->n < 8) s->got[s->n++] = sig;
}

/* Runs @p loop until @p s holds @p n signals (bounded by a timer). */
static void run_until(uv_loop_t *loop, seen *s, int n) {
  for (int turns = 0; s->n < n && turns < 1000; turns++)
    uv_run(loop, UV_RUN_ONCE);
  assert_int_equal(s->n, n);
}

static void test_each_signal_reaches_the_loop(void **state) {
  (void)state;
  uv_loop_t loop;
  gxd_signals w;
  seen s = {{0}, 0};
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(gxd_signals_start(&w, &loop, on_sig, &s), 0);
  static const int sigs[] = {SIGHUP, SIGTERM, SIGINT, SIGCHLD};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(kill(getpid(), sigs[i]), 0);
    run_until(&loop, &s, i + 1);
    assert_int_equal(s.got[i], sigs[i]);
  }
  gxd_signals_close(&w);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(w.fd, -1);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static atomic_int futex_word;

/* Waits in a raw futex (no libc wrapper) until woken; reports whether
 * SIGTERM is blocked here too (the mask it inherited). */
static void *futex_waiter(void *arg) {
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  *(int *)arg = sigismember(&cur, SIGTERM);
  while (atomic_load(&futex_word) == 0)
    syscall(SYS_futex, &futex_word, FUTEX_WAIT, 0, NULL, NULL, 0);
  return NULL;
}

static void test_read_while_a_thread_waits_in_a_futex(void **state) {
  (void)state;
  uv_loop_t loop;
  gxd_signals w;
  seen s = {{0}, 0};
  pthread_t t;
  int blocked_there = -1;
  atomic_store(&futex_word, 0);
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(gxd_signals_start(&w, &loop, on_sig, &s), 0);
  assert_int_equal(pthread_create(&t, NULL, futex_waiter, &blocked_there), 0);
  usleep(20000); /* let it reach the futex (not needed to pass) */
  assert_int_equal(kill(getpid(), SIGTERM), 0);
  run_until(&loop, &s, 1);
  assert_int_equal(s.got[0], SIGTERM);
  atomic_store(&futex_word, 1);
  syscall(SYS_futex, &futex_word, FUTEX_WAKE, 1, NULL, NULL, 0);
  pthread_join(t, NULL);
  assert_int_equal(blocked_there, 1);
  gxd_signals_close(&w);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  /* as gexecd's main does, before any thread */
  if (gxd_signals_block() != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_signal_reaches_the_loop),
      cmocka_unit_test(test_read_while_a_thread_waits_in_a_futex),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
