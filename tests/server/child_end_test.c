/* Unit tests for server/child, the end of a run: report, EOF and reap
 * in any order, launch errors and a broken record stream, the timeout,
 * stopping (graceful, escalated, before the command exists), signals,
 * and the drain of pipes an escapee holds. The harness
 * (child_harness.h) plays the launcher on a bare uv loop and forks the
 * command's process group (the victim). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/child.h"
#include "tests/server/child_harness.h"
#include "tests/server/fake_launcher.h"

/* ------------------------------------------------------- end of a run */

/* The report then EOF: on_exit with the report's fields, before the
 * reap; the victim is not touched; on_closed waits for the reap. */
static void report_then_eof(void **state) {
  (void)state;
  start();
  exec_ok();
  report(3, 0);
  run_for(50);
  assert_int_equal(seen.exit, 0); /* the pipes are still open */
  assert_int_equal(gxd_child_signal(child, SIGUSR1), -ESRCH); /* over */
  fake_launcher_close(&fr->out_fd);
  run_for(20);
  assert_int_equal(seen.exit, 0);
  fake_launcher_close(&fr->err_fd);
  expect_exit(3, 0, 1, 11, 22, 33);
  assert_int_equal(seen.ex.oom_killed, 1);
  assert_int_equal(seen.ex.timed_out, 0);
  assert_int_equal(seen.ex.pipes_forced, 0);
  assert_string_equal(seen.ex.launch_error, "");
  assert_true(seen.ex.wall_us > 0);
  close_child();
  run_for(50);
  assert_int_equal(seen.closed, 0); /* the launcher is not reaped yet */
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGKILL, NULL);
  assert_true(victim_alive()); /* a report: nothing left to kill */
  assert_true(run_until(&seen.closed, 1, 5000));
  assert_string_equal(seen.log, "exrc");
  assert_int_equal(fr->nkills, 0);
}

/* The reap may come before EOF (on_reaped first) and before close
 * (on_closed once closed). */
static void reaped_before_eof_and_close(void **state) {
  (void)state;
  start();
  exec_ok();
  report(0, 15);
  run_for(50);
  fake_launcher_close(&fr->rep_fd);
  fake_launcher_exit(fr, 0, NULL);
  assert_int_equal(seen.reaped, 1);
  run_for(50);
  assert_int_equal(seen.exit, 0);
  fake_launcher_close_all(fr);
  expect_exit(0, 15, 1, 11, 22, 33);
  run_for(50);
  assert_int_equal(seen.closed, 0); /* not closed yet */
  close_child();
  assert_true(run_until(&seen.closed, 1, 5000));
  assert_string_equal(seen.log, "erxc");
}

/* Without a report the launcher's wait status is the run's end, and
 * what is left of the command's group is SIGKILLed. */
static void reap_without_report(void **state) {
  struct rusage ru;
  (void)state;
  memset(&ru, 0, sizeof ru);
  ru.ru_utime.tv_sec = 1;
  ru.ru_utime.tv_usec = 500000;
  ru.ru_stime.tv_usec = 250;
  ru.ru_maxrss = 4096;
  start();
  exec_ok();
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, W_EXITCODE(3, 0), &ru);
  int st = victim_reap();
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  expect_exit(3, 0, 0, 1500000, 250, 4096);
  assert_string_equal(seen.log, "erx");
  end_run();
}

/* A launcher killed by a signal, with a core: the signal is the run's. */
static void reap_signaled(void **state) {
  (void)state;
  start();
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGSEGV | 0x80, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.ex.signal, SIGSEGV);
  assert_int_equal(seen.ex.core_dumped, 1);
  assert_int_equal(seen.ex.exit_code, 0);
  assert_int_equal(seen.exec, 0);
  end_run();
}

/* A report still unread in the pipe at the reap overrides the status. */
static void report_in_pipe_wins(void **state) {
  (void)state;
  start();
  exec_ok();
  report(5, 0);
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, W_EXITCODE(1, 0), NULL); /* no loop turn since */
  expect_exit(5, 0, 1, 11, 22, 33);
  end_run();
}

