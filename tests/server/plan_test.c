/* Unit tests for server/plan: gxd_plan_build as a pure function (profile
 * choice, tiers, limits, env, the launcher's run and request, times,
 * stdio, the Isolation of `started`, the caller) and gxd_plan_exec_fail. */
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
#include "server/plan.h"
#include "tests/server/start_req.h"

#define DEF_PATH "PATH=" GXD_DEFAULT_PATH
#define GIB (1ull << 30)

/* One test's world: a profile table (built-ins plus "nonet", baseline
 * with a network namespace), its tiers (every entry full, cgroup v2),
 * cgroups with both controllers, a request. */
typedef struct {
  gxd_profiles profiles;
  gxd_tiers tiers;
  gxi_cgroup_caps caps;
  gxd_plan_config cfg;
  gxt_req req;
  Gexec__V1__Limits lim;
  gxd_plan_request pr;
  gxd_plan plan;
  char why[512];
} world;

static world w;

static void full_tier(size_t i) {
  gxd_tier *t = &w.tiers.t[i];
  memset(t, 0, sizeof *t);
  t->mechs = w.profiles.entry[i].mechs;
  t->usable = t->full = 1;
  t->cgroup_version = 2;
  snprintf(t->desc, sizeof t->desc, "%s: full", w.profiles.entry[i].name);
}

static int setup(void **state) {
  static const char nonet[] =
      "{\"profiles\":[{\"name\":\"nonet\",\"base\":\"baseline\","
      "\"add\":[\"net\"]}]}";
  (void)state;
  memset(&w, 0, sizeof w);
  gxd_profiles_init(&w.profiles);
  assert_int_equal(gxd_profiles_parse(&w.profiles, "t.json", nonet,
                                      sizeof nonet - 1, 1024, w.why,
                                      sizeof w.why), 0);
  w.tiers.n = w.profiles.n;
  for (size_t i = 0; i < w.profiles.n; i++) full_tier(i);
  w.caps.version = 2;
  w.caps.has_memory = w.caps.has_pids = w.caps.has_kill = 1;
  w.cfg.profiles = &w.profiles;
  w.cfg.tiers = &w.tiers;
  w.cfg.caps = &w.caps;
  w.cfg.default_profile = GXI_PROFILE_BASELINE;
  memset(w.cfg.allowed, 1, sizeof w.cfg.allowed);
  w.cfg.home = "/root";
  w.cfg.default_grace_ms = 5000;
  w.cfg.max_timeout_ms = 86400000;
  gxt_req_init(&w.req, (const char *const[]){"echo", "hi", NULL});
  w.pr.start = &w.req.s;
  w.pr.caller = (gxd_caller){.peer = "unix:", .identity = ""};
  w.pr.run_id = 7;
  w.pr.cgroup = "inst/run-7";
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gxd_plan_free(&w.plan);
  return 0;
}

/* Builds the plan of the world's request; returns the status. */
static int build(void) {
  gxd_plan_free(&w.plan);
  memset(w.why, 0, sizeof w.why);
  return gxd_plan_build(&w.cfg, &w.pr, &w.plan, w.why, sizeof w.why);
}

static void expect_ok(void) {
  int st = build();
  if (st != GX_STATUS_OK)
    fail_msg("refused %s: %s", gx_status_name(st), w.why);
}

static void expect_refused(int status, const char *why) {
  int st = build();
  if (st != status)
    fail_msg("status %s, want %s (%s)", gx_status_name(st),
             gx_status_name(status), w.why);
  assert_string_equal(w.why, why);
  assert_null(w.plan.env); /* a refused plan owns nothing */
}

static void ask_limits(uint64_t mem, uint64_t pids, uint64_t cpu,
                       uint64_t files) {
  Gexec__V1__Limits init = GEXEC__V1__LIMITS__INIT;
  w.lim = init;
  w.lim.memory_bytes = mem;
  w.lim.pids = pids;
  w.lim.cpu_time_ms = cpu;
  w.lim.open_files = files;
  w.req.s.limits = &w.lim;
}

