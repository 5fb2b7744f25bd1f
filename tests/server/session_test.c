/* Unit tests for server/session: the Run protocol on a bare uv loop
 * (session_fixture.h): runs from start to exit, signals, cancels,
 * timeouts, launcher failures, refusals, and the protocol's bad
 * messages, stdin and output bounds. Draining, freeing and slots:
 * session_lifecycle_test.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_err.h"
#include "server/env.h"
#include "server/log.h"
#include "tests/server/session_fixture.h"

/* --------------------------------------------------------------- runs */

/* The whole protocol: the plan reaches the launcher; output written
 * before the exec record waits for `started`; then chunks in order,
 * one send at a time, the exact bytes; exited with the status. */
static void start_output_exit(void **state) {
  gxt_req r;
  (void)state;
  req(&r);
  r.s.cwd = "/srv";
  r.s.timeout_ms = 2500;
  gx_rpc_call *c = open_run(&r);
  gxd_child *ch = fake_child_last;
  assert_non_null(ch);
  assert_int_equal(ch->run.run_id, 1);
  assert_int_equal(ch->run.profile, GXI_PROFILE_BASELINE);
  assert_int_equal(ch->run.mechs, sfx_profiles.entry[1].mechs);
  assert_string_equal(ch->run.cgroup, "");
  assert_string_equal(ch->cwd, "/srv");
  assert_int_equal(ch->argc, 3);
  assert_string_equal(ch->env, DEF_ENV);
  assert_int_equal(ch->timeout_ms, 2500);
  assert_true(ch->io.stdin_pipe && ch->io.stdout_pipe);
  assert_int_equal(ch->io.stderr_mode, 1);
  assert_true(c->recv_posted);
  fake_child_output(ch, 1, "early", 5); /* its pipe before the record */
  assert_int_equal(c->nsent, 0);
  fake_child_exec_ok(ch, 4242);
  assert_int_equal(c->nsent, 1);
  const Gexec__V1__Started *st = c->sent[0]->started;
  assert_int_equal(fake_call_kind(c, 0), EV(STARTED));
  assert_int_equal(st->pid, ch->pid);
  assert_int_equal(st->run_id, 1);
  assert_string_equal(st->isolation->profile, "baseline");
  assert_int_equal(st->isolation->n_namespaces, 4);
  assert_string_equal(st->isolation->namespaces[3], "mount");
  assert_string_equal(st->isolation->cgroup, "");
  assert_string_equal(st->isolation->description, "baseline: full");
  fake_call_sent(c, 1);
  expect_chunk(c, 1, 1, "early");
  fake_child_output(ch, 2, "e\0r", 3); /* the stdout send is in flight */
  assert_int_equal(c->nsent, 2);
  fake_call_sent(c, 1);
  assert_int_equal(fake_call_kind(c, 2), EV(STDERR));
  assert_int_equal(c->sent[2]->stderr.len, 3);
  assert_memory_equal(c->sent[2]->stderr.data, "e\0r", 3);
  fake_child_output(ch, 1, "out2", 4);
  exit_code(ch, 3); /* the rest of the output still goes first */
  assert_int_equal(c->nsent, 3);
  fake_call_sent(c, 1);
  expect_chunk(c, 3, 1, "out2");
  assert_false(c->finished);
  fake_call_sent(c, 1);
  assert_int_equal(c->nsent, 5);
  assert_int_equal(fake_call_kind(c, 4), EV(EXITED));
  assert_int_equal(c->sent[4]->exited->exit_code, 3);
  assert_false(c->sent[4]->exited->output_truncated);
  assert_true(c->last_with_status);
  expect_status(c, GX_STATUS_OK, "");
  assert_true(ch->closing);
  assert_int_equal(ch->nstops, 0);
  end_run(c, ch);
}

/* Signals a client sends before the command exists are held, then
 * delivered (in number order) once it does; later ones at once. */
