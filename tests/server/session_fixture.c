/* The session tests' fixture: see session_fixture.h. */
#include "tests/server/session_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/gx_err.h"
#include "server/env.h"

uv_loop_t sfx_loop;
gxd_session_ctx sfx_ctx;
static gxd_instance inst;
gxd_profiles sfx_profiles;
static gxd_tiers tiers;
static gxi_cgroup_caps caps;

int sfx_setup(void **state) {
  (void)state;
  assert_int_equal(uv_loop_init(&sfx_loop), 0);
  gxd_profiles_init(&sfx_profiles);
  memset(&tiers, 0, sizeof tiers);
  tiers.n = sfx_profiles.n;
  for (size_t i = 0; i < sfx_profiles.n; i++) {
    tiers.t[i].mechs = sfx_profiles.entry[i].mechs;
    tiers.t[i].usable = tiers.t[i].full = 1;
    tiers.t[i].cgroup_version = 2;
    snprintf(tiers.t[i].desc, sizeof tiers.t[i].desc, "%s: full",
             sfx_profiles.entry[i].name);
  }
  memset(&caps, 0, sizeof caps);
  caps.version = 2;
  caps.has_memory = caps.has_pids = caps.has_kill = 1;
  memset(&inst, 0, sizeof inst);
  snprintf(inst.name, sizeof inst.name, "session-test");
  inst.next_run = 1; /* no cgroups: runs get none */
  memset(&sfx_ctx, 0, sizeof sfx_ctx);
  sfx_ctx.loop = &sfx_loop;
  sfx_ctx.limits = gxd_default_limits;
  sfx_ctx.start_timeout_ms = 30000;
  sfx_ctx.launcher = fake_launcher();
  sfx_ctx.instance = &inst;
  sfx_ctx.plan.profiles = &sfx_profiles;
  sfx_ctx.plan.tiers = &tiers;
  sfx_ctx.plan.caps = &caps;
  sfx_ctx.plan.default_profile = GXI_PROFILE_BASELINE;
  sfx_ctx.plan.home = "/root";
  sfx_ctx.plan.default_grace_ms = 5000;
  sfx_ctx.plan.max_timeout_ms = 86400000;
  memset(sfx_ctx.plan.allowed, 1, sizeof sfx_ctx.plan.allowed);
  /* root over the unix socket and the fake TLS client may do anything */
  static const char policy[] =
      "{\"rules\": [{\"name\": \"tls\", \"match\": {\"cn\": \"fake-client\"},"
      " \"allow\": {}}, {\"name\": \"root\", \"match\": {\"uid\": 0},"
      " \"allow\": {}}]}";
  char why[256];
  assert_int_equal(gxd_policy_parse("t.json", policy, sizeof policy - 1,
                                    &sfx_profiles, &sfx_ctx.policy, why,
                                    sizeof why),
                   0);
  fake_child_last = NULL;
  fake_child_start_rc = 0;
  return 0;
}

int sfx_teardown(void **state) {
  (void)state;
  uv_run(&sfx_loop, UV_RUN_NOWAIT);
  assert_int_equal(sfx_ctx.allocated, 0);
  assert_int_equal(sfx_ctx.count, 0);
  assert_null(sfx_ctx.head);
  gxd_policy_unref(sfx_ctx.policy);
  assert_int_equal(uv_loop_close(&sfx_loop), 0);
  return 0;
}

void send_msg(gx_rpc_call *c, Gexec__V1__RunRequest *m) {
  fake_call_deliver(c, m);
}

void send_start(gx_rpc_call *c, gxt_req *r) {
  Gexec__V1__RunRequest m = GEXEC__V1__RUN_REQUEST__INIT;
  m.event_case = GEXEC__V1__RUN_REQUEST__EVENT_START;
  m.start = &r->s;
  send_msg(c, &m);
}