/* ------------------------------------------------------------ profile */

static void default_and_named_profile(void **state) {
  (void)state;
  expect_ok();
  assert_int_equal(w.plan.profile_index, GXI_PROFILE_BASELINE);
  assert_string_equal(w.plan.profile->name, "baseline");
  assert_ptr_equal(w.plan.tier, &w.tiers.t[GXI_PROFILE_BASELINE]);
  assert_false(w.plan.reduced);
  w.req.s.profile = "restricted";
  expect_ok();
  assert_string_equal(w.plan.profile->name, "restricted");
  w.req.s.profile = ""; /* empty is the default too */
  w.cfg.default_profile = GXI_PROFILE_HOST;
  expect_ok();
  assert_string_equal(w.plan.profile->name, "host");
  w.req.s.profile = "nonet";
  expect_ok();
  assert_int_equal(w.plan.profile_index, 3);
}

static void unknown_profile(void **state) {
  (void)state;
  w.req.s.profile = "nope";
  expect_refused(GX_STATUS_INVALID_ARGUMENT,
                 "unknown profile 'nope' (host, baseline, restricted, "
                 "nonet)");
  gxd_profiles_init(&w.profiles); /* the built-ins alone: today's text */
  expect_refused(GX_STATUS_INVALID_ARGUMENT,
                 "unknown profile 'nope' (host, baseline, restricted)");
}

static void tier_not_usable(void **state) {
  (void)state;
  w.req.s.profile = "restricted";
  w.tiers.t[GXI_PROFILE_RESTRICTED].usable = 0;
  w.tiers.t[GXI_PROFILE_RESTRICTED].full = 0;
  expect_refused(GX_STATUS_FAILED_PRECONDITION,
                 "profile restricted cannot run on this host "
                 "(restricted: full)");
}

static void reduced_refused_then_allowed(void **state) {
  gxd_tier *t = &w.tiers.t[GXI_PROFILE_RESTRICTED];
  (void)state;
  w.req.s.profile = "restricted";
  t->full = 0;
  t->mechs &= ~(uint32_t)GXI_MECH_USER;
  snprintf(t->missing, sizeof t->missing, "user namespace");
  snprintf(t->desc, sizeof t->desc, "restricted: REDUCED");
  expect_refused(GX_STATUS_FAILED_PRECONDITION,
                 "profile restricted is not available in full on this "
                 "host (missing: user namespace); gexecd serves it "
                 "reduced only when started with --allow-reduced "
                 "restricted");
  w.cfg.allow_reduced[GXI_PROFILE_RESTRICTED] = 1;
  expect_ok();
  assert_true(w.plan.reduced);
  assert_int_equal(w.plan.run.mechs, t->mechs); /* the tier, not more */
  assert_int_equal(w.plan.uid, 0);
  assert_string_equal(w.plan.isolation.description, "restricted: REDUCED");
}

/* ------------------------------------------------------------- limits */