static void signal_held_until_exec(void **state) {
  gxt_req r;
  (void)state;
  req(&r);
  gx_rpc_call *c = open_run(&r);
  gxd_child *ch = fake_child_last;
  send_signal(c, 15);
  send_signal(c, 10);
  send_signal(c, 15);
  assert_int_equal(ch->nsignals, 0);
  assert_true(c->recv_posted);
  fake_child_exec_ok(ch, 4242);
  assert_int_equal(ch->nsignals, 2);
  assert_int_equal(ch->signals[0], 10);
  assert_int_equal(ch->signals[1], 15);
  fake_call_sent(c, 1);
  send_signal(c, 2);
  assert_int_equal(ch->nsignals, 3);
  assert_int_equal(ch->signals[2], 2);
  send_signal(c, 65);
  assert_int_equal(ch->nstops, 1); /* a bad signal stops the run */
  killed(ch, 15, 0);
  expect_status(c, GX_STATUS_INVALID_ARGUMENT,
                "signal 65 is not a valid signal number (1..64)");
  end_run(c, ch);
}

/* Cancelled while launching: nothing to be graceful to, killed at once;
 * no `started`, the call ends CANCELLED. */
static void cancel_while_launching(void **state) {
  gxt_req r;
  (void)state;
  req(&r);
  r.s.kill_grace_ms = 300;
  gx_rpc_call *c = open_run(&r);
  gxd_child *ch = fake_child_last;
  fake_call_cancel(c);
  assert_int_equal(ch->nstops, 1);
  assert_int_equal(ch->stops[0], 0);
  killed(ch, 9, 0);
  assert_int_equal(c->nsent, 0);
  expect_status(c, GX_STATUS_CANCELLED, "the client cancelled the run");
  end_run(c, ch);
}

/* Cancelled while running: the run's grace; output from then on is
 * dropped (the stream is broken), nothing but the status follows. */
static void cancel_while_running_uses_grace(void **state) {
  gxt_req r;
  gxd_child *ch;
  (void)state;
  req(&r);
  r.s.kill_grace_ms = 300;
  gx_rpc_call *c = running(&r, &ch);
  fake_child_output(ch, 1, "x", 1); /* in flight */
  fake_call_cancel(c);
  assert_int_equal(ch->nstops, 1);
  assert_int_equal(ch->stops[0], 300);
  fake_child_output(ch, 2, "dropped", 7);
  killed(ch, 15, 0);
  assert_int_equal(ch->len[1], 0); /* read and dropped */
  fake_call_sent(c, 0);            /* the cancelled call's send fails */
  assert_int_equal(c->nsent, 2);
  expect_chunk(c, 1, 1, "x");
  expect_status(c, GX_STATUS_CANCELLED, "the client cancelled the run");
  assert_int_equal(ch->nstops, 1);
  end_run(c, ch);
}

/* A failed send breaks the stream: the run is stopped with its grace. */
static void failed_send_stops_the_run(void **state) {
  gxt_req r;
  (void)state;
  req(&r);
  gx_rpc_call *c = open_run(&r);
  gxd_child *ch = fake_child_last;
  fake_child_exec_ok(ch, 4242);
  fake_call_sent(c, 0);
  assert_int_equal(ch->nstops, 1);
  assert_int_equal(ch->stops[0], 5000); /* the daemon's default grace */
  fake_child_output(ch, 1, "lost", 4);
  assert_int_equal(c->nsent, 1);
  assert_int_equal(ch->len[0], 0);
  exit_code(ch, 0);
  expect_status(c, GX_STATUS_CANCELLED, "the client cancelled the run");
  end_run(c, ch);
}

/* The timeout before the command existed: killed at once, the call ends
 * DEADLINE_EXCEEDED; while it runs: its grace, then exited{timed_out}. */
