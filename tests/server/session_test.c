/* Unit tests for server/session: the Run protocol on a bare uv loop, with
 * a fake rpc layer (fake_rpc.h) as the client and a fake child module
 * (fake_child.h) as the launcher. Every test ends with the session freed
 * (ASan reports what is not). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_err.h"
#include "server/log.h"
#include "server/env.h"
#include "server/session.h"
#include "tests/server/fake_child.h"
#include "tests/server/fake_rpc.h"
#include "tests/server/start_req.h"

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EV(x) GEXEC__V1__RUN_RESPONSE__EVENT_##x
#define DEF_ENV "PATH=" GXD_DEFAULT_PATH " HOME=/root LANG=C.UTF-8"

static uv_loop_t loop;
static gxd_session_ctx ctx;
static gxd_instance inst;
static gxd_profiles profiles;
static gxd_tiers tiers;
static gxi_cgroup_caps caps;

static int setup(void **state) {
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  gxd_profiles_init(&profiles);
  memset(&tiers, 0, sizeof tiers);
  tiers.n = profiles.n;
  for (size_t i = 0; i < profiles.n; i++) {
    tiers.t[i].mechs = profiles.entry[i].mechs;
    tiers.t[i].usable = tiers.t[i].full = 1;
    tiers.t[i].cgroup_version = 2;
    snprintf(tiers.t[i].desc, sizeof tiers.t[i].desc, "%s: full",
             profiles.entry[i].name);
  }
  memset(&caps, 0, sizeof caps);
  caps.version = 2;
  caps.has_memory = caps.has_pids = caps.has_kill = 1;
  memset(&inst, 0, sizeof inst);
  snprintf(inst.name, sizeof inst.name, "session-test");
  inst.next_run = 1; /* no cgroups: runs get none */
  memset(&ctx, 0, sizeof ctx);
  ctx.loop = &loop;
  ctx.limits = gxd_default_limits;
  ctx.start_timeout_ms = 30000;
  ctx.launcher = fake_launcher();
  ctx.instance = &inst;
  ctx.plan.profiles = &profiles;
  ctx.plan.tiers = &tiers;
  ctx.plan.caps = &caps;
  ctx.plan.default_profile = GXI_PROFILE_BASELINE;
  ctx.plan.home = "/root";
  ctx.plan.default_grace_ms = 5000;
  ctx.plan.max_timeout_ms = 86400000;
  memset(ctx.plan.allowed, 1, sizeof ctx.plan.allowed);
  /* root over the unix socket and the fake TLS client may do anything */
  static const char policy[] =
      "{\"rules\": [{\"name\": \"tls\", \"match\": {\"cn\": \"fake-client\"},"
      " \"allow\": {}}, {\"name\": \"root\", \"match\": {\"uid\": 0},"
      " \"allow\": {}}]}";
  char why[256];
  assert_int_equal(gxd_policy_parse("t.json", policy, sizeof policy - 1,
                                    &profiles, &ctx.policy, why, sizeof why),
                   0);
  fake_child_last = NULL;
  fake_child_start_rc = 0;
  return 0;
}

/* Every session was freed and every handle closed. */
static int teardown(void **state) {
  (void)state;
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(ctx.allocated, 0);
  assert_int_equal(ctx.count, 0);
  assert_null(ctx.head);
  gxd_policy_unref(ctx.policy);
  assert_int_equal(uv_loop_close(&loop), 0);
  return 0;
}

/* ------------------------------------------------------------ helpers */

static void send_msg(gx_rpc_call *c, Gexec__V1__RunRequest *m) {
  fake_call_deliver(c, m);
}

static void send_start(gx_rpc_call *c, gxt_req *r) {
  Gexec__V1__RunRequest m = GEXEC__V1__RUN_REQUEST__INIT;
  m.event_case = GEXEC__V1__RUN_REQUEST__EVENT_START;
  m.start = &r->s;
  send_msg(c, &m);
}

static void send_stdin(gx_rpc_call *c, const char *data) {
  Gexec__V1__RunRequest m = GEXEC__V1__RUN_REQUEST__INIT;
  m.event_case = GEXEC__V1__RUN_REQUEST__EVENT_STDIN;
  m.stdin.data = (uint8_t *)data;
  m.stdin.len = strlen(data);
  send_msg(c, &m);
}

static void send_eof(gx_rpc_call *c) {
  Gexec__V1__RunRequest m = GEXEC__V1__RUN_REQUEST__INIT;
  Gexec__V1__StdinEof eof = GEXEC__V1__STDIN_EOF__INIT;
  m.event_case = GEXEC__V1__RUN_REQUEST__EVENT_STDIN_EOF;
  m.stdin_eof = &eof;
  send_msg(c, &m);
}

static void send_signal(gx_rpc_call *c, int n) {
  Gexec__V1__RunRequest m = GEXEC__V1__RUN_REQUEST__INIT;
  Gexec__V1__Signal sig = GEXEC__V1__SIGNAL__INIT;
  sig.number = n;
  m.event_case = GEXEC__V1__RUN_REQUEST__EVENT_SIGNAL;
  m.signal = &sig;
  send_msg(c, &m);
}