static void limits_request_default_cap(void **state) {
  (void)state;
  w.req.s.profile = "restricted"; /* defaults 1 GiB, 1024 tasks, files */
  expect_ok();
  assert_int_equal(w.plan.limits.memory_bytes, GIB);
  assert_int_equal(w.plan.limits.pids, 1024);
  assert_int_equal(w.plan.limits.cpu_time_ms, 0);
  assert_int_equal(w.plan.limits.open_files, 1024);
  /* without --max-* flags the profile's defaults are the caps: asking
   * for more (the red-team's 1 TiB and a million pids) gets the default */
  ask_limits(1024 * GIB, 1000000, 5000, 0);
  expect_ok();
  assert_int_equal(w.plan.limits.memory_bytes, GIB);
  assert_int_equal(w.plan.limits.pids, 1024);
  assert_int_equal(w.plan.limits.cpu_time_ms, 5000); /* no default: free */
  assert_int_equal(w.plan.limits.open_files, 1024);
  ask_limits(GIB / 4, 64, 0, 0); /* below the default: the request's */
  expect_ok();
  assert_int_equal(w.plan.limits.memory_bytes, GIB / 4);
  assert_int_equal(w.plan.limits.pids, 64);
  /* an operator's cap replaces the default as the bound */
  w.cfg.max_limits = (gxi_limits){2 * GIB, GXD_CAP_NONE, 0, 0};
  ask_limits(1024 * GIB, 1000000, 0, 0);
  expect_ok();
  assert_int_equal(w.plan.limits.memory_bytes, 2 * GIB);
  assert_int_equal(w.plan.limits.pids, 1000000); /* --max-pids 0: no cap */
  ask_limits(2 * GIB, 64, 5000, 0);
  w.cfg.max_limits = (gxi_limits){GIB / 2, 128, 1000, 256}; /* caps */
  expect_ok();
  assert_int_equal(w.plan.limits.memory_bytes, GIB / 2);
  assert_int_equal(w.plan.limits.pids, 64);     /* below its cap */
  assert_int_equal(w.plan.limits.cpu_time_ms, 1000);
  assert_int_equal(w.plan.limits.open_files, 256); /* default, capped */
  w.req.s.profile = "host"; /* no defaults: a cap is the limit */
  w.req.s.limits = NULL;
  expect_ok();
  assert_int_equal(w.plan.limits.memory_bytes, GIB / 2);
  assert_int_equal(w.plan.limits.cpu_time_ms, 1000);
  assert_memory_equal(&w.plan.run.limits, &w.plan.limits,
                      sizeof w.plan.limits);
}

/* --allow-profiles: a profile clients may not ask for is refused by
 * name; the default still serves runs that name none. */
/* A policy grant: its profile is the default when the request names
 * none (and --allow-profiles does not apply: the rule chose); its limit
 * defaults replace the profile's, its caps bound the result; its
 * timeout cap applies to runs that ask none; its allow list is the
 * program constraint. */
static void policy_grant_applies(void **state) {
  (void)state;
  static char *allow[] = {"/usr/bin/*", "/bin/true"};
  gxd_policy_grant g = {.rule = "ops", .profile = "host",
                        .max_timeout_ms = 10000, .allow = allow,
                        .allowc = 2};
  g.limit_defaults = (gxi_limits){.pids = 64, .open_files = 100};
  g.limit_caps = (gxi_limits){.pids = 64, .open_files = 100,
                              .cpu_time_ms = 2000};
  memset(w.cfg.allowed, 0, sizeof w.cfg.allowed); /* --allow-profiles */
  w.cfg.allowed[GXI_PROFILE_RESTRICTED] = 1;
  w.pr.grant = &g;
  expect_ok();
  assert_string_equal(w.plan.profile->name, "host");
  assert_int_equal(w.plan.limits.pids, 64);
  assert_int_equal(w.plan.limits.open_files, 100);
  assert_int_equal(w.plan.limits.cpu_time_ms, 2000); /* cap, none asked */
  assert_int_equal(w.plan.limits.memory_bytes, 0);
  assert_int_equal(w.plan.timeout_ms, 10000);
  assert_int_equal(w.plan.allowc, 2);
  assert_ptr_equal(w.plan.request.allow, allow);
  assert_int_equal(w.plan.request.allowc, 2);
  gxd_plan_free(&w.plan);
  w.req.s.timeout_ms = 3000; /* asked below the cap: the request's */
  ask_limits(0, 32, 0, 0);
  expect_ok();
  assert_int_equal(w.plan.timeout_ms, 3000);
  assert_int_equal(w.plan.limits.pids, 32);
  gxd_plan_free(&w.plan);
  g.profile = NULL; /* the rule does not say: the daemon's bounds hold */
  w.req.s.profile = "host";
  assert_int_equal(gxd_plan_build(&w.cfg, &w.pr, &w.plan, w.why, sizeof w.why),
                   GX_STATUS_PERMISSION_DENIED);
  w.pr.grant = NULL;
}