static void timeout_before_and_after_exec(void **state) {
  gxt_req r;
  gxd_child *ch;
  (void)state;
  req(&r);
  gx_rpc_call *c = open_run(&r);
  ch = fake_child_last;
  fake_child_timeout(ch);
  assert_int_equal(ch->nstops, 1);
  assert_int_equal(ch->stops[0], 0);
  killed(ch, 9, 1);
  assert_int_equal(c->nsent, 0);
  expect_status(c, GX_STATUS_DEADLINE_EXCEEDED,
                "the run's timeout passed before its command started");
  end_run(c, ch);
  r.s.kill_grace_ms = 700;
  c = running(&r, &ch);
  fake_child_timeout(ch);
  assert_int_equal(ch->stops[0], 700);
  killed(ch, 15, 1);
  assert_int_equal(fake_call_kind(c, 1), EV(EXITED));
  assert_true(c->sent[1]->exited->timed_out);
  assert_int_equal(c->sent[1]->exited->signal, 15);
  expect_status(c, GX_STATUS_OK, "");
  assert_int_equal(c->sent[0]->started->run_id, 2); /* ids never reused */
  end_run(c, ch);
}

/* The cwd could not be entered: the launcher ends by itself (no stop),
 * its own message is dropped, the status names the cwd. */
static void exec_fail_cwd(void **state) {
  gxt_req r;
  (void)state;
  req(&r);
  r.s.cwd = "/nope";
  gx_rpc_call *c = open_run(&r);
  gxd_child *ch = fake_child_last;
  fake_child_output(ch, 2, "gexec-launch: chdir", 19);
  fake_child_exec_fail(ch, GXL_FAIL_CWD, ENOENT);
  assert_int_equal(ch->len[1], 0);
  exit_code(ch, 127);
  assert_int_equal(ch->nstops, 0);
  assert_int_equal(c->nsent, 0);
  expect_status(c, GX_STATUS_FAILED_PRECONDITION,
                "cwd '/nope' does not exist");
  end_run(c, ch);
}

/* The sandbox could not be built, or the launcher died without saying
 * why: INTERNAL, never blamed on the client's program. */
static void launcher_failures(void **state) {
  gxt_req r;
  gxd_child_exit ex;
  (void)state;
  req(&r);
  gx_rpc_call *c = open_run(&r);
  gxd_child *ch = fake_child_last;
  memset(&ex, 0, sizeof ex);
  ex.exit_code = 125;
  snprintf(ex.launch_error, sizeof ex.launch_error, "mount /proc: EPERM");
  fake_child_exit(ch, &ex);
  expect_status(c, GX_STATUS_INTERNAL, "the run's sandbox could not be "
                                       "built: mount /proc: EPERM");
  end_run(c, ch);
  c = open_run(&r);
  ch = fake_child_last;
  exit_code(ch, 125);
  expect_status(c, GX_STATUS_INTERNAL,
                "the launcher " FAKE_LAUNCHER_PATH " (exit code 125) "
                "without starting the command");
  end_run(c, ch);
}

/* The launcher could not be started at all: the status at once. */
static void launch_refused(void **state) {
  static const struct {
    int rc, status;
    const char *msg;
  } cases[] = {
      {-E2BIG, GX_STATUS_INVALID_ARGUMENT,
       "argv and env are too large to hand over"},
      {-ENOMEM, GX_STATUS_RESOURCE_EXHAUSTED,
       "cannot start the launcher " FAKE_LAUNCHER_PATH
       ": Cannot allocate memory"},
      {-ENOENT, GX_STATUS_INTERNAL,
       "cannot start the launcher " FAKE_LAUNCHER_PATH
       ": No such file or directory"},
  };
  gxt_req r;
  (void)state;
  req(&r);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    fake_child_start_rc = cases[i].rc;
    gx_rpc_call *c = open_run(&r);
    assert_null(fake_child_last);
    expect_status(c, cases[i].status, cases[i].msg);
    end_run(c, NULL);
  }
}