/* The launcher's error record: its text is launch_error. */
static void launch_error_record(void **state) {
  gxl_record rec = {.kind = GXL_REC_ERROR};
  (void)state;
  snprintf(rec.reason, sizeof rec.reason, "cannot mount /proc: EPERM");
  start();
  fake_launcher_record(fr, &rec);
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, W_EXITCODE(1, 0), NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_string_equal(seen.ex.launch_error, "cannot mount /proc: EPERM");
  assert_int_equal(seen.ex.exit_code, 1);
  assert_int_equal(seen.ex.reported, 0);
  assert_int_equal(seen.exec, 0);
  end_run();
}

/* An exec failure record reaches on_exec; no command: no signal. */
static void exec_fail_record(void **state) {
  gxl_record rec = {.kind = GXL_REC_EXEC_FAIL, .what = GXL_FAIL_CWD,
                    .err = ENOENT};
  (void)state;
  start();
  fake_launcher_record(fr, &rec);
  assert_true(run_until(&seen.exec, 1, 5000));
  assert_int_equal(seen.exec_rec.kind, GXL_REC_EXEC_FAIL);
  assert_int_equal(seen.exec_rec.what, GXL_FAIL_CWD);
  assert_int_equal(seen.exec_rec.err, ENOENT);
  assert_int_equal(gxd_child_signal(child, SIGTERM), -ESRCH);
  gxd_child_stop(child, 1000); /* nothing to be graceful to */
  assert_int_equal(fr->nkills, 1);
  end_run();
}

/* A record stream that breaks the contract: its first fault is the
 * launch_error, and nothing after it is read. */
static void broken_contract(void **state) {
  static const struct {
    const char *lines; /* %d: the victim's pid */
    const char *why;
    int exec, exit_code, reported;
  } cases[] = {
      {"garbage\ngexec-report v1 exit=7 signal=0 core=0 oom=0 user_us=0 "
       "sys_us=0 maxrss_kb=0\n",
       "a malformed record", 0, 2, 0},
      {"gexec-exec v1 ok pid=%d\ngexec-exec v1 ok pid=%d\n",
       "a second exec record", 1, 2, 0},
      {"gexec-report v1 exit=4 signal=0 core=0 oom=0 user_us=0 sys_us=0 "
       "maxrss_kb=0\ngexec-report v1 exit=9 signal=0 core=0 oom=0 "
       "user_us=0 sys_us=0 maxrss_kb=0\n",
       "a second report", 0, 4, 1},
  };
  char lines[512], why[256];
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    next_run();
    start();
    pid_t pid = cases[i].exec ? victim_start() : 0;
    snprintf(lines, sizeof lines, cases[i].lines, pid, pid);
    fake_launcher_write_line(fr, lines);
    run_for(50);
    assert_int_equal(seen.exec, cases[i].exec);
    fake_launcher_close_all(fr);
    fake_launcher_exit(fr, W_EXITCODE(2, 0), NULL);
    assert_true(run_until(&seen.exit, 1, 5000));
    snprintf(why, sizeof why, "the launcher broke its contract: %s",
             cases[i].why);
    assert_string_equal(seen.ex.launch_error, why);
    assert_int_equal(seen.ex.exit_code, cases[i].exit_code);
    assert_int_equal(seen.ex.reported, cases[i].reported);
    end_run();
    if (pid) {
      victim_reap();
      close(vic.fd);
      vic.fd = -1;
    }
  }
}

/* The timeout fires on_timeout and marks the exit timed_out; a run that
 * ended first never times out. */
static void timeout_fires(void **state) {
  (void)state;
  start();
  exec_ok();
  gxd_child_set_timeout(child, 30);
  assert_true(run_until(&seen.timeout, 1, 5000));
  report(0, 9);
  end_run();
  assert_int_equal(seen.ex.timed_out, 1);
  assert_int_equal(seen.ex.signal, 9);
  assert_string_equal(seen.log, "etrxc");
  kill(vic.pid, SIGKILL);
  victim_reap();
  close(vic.fd);
  vic.fd = -1;
  next_run();
  start();
  gxd_child_set_timeout(child, 100);
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, 0, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  run_for(200);
  assert_int_equal(seen.timeout, 0);
  assert_int_equal(seen.ex.timed_out, 0);
  end_run();
}