static void profile_not_allowed(void **state) {
  (void)state;
  memset(w.cfg.allowed, 0, sizeof w.cfg.allowed);
  w.cfg.allowed[GXI_PROFILE_BASELINE] = w.cfg.allowed[GXI_PROFILE_RESTRICTED] = 1;
  w.req.s.profile = "host";
  assert_int_equal(gxd_plan_build(&w.cfg, &w.pr, &w.plan, w.why, sizeof w.why),
                   GX_STATUS_PERMISSION_DENIED);
  assert_string_equal(w.why, "profile host is not allowed by this daemon "
                             "(allowed: baseline, restricted)");
  w.req.s.profile = "";
  expect_ok();
  assert_string_equal(w.plan.profile->name, "baseline");
}

/* A host without the memory controller: restricted's memory default is
 * not applied (its tier says what is missing); pids still is. */
static void defaults_less_missing_controllers(void **state) {
  (void)state;
  w.req.s.profile = "restricted";
  w.caps.has_memory = 0;
  expect_ok();
  assert_int_equal(w.plan.limits.memory_bytes, 0);
  assert_int_equal(w.plan.limits.pids, 1024);
  w.tiers.t[GXI_PROFILE_RESTRICTED].cgroup_version = 0;
  w.tiers.t[GXI_PROFILE_RESTRICTED].full = 0;
  w.cfg.allow_reduced[GXI_PROFILE_RESTRICTED] = 1;
  expect_ok();
  assert_int_equal(w.plan.limits.pids, 0);
}

static void limits_without_cgroups_refused(void **state) {
  (void)state;
  w.tiers.t[GXI_PROFILE_BASELINE].cgroup_version = 0;
  expect_ok(); /* no limits asked: served */
  assert_string_equal(w.plan.isolation.cgroup, "v2"); /* tracked */
  ask_limits(0, 64, 0, 0);
  expect_refused(GX_STATUS_FAILED_PRECONDITION,
                 "memory and pids limits need cgroups, which this host "
                 "does not provide (tier: baseline: full)");
  ask_limits(0, 0, 1000, 64); /* rlimits need no cgroup */
  expect_ok();
}

/* ------------------------------------------------------------ command */

static void env_defaults_and_requested(void **state) {
  (void)state;
  expect_ok();
  assert_int_equal(w.plan.envc, 3);
  assert_string_equal(w.plan.env[0], DEF_PATH);
  assert_string_equal(w.plan.env[1], "HOME=/root");
  assert_string_equal(w.plan.env[2], "LANG=C.UTF-8");
  assert_null(w.plan.env[3]);
  gxt_req_env(&w.req, "PATH", "/opt/bin");
  gxt_req_env(&w.req, "FOO", "bar");
  expect_ok();
  assert_int_equal(w.plan.envc, 4);
  assert_string_equal(w.plan.env[0], "HOME=/root");
  assert_string_equal(w.plan.env[1], "LANG=C.UTF-8");
  assert_string_equal(w.plan.env[2], "PATH=/opt/bin");
  assert_string_equal(w.plan.env[3], "FOO=bar");
  assert_ptr_equal(w.plan.request.envp, w.plan.env);
  assert_int_equal(w.plan.request.envc, 4);
}