/* The plan refuses: no launcher is started. */
static void plan_refused(void **state) {
  gxt_req r;
  (void)state;
  req(&r);
  r.s.profile = "nope";
  gx_rpc_call *c = open_run(&r);
  assert_null(fake_child_last);
  expect_status(c, GX_STATUS_INVALID_ARGUMENT,
                "unknown profile 'nope' (host, baseline, restricted)");
  end_run(c, NULL);
}

/* What the authorization hook saw, and its verdict. */
static struct {
  char identity[64];
  int authenticated;
  const char *program;
  int refuse;
} hook;

static char *hook_allow[] = {"/usr/bin/true"};

static int auth_hook(void *ud, gxd_plan *plan, char *why, size_t len) {
  (void)ud;
  snprintf(hook.identity, sizeof hook.identity, "%s", plan->caller.identity);
  hook.authenticated = plan->caller.authenticated;
  hook.program = plan->program;
  if (hook.refuse)
    return snprintf(why, len, "policy: no"), GX_STATUS_PERMISSION_DENIED;
  plan->request.allow = hook_allow; /* narrow: the program constraint */
  plan->request.allowc = 1;
  return GX_STATUS_OK;
}

/* The hook sees the caller the transport proved and the whole plan; a
 * refusal is the run's status; a constraint it adds reaches the
 * launcher's request. */
static void auth_hook_sees_caller_and_plan(void **state) {
  gxt_req r;
  (void)state;
  memset(&hook, 0, sizeof hook);
  sfx_ctx.auth = auth_hook;
  req(&r);
  gx_rpc_call *c = fake_call_new();
  c->authenticated = 1;
  session_start(c);
  send_start(c, &r);
  assert_string_equal(hook.identity, "fake-client");
  assert_int_equal(hook.authenticated, 1);
  assert_string_equal(hook.program, "sh");
  gxd_child *ch = fake_child_last;
  assert_non_null(ch);
  assert_int_equal(ch->allowc, 1);
  assert_string_equal(ch->allow0, "/usr/bin/true");
  fake_child_exec_ok(ch, 4242);
  fake_call_sent(c, 1);
  exit_code(ch, 0);
  expect_status(c, GX_STATUS_OK, "");
  end_run(c, ch);
  hook.refuse = 1;
  fake_child_last = NULL;
  c = open_run(&r);
  assert_null(fake_child_last);
  assert_string_equal(hook.identity, "uid=0(root)"); /* the unix peer */
  assert_int_equal(hook.authenticated, 0);
  expect_status(c, GX_STATUS_PERMISSION_DENIED, "policy: no");
  end_run(c, NULL);
  sfx_ctx.auth = NULL;
}

/* ------------------------------------------------------------ protocol */

static void second_start(void **state) {
  gxt_req r;
  gxd_child *ch;
  (void)state;
  req(&r);
  gx_rpc_call *c = running(&r, &ch);
  send_start(c, &r);
  assert_false(c->recv_posted); /* no more input */
  assert_int_equal(ch->nstops, 1);
  assert_int_equal(ch->stops[0], 5000);
  fake_child_output(ch, 1, "late", 4);
  assert_int_equal(c->nsent, 1); /* dropped */
  killed(ch, 15, 0);
  expect_status(c, GX_STATUS_INVALID_ARGUMENT, "a second start message");
  end_run(c, ch);
}

static void stdin_after_eof(void **state) {
  gxt_req r;
  gxd_child *ch;
  (void)state;
  req(&r);
  gx_rpc_call *c = running(&r, &ch);
  send_stdin(c, "ab");
  send_eof(c);
  assert_true(ch->stdin_closed);
  send_stdin(c, "c");
  assert_int_equal(ch->in_len, 2);
  assert_memory_equal(ch->in, "ab", 2);
  exit_code(ch, 0);
  expect_status(c, GX_STATUS_INVALID_ARGUMENT, "stdin sent after stdin_eof");
  end_run(c, ch);
}