/* ----------------------------------------------------------- stopping */

/* Before the exec record there is nothing to be graceful to: the
 * launcher is killed within the call; after the reap, nothing is. */
static void stop_before_exec(void **state) {
  (void)state;
  start();
  uint64_t t0 = now();
  gxd_child_stop(child, 5000);
  assert_int_equal(fr->nkills, 1);
  assert_int_equal(fr->kill_at[0], t0);
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGKILL, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.ex.signal, SIGKILL);
  gxd_child_stop(child, 0);
  assert_int_equal(fr->nkills, 1);
  assert_int_equal(fr->kills_after_exit, 0);
  end_run();
}

/* A stop whose launcher KILL came too late (the command exists after
 * all): the exec record brings the command's SIGKILL at once, and a
 * later stop is not swallowed; the launcher goes GXD_LAUNCHER_KILL_MS
 * later unless it reported. */
static void stop_before_exec_then_exec(void **state) {
  int st;
  (void)state;
  start();
  gxd_child_stop(child, 5000);
  assert_int_equal(fr->nkills, 1);
  exec_ok(); /* the KILL was lost: the command runs */
  st = victim_reap();
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  int *kills = &fr->nkills;
  assert_true(run_until(kills, 2, GXD_LAUNCHER_KILL_MS + 2000));
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGKILL, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  end_run();
}

/* Asserts the victim caught SIGTERM and SIGCONT, once each. Two signals
 * pending at once reach their handlers in no order the sender chose (the
 * kernel stacks one frame on the other), so the set is what is seen. */
static void expect_term_cont(void) {
  uint8_t sigs[2];
  assert_int_equal(victim_signals(sigs, 2, 2000), 2);
  assert_int_equal(sigs[0] + sigs[1], SIGTERM + SIGCONT);
  assert_true(sigs[0] == SIGTERM || sigs[1] == SIGTERM);
}

/* After the exec record: SIGTERM and SIGCONT to the command's group at
 * once (a stopped command is continued to see the SIGTERM), SIGKILL
 * after the grace, the launcher GXD_LAUNCHER_KILL_MS later (real time:
 * one test pays it). */
static void stop_escalates(void **state) {
  uint8_t sigs[4];
  int st;
  (void)state;
  start();
  exec_ok();
  kill(vic.pid, SIGSTOP);
  assert_int_equal(waitpid(vic.pid, &st, WUNTRACED), vic.pid);
  assert_true(WIFSTOPPED(st));
  uint64_t t0 = now();
  gxd_child_stop(child, 300);
  expect_term_cont();
  run_for(100);
  assert_true(victim_alive()); /* the grace */
  run_for(400);
  st = victim_reap();
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  assert_int_equal(victim_signals(sigs, 4, 0), 0); /* nothing else */
  assert_int_equal(fr->nkills, 0);
  int *kills = &fr->nkills;
  assert_true(run_until(kills, 1, GXD_LAUNCHER_KILL_MS + 2000));
  assert_true(fr->kill_at[0] - t0 >= 300 + GXD_LAUNCHER_KILL_MS);
  assert_true(fr->kill_at[0] - t0 < 300 + GXD_LAUNCHER_KILL_MS + 500);
  assert_int_equal(seen.exit, 0); /* still the launcher's to report */
  fake_launcher_close_all(fr);
  fake_launcher_exit(fr, SIGKILL, NULL);
  assert_true(run_until(&seen.exit, 1, 5000));
  assert_int_equal(seen.ex.signal, SIGKILL);
  run_for(50);
  assert_int_equal(fr->nkills, 1);
  end_run();
}

/* A second stop can only shorten the grace; SIGTERM goes once; the run's
 * end (its report) cancels the launcher's kill: the launcher is left to
 * its teardown. */