static void command_cwd_times_stdio(void **state) {
  (void)state;
  expect_ok();
  assert_string_equal(w.plan.cwd, "/");
  assert_string_equal(w.plan.program, "echo");
  assert_int_equal(w.plan.argc, 2);
  assert_string_equal(w.plan.argv[1], "hi");
  assert_int_equal(w.plan.timeout_ms, 86400000);
  assert_int_equal(w.plan.grace_ms, 5000);
  assert_int_equal(w.plan.max_output, 0);
  assert_true(w.plan.stdio.stdin_pipe);
  assert_true(w.plan.stdio.stdout_pipe);
  assert_int_equal(w.plan.stdio.stderr_mode, 1);
  w.req.s.cwd = "/srv";
  w.req.s.timeout_ms = 2500;
  w.req.s.kill_grace_ms = 300;
  w.req.s.max_output_bytes = 4096;
  w.req.s.stdin_mode = GEXEC__V1__STDIN_MODE__STDIN_NULL;
  w.req.s.stdout_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD;
  w.req.s.stderr_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT;
  expect_ok();
  assert_string_equal(w.plan.cwd, "/srv");
  assert_string_equal(w.plan.request.cwd, "/srv");
  assert_int_equal(w.plan.timeout_ms, 2500);
  assert_int_equal(w.plan.grace_ms, 300);
  assert_int_equal(w.plan.max_output, 4096);
  assert_false(w.plan.stdio.stdin_pipe);
  assert_false(w.plan.stdio.stdout_pipe);
  assert_int_equal(w.plan.stdio.stderr_mode, 2);
  w.req.s.stderr_mode = GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD;
  expect_ok();
  assert_int_equal(w.plan.stdio.stderr_mode, 0);
}

static void launcher_run_and_request(void **state) {
  (void)state;
  w.req.s.profile = "nonet";
  expect_ok();
  assert_int_equal(w.plan.run.run_id, 7);
  assert_int_equal(w.plan.run.profile, GXI_PROFILE_BASELINE); /* its base */
  assert_int_equal(w.plan.run.mechs, w.profiles.entry[3].mechs);
  assert_true(w.plan.run.mechs & GXI_MECH_NET);
  assert_string_equal(w.plan.run.cgroup, "inst/run-7");
  assert_ptr_equal(w.plan.request.argv, w.req.s.argv);
  assert_int_equal(w.plan.request.argc, 2);
  assert_int_equal(w.plan.request.allowc, 0); /* any program, today */
  assert_null(w.plan.request.allow);
  assert_int_equal(w.plan.allowc, 0);
  w.pr.cgroup = "";
  expect_ok();
  assert_string_equal(w.plan.run.cgroup, "");
  assert_string_equal(w.plan.isolation.cgroup, ""); /* none at all */
}

static void caller_carried(void **state) {
  (void)state;
  w.pr.caller = (gxd_caller){.peer = "ipv4:127.0.0.1:5000",
                             .authenticated = 1, .identity = "alice"};
  expect_ok();
  assert_string_equal(w.plan.caller.peer, "ipv4:127.0.0.1:5000");
  assert_true(w.plan.caller.authenticated);
  assert_string_equal(w.plan.caller.identity, "alice");
  assert_string_equal(w.plan.profile->name, "baseline"); /* decides nothing */
}

/* ---------------------------------------------------------- isolation */

/* The namespaces of the plan's Isolation, joined by ','. */
static const char *namespaces(void) {
  static char buf[64];
  buf[0] = '\0';
  for (size_t i = 0; i < w.plan.isolation.n_namespaces; i++)
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s",
             i ? "," : "", w.plan.isolation.namespaces[i]);
  return buf;
}

static void isolation_per_profile(void **state) {
  const gxd_plan_isolation *i = &w.plan.isolation;
  (void)state;
  w.req.s.profile = "host";
  expect_ok();
  assert_true(i->present);
  assert_string_equal(i->profile, "host");
  assert_string_equal(namespaces(), "");
  assert_string_equal(i->cgroup, "v2"); /* tracked, cgroup.kill */
  assert_false(i->seccomp || i->read_only_root || i->no_new_privs);
  assert_int_equal(i->uid, 0);
  assert_string_equal(i->description, "host: full");
  w.req.s.profile = "baseline";
  w.caps.has_kill = 0; /* tracked in a v1 pids leaf */
  expect_ok();
  assert_string_equal(namespaces(), "pid,ipc,uts,mount");
  assert_string_equal(i->cgroup, "v1");
  w.req.s.profile = "restricted";
  w.tiers.t[GXI_PROFILE_RESTRICTED].cgroup_version = 1;
  expect_ok();
  assert_string_equal(namespaces(), "pid,ipc,uts,mount,user,net");
  assert_string_equal(i->cgroup, "v1"); /* limits: the tier's version */
  assert_true(i->seccomp && i->read_only_root && i->no_new_privs);
  assert_int_equal(i->uid, 1000);
  assert_int_equal(w.plan.uid, 1000);
  w.req.s.profile = "nonet";
  expect_ok();
  assert_string_equal(i->profile, "nonet");
  assert_string_equal(namespaces(), "pid,ipc,uts,mount,net");
  assert_false(i->seccomp);
}