/* A stdin message the pipe cannot take at once is held by the child;
 * the next message is received only once it drained. */
static void stdin_backpressure(void **state) {
  gxt_req r;
  gxd_child *ch;
  (void)state;
  req(&r);
  gx_rpc_call *c = running(&r, &ch);
  ch->pipe_room = 3;
  send_stdin(c, "hello");
  assert_int_equal(ch->in_pending, 2);
  assert_false(c->recv_posted);
  fake_child_drain_stdin(ch);
  assert_true(c->recv_posted);
  ch->pipe_room = (size_t)-1;
  send_stdin(c, " world");
  assert_true(c->recv_posted);
  assert_int_equal(ch->in_len, 11);
  assert_memory_equal(ch->in, "hello world", 11);
  fake_call_half_close(c); /* closes the child's stdin */
  assert_true(ch->stdin_closed);
  exit_code(ch, 0);
  expect_status(c, GX_STATUS_OK, "");
  end_run(c, ch);
}

static void bad_first_messages(void **state) {
  (void)state;
  gx_rpc_call *c = open_stream();
  send_stdin(c, "x");
  expect_status(c, GX_STATUS_INVALID_ARGUMENT,
                "the first message must be start, not stdin");
  end_run(c, NULL);
  c = open_stream();
  fake_call_deliver_bytes(c, "\xff\xff\xff", 3);
  expect_status(c, GX_STATUS_INVALID_ARGUMENT,
                "a 3-byte message is not a valid gexec.v1.RunRequest");
  end_run(c, NULL);
  c = open_stream();
  fake_call_half_close(c);
  expect_status(c, GX_STATUS_INVALID_ARGUMENT,
                "the stream ended before a start message");
  end_run(c, NULL);
  c = open_stream();
  fake_call_cancel(c);
  expect_status(c, GX_STATUS_CANCELLED, "the client cancelled the run");
  end_run(c, NULL);
}

/* A stream that never sends start gives up its slot. */
static void start_timeout(void **state) {
  (void)state;
  sfx_ctx.start_timeout_ms = 5;
  gx_rpc_call *c = open_stream();
  assert_int_equal(sfx_ctx.count, 1);
  uv_run(&sfx_loop, UV_RUN_DEFAULT);
  expect_status(c, GX_STATUS_DEADLINE_EXCEEDED,
                "no start message within 5 ms of opening the stream");
  assert_int_equal(sfx_ctx.count, 0);
  end_run(c, NULL);
}

static void max_output_truncates(void **state) {
  gxt_req r;
  gxd_child *ch;
  (void)state;
  req(&r);
  r.s.max_output_bytes = 4;
  gx_rpc_call *c = running(&r, &ch);
  fake_child_output(ch, 1, "hello", 5);
  expect_chunk(c, 1, 1, "hell");
  fake_call_sent(c, 1);
  fake_child_output(ch, 2, "more", 4); /* over the cap: dropped */
  assert_int_equal(c->nsent, 2);
  exit_code(ch, 0);
  assert_true(c->sent[2]->exited->output_truncated);
  expect_status(c, GX_STATUS_OK, "");
  end_run(c, ch);
}

int main(void) {
  gxd_log_set_level(GXD_LOG_DEBUG); /* the phase lines are built too */
  const struct CMUnitTest tests[] = {
      T(start_output_exit),
      T(signal_held_until_exec),
      T(cancel_while_launching),
      T(cancel_while_running_uses_grace),
      T(failed_send_stops_the_run),
      T(timeout_before_and_after_exec),
      T(exec_fail_cwd),
      T(launcher_failures),
      T(launch_refused),
      T(plan_refused),
      T(auth_hook_sees_caller_and_plan),
      T(second_start),
      T(stdin_after_eof),
      T(stdin_backpressure),
      T(bad_first_messages),
      T(start_timeout),
      T(max_output_truncates),
  };
  return cmocka_run_group_tests_name("server/session", tests, NULL, NULL);
}