void send_stdin(gx_rpc_call *c, const char *data) {
  Gexec__V1__RunRequest m = GEXEC__V1__RUN_REQUEST__INIT;
  m.event_case = GEXEC__V1__RUN_REQUEST__EVENT_STDIN;
  m.stdin.data = (uint8_t *)data;
  m.stdin.len = strlen(data);
  send_msg(c, &m);
}

void send_eof(gx_rpc_call *c) {
  Gexec__V1__RunRequest m = GEXEC__V1__RUN_REQUEST__INIT;
  Gexec__V1__StdinEof eof = GEXEC__V1__STDIN_EOF__INIT;
  m.event_case = GEXEC__V1__RUN_REQUEST__EVENT_STDIN_EOF;
  m.stdin_eof = &eof;
  send_msg(c, &m);
}

void send_signal(gx_rpc_call *c, int n) {
  Gexec__V1__RunRequest m = GEXEC__V1__RUN_REQUEST__INIT;
  Gexec__V1__Signal sig = GEXEC__V1__SIGNAL__INIT;
  sig.number = n;
  m.event_case = GEXEC__V1__RUN_REQUEST__EVENT_SIGNAL;
  m.signal = &sig;
  send_msg(c, &m);
}

/* Starts the session of @p c, its caller as the fake transport says. */
void session_start_slot(gx_rpc_call *c, const gxd_guard_slot *slot) {
  gxd_caller_info caller;
  gxd_caller_read(c, NULL, &caller);
  gxd_session_start(&sfx_ctx, c, &caller, slot);
}

void session_start(gx_rpc_call *c) { session_start_slot(c, NULL); }

/* Opens a stream (the session posts its first receive). */
gx_rpc_call *open_stream(void) {
  gx_rpc_call *c = fake_call_new();
  session_start(c);
  assert_true(c->recv_posted);
  return c;
}

/* Opens a stream and starts @p r on it; returns the call. */
gx_rpc_call *open_run(gxt_req *r) {
  gx_rpc_call *c = open_stream();
  send_start(c, r);
  return c;
}

/* A request for `sh -c x` with default options (in place: the message
 * points into its own storage). */
void req(gxt_req *r) { gxt_req_init(r, ARGV("sh", "-c", "x")); }

/* Opens a run and has its command exec'd; `started` is sent and its
 * send completed. */
gx_rpc_call *running(gxt_req *r, gxd_child **ch) {
  gx_rpc_call *c = open_run(r);
  *ch = fake_child_last;
  assert_non_null(*ch);
  fake_child_exec_ok(*ch, 4242);
  assert_int_equal(fake_call_kind(c, c->nsent - 1), EV(STARTED));
  fake_call_sent(c, 1);
  return c;
}

void exit_code(gxd_child *ch, int code) {
  gxd_child_exit ex;
  memset(&ex, 0, sizeof ex);
  ex.exit_code = code;
  ex.reported = 1;
  fake_child_exit(ch, &ex);
}

void killed(gxd_child *ch, int sig, int timed_out) {
  gxd_child_exit ex;
  memset(&ex, 0, sizeof ex);
  ex.signal = sig;
  ex.timed_out = timed_out;
  fake_child_exit(ch, &ex);
}

/* Asserts the call finished with @p status and @p msg. */
void expect_status(const gx_rpc_call *c, int status, const char *msg) {
  assert_true(c->finished);
  if (c->status != status)
    fail_msg("status %s (%s), want %s", gx_status_name(c->status), c->msg,
             gx_status_name(status));
  assert_string_equal(c->msg, msg);
}

/* Asserts message @p i is a chunk of @p stream with exactly @p bytes. */
void expect_chunk(const gx_rpc_call *c, size_t i, int stream,
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
void end_run(gx_rpc_call *c, gxd_child *ch) {
  fake_call_end(c);
  if (ch) fake_child_closed(ch);
  uv_run(&sfx_loop, UV_RUN_NOWAIT);
  fake_call_free(c);
}