/* Unprobed (no tiers): the profile's own mechanisms, nothing checked,
 * nothing vouched for in `started`. */
static void unprobed(void **state) {
  (void)state;
  w.cfg.tiers = NULL;
  w.req.s.profile = "restricted";
  expect_ok();
  assert_null(w.plan.tier);
  assert_false(w.plan.isolation.present);
  assert_int_equal(w.plan.run.mechs,
                   w.profiles.entry[GXI_PROFILE_RESTRICTED].mechs);
  assert_int_equal(w.plan.limits.memory_bytes, GIB);
}

/* ----------------------------------------------------------- failures */

static int exec_fail(gxl_fail_what what, int err) {
  gxl_record rec = {.kind = GXL_REC_EXEC_FAIL, .what = what, .err = err};
  memset(w.why, 0, sizeof w.why);
  return gxd_plan_exec_fail(&w.plan, &rec, w.why, sizeof w.why);
}

static void exec_failures(void **state) {
  static const struct {
    gxl_fail_what what;
    int err, status;
    const char *why;
  } rows[] = {
      {GXL_FAIL_CWD, ENOENT, GX_STATUS_FAILED_PRECONDITION,
       "cwd '/nope' does not exist"},
      {GXL_FAIL_CWD, ENOTDIR, GX_STATUS_FAILED_PRECONDITION,
       "cwd '/nope' does not exist or is not a directory"},
      {GXL_FAIL_CWD, EACCES, GX_STATUS_PERMISSION_DENIED,
       "cwd '/nope' is not accessible to the run's user"},
      {GXL_FAIL_PROGRAM, ENOENT, GX_STATUS_NOT_FOUND,
       "cannot run 'echo': program or its interpreter not found"},
      {GXL_FAIL_PROGRAM, EACCES, GX_STATUS_PERMISSION_DENIED,
       "cannot run 'echo': permission denied"},
      {GXL_FAIL_PROGRAM, ENOEXEC, GX_STATUS_PERMISSION_DENIED,
       "cannot run 'echo': not an executable format (no #! line?)"},
      {GXL_FAIL_PROGRAM, E2BIG, GX_STATUS_INVALID_ARGUMENT,
       "cannot run 'echo': argument list too long"},
      {GXL_FAIL_PROGRAM, ENAMETOOLONG, GX_STATUS_INVALID_ARGUMENT,
       "cannot run 'echo': name too long"},
      {GXL_FAIL_PROGRAM, EMFILE, GX_STATUS_RESOURCE_EXHAUSTED,
       "cannot start 'echo': Too many open files"},
      {GXL_FAIL_PROGRAM, EIO, GX_STATUS_INTERNAL,
       "cannot start 'echo': Input/output error"},
      {GXL_FAIL_DENIED, EPERM, GX_STATUS_PERMISSION_DENIED,
       "cannot run 'echo': not a program this run may start (the daemon's "
       "program constraint)"},
  };
  (void)state;
  w.req.s.cwd = "/nope";
  expect_ok();
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    assert_int_equal(exec_fail(rows[i].what, rows[i].err), rows[i].status);
    assert_string_equal(w.why, rows[i].why);
  }
}