static void stop_shortens_grace(void **state) {
  uint8_t sigs[8];
  (void)state;
  start();
  exec_ok();
  gxd_child_stop(child, 10000);
  gxd_child_stop(child, 50);
  gxd_child_stop(child, 60000);
  expect_term_cont();
  run_for(300);
  int st = victim_reap();
  assert_int_equal(WTERMSIG(st), SIGKILL);
  assert_int_equal(victim_signals(sigs, sizeof sigs, 100), 0); /* to EOF */
  report(0, 9);
  fake_launcher_close_all(fr);
  assert_true(run_until(&seen.exit, 1, 5000));
  run_for(GXD_LAUNCHER_KILL_MS);
  assert_int_equal(fr->nkills, 0);
  fake_launcher_exit(fr, 0, NULL);
  end_run();
  assert_int_equal(fr->nkills, 0);
}

/* Signals reach the command's group only while it exists. */
static void signal_only_while_running(void **state) {
  uint8_t sig;
  (void)state;
  start();
  assert_int_equal(gxd_child_signal(child, SIGUSR1), -ESRCH);
  exec_ok();
  assert_int_equal(gxd_child_signal(child, SIGUSR1), 0);
  assert_int_equal(victim_signals(&sig, 1, 2000), 1);
  assert_int_equal(sig, SIGUSR1);
  assert_int_equal(gxd_child_signal(child, SIGHUP), 0);
  assert_int_equal(victim_signals(&sig, 1, 2000), 1);
  assert_int_equal(sig, SIGHUP);
  report(0, 0);
  run_for(50);
  assert_int_equal(gxd_child_signal(child, SIGUSR1), -ESRCH);
  assert_int_equal(victim_signals(&sig, 1, 50), 0);
  end_run();
}

/* ------------------------------------------------------------- drain */

/* An escapee holds stdout after the reap: GXD_DRAIN_MS later the pipes
 * are closed anyway (pipes_forced), the bytes read before kept. */
static void drain_forces_escapee(void **state) {
  (void)state;
  start();
  exec_ok();
  put(fr->out_fd, "last words");
  assert_true(run_until(&seen.outputs, 1, 5000));
  fake_launcher_close(&fr->err_fd);
  fake_launcher_close(&fr->rep_fd);
  fake_launcher_close(&fr->in_fd);
  uint64_t t0 = now();
  fake_launcher_exit(fr, 0, NULL);
  assert_true(run_until(&seen.exit, 1, GXD_DRAIN_MS + 2000));
  assert_true(seen.exit_at - t0 >= GXD_DRAIN_MS);
  assert_int_equal(seen.ex.pipes_forced, 1);
  assert_int_equal(seen.peek_stream, 1);
  assert_int_equal(seen.peek_len, 10);
  assert_memory_equal(seen.peek, "last words", 10);
  assert_int_equal(polls(), 1); /* stdin's, until close */
  assert_int_equal(write(fr->out_fd, "x", 1), -1); /* the daemon's end */
  assert_int_equal(errno, EPIPE);
  end_run();
}

/* A stream paused because its buffer is being sent is waited for: the
 * drain re-arms instead of dropping it. */
static void drain_waits_for_paused_stream(void **state) {
  size_t len;
  (void)state;
  start();
  exec_ok();
  put(fr->out_fd, "x");
  assert_true(run_until(&seen.outputs, 1, 5000));
  free(gxd_child_take(child, 1, &len));
  uint64_t t0 = now();
  fake_launcher_exit(fr, 0, NULL);
  run_for(GXD_DRAIN_MS + 300);
  assert_int_equal(seen.exit, 0);
  gxd_child_resume(child, 1);
  assert_true(run_until(&seen.exit, 1, GXD_DRAIN_MS + 2000));
  assert_true(seen.exit_at - t0 >= 2 * GXD_DRAIN_MS);
  assert_int_equal(seen.ex.pipes_forced, 1);
  end_run();
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  ch_main_setup();
  const struct CMUnitTest tests[] = {
      T(report_then_eof),
      T(reaped_before_eof_and_close),
      T(reap_without_report),
      T(reap_signaled),
      T(report_in_pipe_wins),
      T(launch_error_record),
      T(exec_fail_record),
      T(broken_contract),
      T(timeout_fires),
      T(stop_before_exec),
      T(stop_before_exec_then_exec),
      T(stop_escalates),
      T(stop_shortens_grace),
      T(signal_only_while_running),
      T(drain_forces_escapee),
      T(drain_waits_for_paused_stream),
  };
  return cmocka_run_group_tests_name("server/child end", tests, NULL, NULL);
}