/* Starts the session of @p c, its caller as the fake transport says. */
static void session_start_slot(gx_rpc_call *c, const gxd_guard_slot *slot) {
  gxd_caller_info caller;
  gxd_caller_read(c, NULL, &caller);
  gxd_session_start(&ctx, c, &caller, slot);
}

static void session_start(gx_rpc_call *c) { session_start_slot(c, NULL); }

/* Opens a stream (the session posts its first receive). */
static gx_rpc_call *open_stream(void) {
  gx_rpc_call *c = fake_call_new();
  session_start(c);
  assert_true(c->recv_posted);
  return c;
}

/* Opens a stream and starts @p r on it; returns the call. */
static gx_rpc_call *open_run(gxt_req *r) {
  gx_rpc_call *c = open_stream();
  send_start(c, r);
  return c;
}

/* A request for `sh -c x` with default options (in place: the message
 * points into its own storage). */
static void req(gxt_req *r) { gxt_req_init(r, ARGV("sh", "-c", "x")); }

/* Opens a run and has its command exec'd; `started` is sent and its
 * send completed. */
static gx_rpc_call *running(gxt_req *r, gxd_child **ch) {
  gx_rpc_call *c = open_run(r);
  *ch = fake_child_last;
  assert_non_null(*ch);
  fake_child_exec_ok(*ch, 4242);
  assert_int_equal(fake_call_kind(c, c->nsent - 1), EV(STARTED));
  fake_call_sent(c, 1);
  return c;
}

static void exit_code(gxd_child *ch, int code) {
  gxd_child_exit ex;
  memset(&ex, 0, sizeof ex);
  ex.exit_code = code;
  ex.reported = 1;
  fake_child_exit(ch, &ex);
}

static void killed(gxd_child *ch, int sig, int timed_out) {
  gxd_child_exit ex;
  memset(&ex, 0, sizeof ex);
  ex.signal = sig;
  ex.timed_out = timed_out;
  fake_child_exit(ch, &ex);
}

/* Asserts the call finished with @p status and @p msg. */
static void expect_status(const gx_rpc_call *c, int status, const char *msg) {
  assert_true(c->finished);
  if (c->status != status)
    fail_msg("status %s (%s), want %s", gx_status_name(c->status), c->msg,
             gx_status_name(status));
  assert_string_equal(c->msg, msg);
}

/* Asserts message @p i is a chunk of @p stream with exactly @p bytes. */
static void expect_chunk(const gx_rpc_call *c, size_t i, int stream,
                         const char *bytes) {
  const Gexec__V1__RunResponse *m = c->sent[i];
  const ProtobufCBinaryData *d = stream == 1 ? &m->stdout : &m->stderr;
  assert_int_equal(fake_call_kind(c, i), stream == 1 ? EV(STDOUT)
                                                     : EV(STDERR));
  assert_int_equal(d->len, strlen(bytes));
  assert_memory_equal(d->data, bytes, d->len);
}

/* gRPC is done with the call and the child (if any) finished closing:
 * the session is freed on the next loop turn. */
static void end_run(gx_rpc_call *c, gxd_child *ch) {
  fake_call_end(c);
  if (ch) fake_child_closed(ch);
  uv_run(&loop, UV_RUN_NOWAIT);
  fake_call_free(c);
}

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
  assert_int_equal(ch->run.mechs, profiles.entry[1].mechs);
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
  ctx.auth = auth_hook;
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
  ctx.auth = NULL;
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
  ctx.start_timeout_ms = 5;
  gx_rpc_call *c = open_stream();
  assert_int_equal(ctx.count, 1);
  uv_run(&loop, UV_RUN_DEFAULT);
  expect_status(c, GX_STATUS_DEADLINE_EXCEEDED,
                "no start message within 5 ms of opening the stream");
  assert_int_equal(ctx.count, 0);
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

/* ----------------------------------------------------------- lifecycle */

/* Draining: a stream without start is refused UNAVAILABLE at once; a
 * launching run is killed at once and ends UNAVAILABLE; a running one
 * gets its grace and its client still gets `exited`. */