/* A private /tmp (read-only root) is named when a cwd there is missing. */
static void exec_fail_private_tmp(void **state) {
  (void)state;
  w.req.s.cwd = "/tmp/x";
  expect_ok(); /* baseline: the host's /tmp */
  exec_fail(GXL_FAIL_CWD, ENOENT);
  assert_string_equal(w.why, "cwd '/tmp/x' does not exist");
  w.req.s.profile = "restricted";
  expect_ok();
  exec_fail(GXL_FAIL_CWD, ENOENT);
  assert_string_equal(w.why, "cwd '/tmp/x' does not exist (this profile "
                             "has a private /tmp)");
}

static void free_twice(void **state) {
  (void)state;
  expect_ok();
  gxd_plan_free(&w.plan);
  assert_null(w.plan.env);
  assert_null(w.plan.request.envp);
  assert_string_equal(w.plan.cwd, "/"); /* borrowed parts stay */
  gxd_plan_free(&w.plan);
}

/* --------------------------------------------------------------- user */

/* alice: uid 1001, primary group 1002, also in 27 and 100. */
static const gxd_user alice = {.name = "alice", .uid = 1001, .gid = 1002,
                               .groups = {1002, 27, 100}, .ngroups = 3,
                               .home = "/home/alice", .shell = "/bin/bash"};

static void ask_user(const gxd_user *u) {
  w.req.s.user = (char *)u->name;
  w.pr.user = u;
}

/* The plan's environment is exactly @p want (NULL-terminated). */
static void expect_env(const char *const *want) {
  size_t n = 0;
  for (; want[n]; n++) assert_string_equal(w.plan.env[n], want[n]);
  assert_null(w.plan.env[n]);
  assert_int_equal(w.plan.envc, n);
}

/* host and baseline: the launcher gets the user's ids, the command its
 * passwd environment, `started` its uid. */
static void user_ids_env_uid(void **state) {
  (void)state;
  ask_user(&alice);
  for (int k = 0; k < 2; k++) {
    w.req.s.profile = k ? "baseline" : "host";
    expect_ok();
    assert_ptr_equal(w.plan.user, &alice);
    assert_true(w.plan.request.has_ids);
    assert_int_equal(w.plan.request.ids.uid, 1001);
    assert_int_equal(w.plan.request.ids.gid, 1002);
    assert_int_equal(w.plan.request.ids.ngroups, 3);
    assert_int_equal(w.plan.request.ids.groups[0], 1002);
    assert_int_equal(w.plan.request.ids.groups[1], 27);
    assert_int_equal(w.plan.request.ids.groups[2], 100);
    assert_int_equal(w.plan.uid, 1001);
    assert_int_equal(w.plan.isolation.uid, 1001);
    expect_env((const char *const[]){
        DEF_PATH, "HOME=/home/alice", "LANG=C.UTF-8", "USER=alice",
        "LOGNAME=alice", "SHELL=/bin/bash", NULL});
  }
  /* without a user: as before, no ids, no USER/LOGNAME/SHELL */
  w.req.s.user = "";
  w.pr.user = NULL;
  expect_ok();
  assert_null(w.plan.user);
  assert_false(w.plan.request.has_ids);
  assert_int_equal(w.plan.uid, 0);
  expect_env((const char *const[]){DEF_PATH, "HOME=/root", "LANG=C.UTF-8",
                                   NULL});
}

/* The client's variables replace the user's defaults, like any other. */
static void user_env_replaced(void **state) {
  (void)state;
  ask_user(&alice);
  gxt_req_env(&w.req, "HOME", "/srv");
  gxt_req_env(&w.req, "USER", "someone");
  expect_ok();
  expect_env((const char *const[]){DEF_PATH, "LANG=C.UTF-8", "LOGNAME=alice",
                                   "SHELL=/bin/bash", "HOME=/srv",
                                   "USER=someone", NULL});
}

/* restricted: uid 1000 inside (the launcher maps it to the user); the
 * tier without a user namespace: the user's own uid. */
static void user_restricted(void **state) {
  (void)state;
  ask_user(&alice);
  w.req.s.profile = "restricted";
  expect_ok();
  assert_true(w.plan.request.has_ids);
  assert_int_equal(w.plan.request.ids.uid, 1001);
  assert_int_equal(w.plan.request.ids.gid, 1002);
  assert_int_equal(w.plan.uid, 1000);
  assert_int_equal(w.plan.isolation.uid, 1000);
  assert_string_equal(w.plan.env[3], "USER=alice");
  gxd_tier *t = &w.tiers.t[GXI_PROFILE_RESTRICTED];
  t->mechs = gxi_mech_without(t->mechs, GXI_MECH_USER);
  t->full = 0;
  w.cfg.allow_reduced[GXI_PROFILE_RESTRICTED] = 1;
  expect_ok();
  assert_int_equal(w.plan.uid, 1001);
  assert_int_equal(w.plan.isolation.uid, 1001);
}

/* restricted never runs as the host's root (uid or gid 0), nor as the
 * id it maps its own root to (the id map would be refused); elsewhere
 * such users can run. */
static void user_restricted_outer_root(void **state) {
  static const uint32_t ids[4][2] = {
      {GXI_OUTER_ROOT_UID, 1002}, {1001, GXI_OUTER_ROOT_UID}, {0, 1002},
      {1001, 0}};
  gxd_user u = alice;
  (void)state;
  for (int k = 0; k < 4; k++) {
    u.uid = ids[k][0];
    u.gid = ids[k][1];
    ask_user(&u);
    w.req.s.profile = "restricted";
    expect_refused(GX_STATUS_FAILED_PRECONDITION,
                   k < 2 ? "user 'alice' cannot run in profile restricted: "
                           "its uid or gid is 100000, which restricted's "
                           "user namespace maps its root to"
                         : "user 'alice' cannot run in profile restricted: "
                           "its uid or gid is 0, and restricted never runs "
                           "as the host's root (use host or baseline)");
    w.req.s.profile = "baseline";
    expect_ok();
    assert_int_equal(w.plan.uid, u.uid);
  }
}

/* Start.user set but not resolved (or resolved as another) is the
 * caller's bug: refused, never run as the daemon's user. A user without
 * Start.user is the daemon's choice (its default). */
static void user_not_resolved(void **state) {
  gxd_user bob = alice;
  (void)state;
  w.req.s.user = "bob";
  expect_refused(GX_STATUS_INTERNAL, "user 'bob' was not resolved");
  w.pr.user = &alice;
  expect_refused(GX_STATUS_INTERNAL, "user 'bob' was not resolved");
  snprintf(bob.name, sizeof bob.name, "bob");
  w.pr.user = &bob;
  expect_ok();
  w.req.s.user = NULL;
  w.pr.user = &alice;
  expect_ok();
  assert_int_equal(w.plan.request.ids.uid, 1001);
}

static void user_exec_fail(void **state) {
  (void)state;
  ask_user(&alice);
  expect_ok();
  assert_int_equal(exec_fail(GXL_FAIL_USER, EPERM), GX_STATUS_INTERNAL);
  assert_string_equal(w.why, "cannot run as user 'alice' (uid 1001): "
                             "Operation not permitted");
  assert_int_equal(exec_fail(GXL_FAIL_USER, EAGAIN),
                   GX_STATUS_RESOURCE_EXHAUSTED);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(default_and_named_profile),
      T(unknown_profile),
      T(tier_not_usable),
      T(reduced_refused_then_allowed),
      T(limits_request_default_cap),
      T(profile_not_allowed),
      T(policy_grant_applies),
      T(defaults_less_missing_controllers),
      T(limits_without_cgroups_refused),
      T(env_defaults_and_requested),
      T(command_cwd_times_stdio),
      T(launcher_run_and_request),
      T(caller_carried),
      T(isolation_per_profile),
      T(unprobed),
      T(exec_failures),
      T(exec_fail_private_tmp),
      T(free_twice),
      T(user_ids_env_uid),
      T(user_env_replaced),
      T(user_restricted),
      T(user_restricted_outer_root),
      T(user_not_resolved),
      T(user_exec_fail),
  };
  return cmocka_run_group_tests_name("server/plan", tests, NULL, NULL);
}