static void stop_all_while_draining(void **state) {
  gxt_req r;
  gxd_child *running_ch;
  (void)state;
  req(&r);
  gx_rpc_call *waiting = open_stream();
  gx_rpc_call *launching = open_run(&r);
  gxd_child *launching_ch = fake_child_last;
  gx_rpc_call *run = running(&r, &running_ch);
  gxd_session_stop_all(&ctx);
  expect_status(waiting, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
  assert_int_equal(launching_ch->nstops, 1);
  assert_int_equal(launching_ch->stops[0], 0);
  assert_int_equal(running_ch->nstops, 1);
  assert_int_equal(running_ch->stops[0], 5000);
  killed(launching_ch, 9, 0);
  expect_status(launching, GX_STATUS_UNAVAILABLE, "gexecd is shutting down");
  fake_child_output(running_ch, 1, "bye", 3); /* still sent */
  killed(running_ch, 15, 0);
  fake_call_sent(run, 1);
  expect_chunk(run, 1, 1, "bye");
  assert_int_equal(fake_call_kind(run, 2), EV(EXITED));
  expect_status(run, GX_STATUS_OK, "");
  end_run(waiting, NULL);
  end_run(launching, launching_ch);
  end_run(run, running_ch);
}

/* The drain's bound (daemon.c): the longest grace among the runs whose
 * command runs; a launching run (killed at once) and a reaped one count
 * for nothing. */
static void max_grace_of_running_runs(void **state) {
  gxt_req r1, r2, r3;
  gxd_child *a, *b;
  (void)state;
  assert_int_equal(gxd_session_max_grace(&ctx), 0);
  req(&r1);
  r1.s.kill_grace_ms = 300;
  gx_rpc_call *c1 = running(&r1, &a);
  req(&r2);
  r2.s.kill_grace_ms = 900;
  gx_rpc_call *c2 = running(&r2, &b);
  req(&r3);
  r3.s.kill_grace_ms = 60000;
  gx_rpc_call *launching = open_run(&r3);
  gxd_child *l = fake_child_last;
  assert_int_equal(gxd_session_max_grace(&ctx), 900);
  exit_code(b, 0);
  assert_int_equal(gxd_session_max_grace(&ctx), 300);
  exit_code(a, 0);
  assert_int_equal(gxd_session_max_grace(&ctx), 0);
  fake_call_cancel(launching);
  killed(l, 9, 0);
  end_run(c1, a);
  end_run(c2, b);
  end_run(launching, l);
}

/* The session goes only when gRPC is done with the call and the child
 * finished closing, in either order. */
static void freed_after_call_and_child(void **state) {
  gxt_req r;
  gxd_child *ch;
  (void)state;
  req(&r);
  gx_rpc_call *c = running(&r, &ch);
  exit_code(ch, 0);
  fake_call_end(c);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(ctx.allocated, 1); /* the child is still closing */
  fake_child_closed(ch);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(ctx.allocated, 0);
  fake_call_free(c);
  c = running(&r, &ch);
  exit_code(ch, 0);
  fake_child_closed(ch);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(ctx.allocated, 1); /* gRPC still has the call */
  fake_call_end(c);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(ctx.allocated, 0);
  fake_call_free(c);
}

/* Opens a stream holding a place in @p g (as the daemon's on_call). */
static gx_rpc_call *open_guarded(gxd_guard *g, const char *conn) {
  gxd_guard_slot slot = {0};
  assert_int_equal(gxd_guard_open(g, conn, "anonymous", 0, &slot),
                   GXD_GUARD_OK);
  gx_rpc_call *c = fake_call_new();
  session_start_slot(c, &slot);
  return c;
}

/* Session slots are taken at the start message, not when the stream
 * opens: two waiting streams on a one-slot daemon; the first to start
 * runs, the second is refused with the limit; each gives its place back
 * with its status. */
static void slots_taken_at_start(void **state) {
  gxt_req r;
  gxd_guard *g;
  gxd_guard_limits l = {.max_runs = 1, .max_conn_pending = 8};
  (void)state;
  assert_int_equal(gxd_guard_new(&l, &g), 0);
  ctx.guard = g;
  req(&r);
  gx_rpc_call *a = open_guarded(g, "conn:1"), *b = open_guarded(g, "conn:2");
  assert_int_equal(gxd_guard_runs(g), 0);
  send_start(a, &r);
  gxd_child *ch = fake_child_last;
  assert_non_null(ch);
  assert_int_equal(gxd_guard_runs(g), 1);
  fake_child_last = NULL;
  send_start(b, &r);
  assert_null(fake_child_last); /* nothing launched */
  expect_status(b, GX_STATUS_RESOURCE_EXHAUSTED,
                "gexecd is at its session limit (1 run); retry later");
  end_run(b, NULL);
  assert_int_equal(gxd_guard_entries(g), 1); /* a's identity */
  fake_call_cancel(a);
  killed(ch, 9, 0);
  expect_status(a, GX_STATUS_CANCELLED, "the client cancelled the run");
  assert_int_equal(gxd_guard_runs(g), 0);
  end_run(a, ch);
  assert_int_equal(gxd_guard_entries(g), 0);
  ctx.guard = NULL;
  gxd_guard_free(g);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  gxd_log_set_level(GXD_LOG_DEBUG); /* the phase lines are built too */
  const struct CMUnitTest tests[] = {
      T(start_output_exit),
      T(signal_held_until_exec),
      T(cancel_while_launching),
      T(cancel_while_running_uses_grace),
      T(max_grace_of_running_runs),
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
      T(stop_all_while_draining),
      T(freed_after_call_and_child),
      T(slots_taken_at_start),
  };
  return cmocka_run_group_tests_name("server/session", tests, NULL, NULL);
}
