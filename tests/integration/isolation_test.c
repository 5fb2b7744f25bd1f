/* Integration: isolation profiles, limits and tiers, through a real
 * gexecd. Each test checks a mechanism by its effect, usually against a
 * contrast (the same command in a profile without the mechanism), so it
 * fails if the mechanism were missing. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/harness.h"

#define conn gxt_group_conn

static char instance[64]; /* of the group's daemon */

static int setup(void **state) {
  char flag[80];
  (void)state;
  snprintf(instance, sizeof instance, "gxt-iso-%d", (int)getpid());
  snprintf(flag, sizeof flag, "--instance=%s", instance);
  gxt_group_start(ARGV("--kill-grace=300ms", flag));
  return 0;
}

/* Tests of a mechanism skip only when the kernel itself lacks it,
 * checked independently of the daemon (whose probe is under test). */
#define NEED_FULL() GXT_SKIP_UNLESS(GXT_NEED_NAMESPACES | GXT_NEED_SECCOMP)
#define NEED_CGROUP() GXT_SKIP_UNLESS(GXT_NEED_CGROUPS)

static int teardown(void **state) {
  (void)state;
  gxt_group_stop();
  return 0;
}

/* Runs sh -c @p script in @p profile; returns the result (caller frees). */
static gexec_result run_in(const char *profile, const char *script,
                           const gexec_spec *extra) {
  gexec_spec spec = extra ? *extra : (gexec_spec){0};
  spec.argv = ARGV("sh", "-c", script);
  spec.profile = profile;
  spec.stdin_null = 1;
  gexec_result r;
  gexec_error err;
  if (gexec_run(conn, &spec, NULL, &r, &err) != GEXEC_OK)
    fail_msg("%s run failed: %s", profile, err.message);
  return r;
}

static void test_started_reports_isolation(void **state) {
  (void)state;
  NEED_FULL();
  gexec_result r = run_in("restricted", "true", NULL);
  const gexec_isolation *i = &r.exit.isolation;
  assert_string_equal(i->profile, "restricted");
  assert_string_equal(i->namespaces, "pid,ipc,uts,mount,user,net");
  assert_true(i->seccomp);
  assert_true(i->read_only_root);
  assert_true(i->no_new_privs);
  assert_int_equal(i->uid, 1000);
  assert_non_null(strstr(i->description, "(full)"));
  gexec_result_free(&r);
  r = run_in("host", "true", NULL);
  assert_string_equal(r.exit.isolation.profile, "host");
  assert_string_equal(r.exit.isolation.namespaces, "");
  assert_false(r.exit.isolation.seccomp);
  gexec_result_free(&r);
  r = run_in(NULL, "true", NULL); /* the default is baseline */
  assert_string_equal(r.exit.isolation.profile, "baseline");
  assert_string_equal(r.exit.isolation.namespaces, "pid,ipc,uts,mount");
  gexec_result_free(&r);
}

static void test_pid_namespace_hides_host(void **state) {
  (void)state;
  char script[128];
  snprintf(script, sizeof script,
           "test -d /proc/%d && echo sees-host || echo hidden", (int)getpid());
  const char *profiles[] = {"host", "baseline", "restricted"};
  const char *expect[] = {"sees-host\n", "hidden\n", "hidden\n"};
  for (int i = 0; i < 3; i++) {
    gexec_result r = run_in(profiles[i], script, NULL);
    assert_string_equal(r.out, expect[i]);
    gexec_result_free(&r);
  }
  /* inside, the shell is alone with its init: pid 1 plus the shell */
  gexec_result r = run_in("baseline", "echo $$", NULL);
  assert_string_equal(r.out, "2\n");
  gexec_result_free(&r);
}

/* baseline hides host processes for real: it keeps only a container
 * runtime's capabilities, so it cannot unmount its /proc (under which
 * the host's /proc, with every process and its environment, lies). */
static void test_baseline_cannot_unhide_host(void **state) {
  (void)state;
  NEED_FULL();
  char script[256];
  snprintf(script, sizeof script,
           "grep CapBnd /proc/self/status; umount -l /proc 2>/dev/null;"
           " echo umount=$?; test -d /proc/%d && echo sees-host || echo hidden;"
           " nsenter -t 1 -m true 2>/dev/null; echo nsenter=$?",
           (int)getpid());
  gexec_result r = run_in("baseline", script, NULL);
  assert_string_equal(r.out, "CapBnd:\t00000000a00425fb\numount=32\n"
                             "hidden\nnsenter=1\n");
  gexec_result_free(&r);
  /* no kernel tunables (core_pattern runs a program as full root), no
   * sysrq, no cgroupfs (leave its run cgroup, kill others), no devices */
  r = run_in("baseline",
             "cat /proc/sys/kernel/core_pattern > /proc/sys/kernel/core_pattern"
             " 2>/dev/null; echo sysctl=$?;"
             " echo $$ 2>/dev/null > /sys/fs/cgroup/unified/cgroup.procs;"
             " echo cgroup=$?; echo 2>/dev/null > /proc/sysrq-trigger;"
             " echo sysrq=$?; mknod /var/tmp/gxt-blk-$$ b 8 0 2>/dev/null;"
             " echo mknod=$?", NULL);
  /* sh: 2 = a redirection it could not open (EROFS) */
  assert_string_equal(r.out, "sysctl=2\ncgroup=2\nsysrq=2\nmknod=1\n");
  gexec_result_free(&r);
  /* contrast: host keeps everything (and sees us) */
  r = run_in("host", "grep CapBnd /proc/self/status", NULL);
  assert_string_not_equal(r.out, "CapBnd:\t00000000a80425fb\n");
  gexec_result_free(&r);
}

static void test_restricted_filesystem(void **state) {
  (void)state;
  NEED_FULL();
  gexec_result r = run_in(
      "restricted",
      "touch /etc/gexec-x 2>/dev/null && echo etc-writable || echo etc-ro;"
      " echo hi > /tmp/f && cat /tmp/f", NULL);
  assert_string_equal(r.out, "etc-ro\nhi\n");
  gexec_result_free(&r);
  /* the private /tmp is not the host's */
  r = run_in("restricted", "ls -A /tmp | wc -l", NULL);
  assert_string_equal(r.out, "0\n");
  gexec_result_free(&r);
  r = run_in("baseline", "test -w /etc && echo etc-rw", NULL);
  assert_string_equal(r.out, "etc-rw\n"); /* contrast */
  gexec_result_free(&r);
  /* cwd is writable (/var/tmp is world-writable), its parent is not */
  gexec_spec in_cwd = {.cwd = "/var/tmp"};
  r = run_in("restricted",
             "f=gexec-cwd-$$; echo x > $f && rm $f && echo cwd-rw;"
             " touch /var/gexec-x 2>/dev/null || echo var-ro", &in_cwd);
  assert_string_equal(r.out, "cwd-rw\nvar-ro\n");
  gexec_result_free(&r);
}

static void test_restricted_has_no_network(void **state) {
  (void)state;
  NEED_FULL();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof sa;
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(fd, 8), 0);
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  char script[256];
  snprintf(script, sizeof script,
           "python3 -c 'import socket; s=socket.socket();"
           " s.settimeout(5); s.connect((\"127.0.0.1\", %d)); print(\"connected\")'"
           " 2>/dev/null || echo refused; ip -o link | wc -l;"
           " ls /sys/class/net | tr '\\n' ' '",
           ntohs(sa.sin_port));
  gexec_result r = run_in("baseline", script, NULL); /* contrast */
  assert_non_null(strstr(r.out, "connected\n"));
  assert_null(strstr(r.out, "\n1\nlo ")); /* the host has more */
  gexec_result_free(&r);
  r = run_in("restricted", script, NULL);
  assert_string_equal(r.out, "refused\n1\nlo "); /* only lo */
  gexec_result_free(&r);
  close(fd);
}

/* Own UTS namespace (and IPC): not the host's; and baseline, without
 * CAP_SYS_ADMIN, cannot even rename its own. */
static void test_uts_and_ipc_namespaces(void **state) {
  (void)state;
  char host_uts[64], host_ipc[64], expect[160];
  ssize_t n = readlink("/proc/self/ns/uts", host_uts, sizeof host_uts - 1);
  host_uts[n > 0 ? n : 0] = '\0';
  n = readlink("/proc/self/ns/ipc", host_ipc, sizeof host_ipc - 1);
  host_ipc[n > 0 ? n : 0] = '\0';
  gexec_result r = run_in("host", "readlink /proc/self/ns/uts /proc/self/ns/ipc",
                          NULL);
  snprintf(expect, sizeof expect, "%s\n%s\n", host_uts, host_ipc);
  assert_string_equal(r.out, expect); /* contrast */
  gexec_result_free(&r);
  for (int i = 0; i < 2; i++) {
    r = run_in(i ? "restricted" : "baseline",
               "readlink /proc/self/ns/uts /proc/self/ns/ipc;"
               " hostname gexec-inner 2>/dev/null; echo rc=$?", NULL);
    assert_null(strstr(r.out, host_uts));
    assert_null(strstr(r.out, host_ipc));
    assert_non_null(strstr(r.out, "uts:["));
    assert_non_null(strstr(r.out, "rc=1\n"));
    gexec_result_free(&r);
  }
}

static void test_restricted_uid_caps_env_fds(void **state) {
  (void)state;
  NEED_FULL();
  gexec_result r = run_in(
      "restricted",
      "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status;"
      " ls /proc/self/fd | tr '\\n' ' '; echo; env | sort | tr '\\n' ' '",
      NULL);
  assert_string_equal(r.out,
                      "1000\nCapEff:\t0000000000000000\n"
                      "CapBnd:\t0000000000000000\nNoNewPrivs:\t1\n"
                      "0 1 2 3 \nHOME=/root LANG=C.UTF-8 PATH=/usr/local/sbin:"
                      "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PWD=/ ");
  gexec_result_free(&r);
}

static void test_seccomp_refuses_and_run_continues(void **state) {
  (void)state;
  NEED_FULL();
  const char *script =
      "python3 -c 'import ctypes,os; l=ctypes.CDLL(None, use_errno=True);"
      " rc=l.mount(b\"none\", b\"/tmp\", b\"tmpfs\", 0, None);"
      " print(rc, os.strerror(ctypes.get_errno()))'; echo continued";
  gexec_result r = run_in("restricted", script, NULL);
  assert_string_equal(r.out, "-1 Operation not permitted\ncontinued\n");
  assert_int_equal(r.exit.exit_code, 0);
  gexec_result_free(&r);
  r = run_in("restricted", "unshare -U true 2>/dev/null; echo rc=$?", NULL);
  assert_string_equal(r.out, "rc=1\n");
  gexec_result_free(&r);
}

static void test_pids_limit_stops_fork_bomb(void **state) {
  (void)state;
  NEED_CGROUP();
  gexec_spec lim = {.pids = 16};
  /* python forks 64 sleepers and counts the failures itself */
  gexec_result r = run_in(
      "baseline",
      "exec python3 -c 'import os,subprocess\nok=fail=0\n"
      "for i in range(64):\n"
      "  try: subprocess.Popen([\"sleep\",\"30.31\"]); ok+=1\n"
      "  except OSError: fail+=1\n"
      "print(ok, fail)'", &lim);
  int ok = -1, failed = -1;
  if (sscanf(r.out, "%d %d", &ok, &failed) != 2)
    fail_msg("unexpected output '%s' / '%s'", r.out, r.err);
  assert_true(ok < 16);       /* the limit (16 tasks, python included) */
  assert_int_equal(ok + failed, 64);
  assert_true(failed > 48);
  gexec_result_free(&r);
  assert_true(gxt_wait_arg_gone("30.31", 10000));
}

static void test_memory_limit_oom(void **state) {
  (void)state;
  NEED_CGROUP();
  gexec_spec lim = {.memory_bytes = 32 << 20};
  gexec_result r = run_in(
      "baseline", "exec python3 -c 'b = bytearray(300 * 1024 * 1024)'", &lim);
  assert_int_equal(r.exit.signal, SIGKILL);
  assert_true(r.exit.oom_killed);
  assert_true(strcmp(r.exit.isolation.cgroup, "v1") == 0 ||
              strcmp(r.exit.isolation.cgroup, "v2") == 0);
  gexec_result_free(&r);
  r = run_in("baseline", "exec python3 -c 'b = bytearray(8 * 1024 * 1024)'",
             &lim);
  assert_int_equal(r.exit.exit_code, 0);
  assert_false(r.exit.oom_killed);
  gexec_result_free(&r);
}

/* The run's command is in the run's own cgroup2 leaf,
 * gexec/<instance>/run-<run id> (born there with CLONE_INTO_CGROUP), in
 * every profile; where the limits go to v1 hierarchies (hybrid), it has
 * also joined the v1 memory and pids leaves of the same name. */
static void test_command_in_its_run_cgroup(void **state) {
  (void)state;
  GXT_SKIP_UNLESS(GXT_NEED_CGROUP2);
  static const char *const profiles[] = {"host", "baseline", "restricted"};
  int hybrid = !gxt_cgroup_writable("/sys/fs/cgroup", 0x63677270) &&
               gxt_cgroup_writable("/sys/fs/cgroup/memory", 0x27e0eb) &&
               gxt_cgroup_writable("/sys/fs/cgroup/pids", 0x27e0eb);
  gexec_spec lim = {.memory_bytes = 256 << 20, .pids = 64};
  uint64_t prev = 0;
  for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
    gexec_result r = run_in(profiles[i], "cat /proc/self/cgroup", &lim);
    char text[2048], want[160];
    assert_int_equal(r.exit.exit_code, 0);
    assert_true(r.exit.run_id > prev);
    prev = r.exit.run_id;
    snprintf(text, sizeof text, "\n%s", r.out); /* every line "\n...\n" */
    snprintf(want, sizeof want, "\n0::/gexec/%s/run-%llu\n", instance,
             (unsigned long long)r.exit.run_id);
    if (!strstr(text, want))
      fail_msg("%s: no line '%.*s' in:\n%s", profiles[i],
               (int)strlen(want) - 2, want + 1, r.out);
    for (int v1 = 0; hybrid && v1 < 2; v1++) {
      snprintf(want, sizeof want, ":%s:/gexec/%s/run-%llu\n",
               v1 ? "pids" : "memory", instance,
               (unsigned long long)r.exit.run_id);
      if (!strstr(text, want))
        fail_msg("%s: no line 'N%.*s' in:\n%s", profiles[i],
                 (int)strlen(want) - 1, want, r.out);
    }
    gexec_result_free(&r);
  }
}

static void test_cpu_limit_stops_spinner(void **state) {
  (void)state;
  gexec_spec lim = {.cpu_time_ms = 500};
  gexec_result r = run_in("host", "while :; do :; done", &lim);
  assert_true(r.exit.signal == SIGXCPU || r.exit.signal == SIGKILL);
  assert_true(r.exit.user_time_us + r.exit.system_time_us >= 400000);
  gexec_result_free(&r);
}

static const char escapee[] =
    "sh -c 'trap \"\" TERM; setsid sh -c \"trap \\\"\\\" TERM; exec sleep %s\" &"
    " sleep 60' & echo ready; wait";

static void test_escapee_gone_after_timeout(void **state) {
  (void)state;
  const char *profiles[] = {"host", "baseline", "restricted"};
  const char *marks[] = {"61.41", "61.42", "61.43"};
  for (int i = 0; i < 3; i++) {
    char script[256];
    snprintf(script, sizeof script, escapee, marks[i]);
    gexec_spec t = {.timeout_ms = 1000, .kill_grace_ms = 200};
    gexec_result r = run_in(profiles[i], script, &t);
    assert_true(r.exit.timed_out);
    gexec_result_free(&r);
    if (!gxt_wait_arg_gone(marks[i], 10000))
      fail_msg("%s: a setsid grandchild survived the timeout", profiles[i]);
  }
}

static void test_escapee_gone_after_cancel(void **state) {
  (void)state;
  const char *profiles[] = {"host", "baseline", "restricted"};
  const char *marks[] = {"61.51", "61.52", "61.53"};
  for (int i = 0; i < 3; i++) {
    char script[256];
    snprintf(script, sizeof script, escapee, marks[i]);
    gexec_spec spec = {.argv = ARGV("sh", "-c", script),
                       .profile = profiles[i], .stdin_null = 1,
                       .kill_grace_ms = 200};
    gexec_proc *p;
    gexec_error err;
    assert_int_equal(gexec_proc_start(conn, &spec, &p, &err), GEXEC_OK);
    assert_true(gxt_wait_pid_by_arg(marks[i], 10000) > 0);
    gexec_proc_cancel(p);
    gexec_proc_free(p);
    if (!gxt_wait_arg_gone(marks[i], 10000))
      fail_msg("%s: a setsid grandchild survived the cancel", profiles[i]);
  }
}

static void test_stopped_process_gone_after_timeout(void **state) {
  (void)state;
  const char *profiles[] = {"host", "baseline", "restricted"};
  const char *marks[] = {"61.61", "61.62", "61.63"};
  for (int i = 0; i < 3; i++) {
    char script[128];
    snprintf(script, sizeof script,
             "sleep %s & kill -STOP $!; echo ready; sleep 60", marks[i]);
    gexec_spec t = {.timeout_ms = 700, .kill_grace_ms = 200};
    gexec_result r = run_in(profiles[i], script, &t);
    assert_true(r.exit.timed_out);
    gexec_result_free(&r);
    if (!gxt_wait_arg_gone(marks[i], 10000))
      fail_msg("%s: a stopped process survived the timeout", profiles[i]);
  }
}

/* The run dies with the daemon (SIGKILL: no chance to clean up). */
static void test_run_dies_with_daemon(void **state) {
  (void)state;
  const char *profiles[] = {"host", "baseline", "restricted"};
  const char *marks[] = {"61.71", "61.72", "61.73"};
  for (int i = 0; i < 3; i++) {
    gxt_daemon d;
    gxt_daemon_start(&d, NULL);
    gexec_conn *c = gxt_connect(&d);
    gexec_spec spec = {.argv = ARGV("sleep", marks[i]),
                       .profile = profiles[i], .stdin_null = 1};
    gexec_proc *p;
    gexec_error err;
    assert_int_equal(gexec_proc_start(c, &spec, &p, &err), GEXEC_OK);
    assert_true(gxt_wait_pid_by_arg(marks[i], 10000) > 0);
    kill(d.pid, SIGKILL);
    int st;
    waitpid(d.pid, &st, 0);
    if (!gxt_wait_arg_gone(marks[i], 10000))
      fail_msg("%s: the run outlived the daemon", profiles[i]);
    gexec_proc_free(p);
    gexec_conn_close(c);
  }
}

/* The spare's pid: the "spare-PID" leaf in @p inst's v1 memory dir, with
 * that process in it (it joined), or 0. */
static pid_t ready_spare(const char *inst) {
  char dir[256], path[512], line[256];
  snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory/gexec/%s", inst);
  DIR *d = opendir(dir);
  struct dirent *e;
  pid_t pid = 0;
  while (d && !pid && (e = readdir(d)))
    if (strncmp(e->d_name, "spare-", 6) == 0) pid = (pid_t)atoi(e->d_name + 6);
  if (d) closedir(d);
  if (!pid) return 0;
  snprintf(path, sizeof path, "%s/spare-%d/cgroup.procs", dir, (int)pid);
  FILE *f = fopen(path, "r");
  int in = 0;
  while (f && fgets(line, sizeof line, f)) in |= atoi(line) == pid;
  if (f) fclose(f);
  return in ? pid : 0;
}

static void read_leaf(const char *inst, const char *hier, uint64_t run,
                      const char *file, char *buf, size_t len) {
  char path[512];
  snprintf(path, sizeof path, "/sys/fs/cgroup/%s/gexec/%s/run-%llu/%s", hier,
           inst, (unsigned long long)run, file);
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("%s: %s", path, strerror(errno));
  if (!fgets(buf, (int)len, f)) buf[0] = '\0';
  fclose(f);
}

/* A restricted run (default limits: v1 memory and pids here) is served by
 * the fork server's spare: a launcher that joined v1 leaves of its own
 * ahead of demand. It becomes the run's launcher with its leaves renamed
 * to the run's and limited (pids + 1: it counts itself); a new spare
 * follows; the daemon's exit removes every leaf. */
static void test_spare_launcher_serves_limited_runs(void **state) {
  (void)state;
  NEED_FULL();
  NEED_CGROUP();
  if (access("/sys/fs/cgroup/memory/cgroup.procs", W_OK) != 0 ||
      access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) != 0)
    skip(); /* no v1 memory and pids: no spares (pure v2 is born in) */
  char inst[64], flag[96], buf[64], gone[256];
  snprintf(inst, sizeof inst, "gxt-spare-%d", (int)getpid());
  snprintf(flag, sizeof flag, "--instance=%s", inst);
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV(flag));
  gexec_conn *c = gxt_connect(&d);
  gexec_result r;
  gexec_spec t = {.argv = ARGV("true"), .profile = "restricted",
                  .stdin_null = 1};
  gexec_error err;
  assert_int_equal(gexec_run(c, &t, NULL, &r, &err), GEXEC_OK);
  gexec_result_free(&r);
  pid_t spare = 0;
  for (long long until = gxt_now_ms() + 10000; !spare && gxt_now_ms() < until;)
    if (!(spare = ready_spare(inst))) usleep(10000);
  assert_true(spare > 0);
  gexec_spec s = {.argv = ARGV("sleep", "61.81"), .profile = "restricted",
                  .stdin_null = 1};
  gexec_proc *p;
  assert_int_equal(gexec_proc_start(c, &s, &p, &err), GEXEC_OK);
  assert_true(gxt_wait_pid_by_arg("61.81", 10000) > 0);
  assert_int_equal((pid_t)gexec_proc_pid(p), spare); /* the spare launches */
  uint64_t run = gexec_proc_run_id(p);
  read_leaf(inst, "memory", run, "memory.limit_in_bytes", buf, sizeof buf);
  assert_string_equal(buf, "1073741824\n");
  read_leaf(inst, "pids", run, "pids.max", buf, sizeof buf);
  assert_string_equal(buf, "1025\n");
  snprintf(gone, sizeof gone, "/sys/fs/cgroup/memory/gexec/%s/spare-%d", inst,
           (int)spare);
  assert_int_equal(access(gone, F_OK), -1); /* renamed, not copied */
  gexec_proc_cancel(p);
  gexec_proc_free(p);
  assert_true(gxt_wait_no_cgroup_leaves(inst, 10000));
  pid_t next = 0;
  for (long long until = gxt_now_ms() + 10000; !next && gxt_now_ms() < until;)
    if (!(next = ready_spare(inst))) usleep(10000);
  assert_true(next > 0 && next != spare);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
  assert_int_equal(gxt_cgroup_dirs(inst), 0);
  assert_false(gxt_pid_alive(next));
}

static void test_unknown_profile(void **state) {
  (void)state;
  gexec_spec spec = {.argv = ARGV("true"), .profile = "nope", .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(conn, &spec, NULL, &r, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "unknown profile 'nope'"));
}

/* Fail closed: a host that refuses user namespaces (simulated with
 * --disable-mechanism) does not serve restricted at all: the run is
 * refused, naming the profile, what is missing and the flag. */
static void test_reduced_profile_refused(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--disable-mechanism=user"));
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {.argv = ARGV("id", "-u"), .profile = "restricted",
                     .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_FAILED_PRECONDITION);
  assert_string_equal(err.message,
                      "profile restricted is not available in full on this "
                      "host (missing: user namespace); gexecd serves it "
                      "reduced only when started with --allow-reduced "
                      "restricted");
  spec.profile = "baseline"; /* does not use user namespaces: served */
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "0\n");
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* Without cgroups, restricted (whose default limits need them) is not
 * served; baseline is, but a run asking it for limits is refused, never
 * run without them. */
static void test_no_cgroup_fails_closed(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--disable-mechanism=cgroup"));
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {.argv = ARGV("true"), .profile = "restricted",
                     .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_FAILED_PRECONDITION);
  assert_non_null(strstr(err.message, "(missing: cgroup)"));
  spec.profile = "baseline";
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.exit.isolation.cgroup, ""); /* none, not even to track */
  gexec_result_free(&r);
  spec.pids = 64;
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_FAILED_PRECONDITION);
  assert_non_null(strstr(err.message, "memory and pids limits need cgroups"));
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* Tier fallback the operator allowed: restricted runs without user
 * namespaces and says so. */
static void test_tier_fallback_is_reported(void **state) {
  (void)state;
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV("--disable-mechanism=user",
                            "--allow-reduced=restricted"));
  gexec_conn *c = gxt_connect(&d);
  gexec_spec spec = {.argv = ARGV("id", "-u"), .profile = "restricted",
                     .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.exit.isolation.namespaces, "pid,ipc,uts,mount,net");
  assert_non_null(strstr(r.exit.isolation.description, "REDUCED"));
  assert_int_equal(r.exit.isolation.uid, 0);
  assert_string_equal(r.out, "0\n"); /* and that is the truth */
  gexec_result_free(&r);
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

static void test_required_isolation_refuses_to_start(void **state) {
  (void)state;
  char log[8192];
  int st = gxt_daemon_run_to_exit(
      ARGV("--disable-mechanism=seccomp", "--require-isolation=restricted"),
      log, sizeof log);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1);
  assert_non_null(strstr(log, "--require-isolation restricted"));
}

/* Writes @p body to "$TEST_TMPDIR/@p name" and returns that path. */
static const char *write_tmp(const char *name, const char *body) {
  static char path[512];
  const char *dir = getenv("TEST_TMPDIR");
  snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/tmp", name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(fputs(body, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
  return path;
}

/* --profiles: "nonet" is baseline plus a network namespace; it joins the
 * table (probed, reported, named in refusals) and runs with loopback
 * only, where baseline sees the host's interfaces. */
static void test_profiles_file(void **state) {
  (void)state;
  NEED_FULL();
  char arg[600];
  snprintf(arg, sizeof arg, "--profiles=%s",
           write_tmp("profiles.json",
                     "{\"profiles\": [{\"name\": \"nonet\", "
                     "\"base\": \"baseline\", \"add\": [\"net\"]}]}\n"));
  gxt_daemon d;
  gxt_daemon_start(&d, ARGV(arg, "--require-isolation=nonet"));
  gexec_conn *c = gxt_connect(&d);
  const char *script = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '";
  gexec_spec spec = {.argv = ARGV("sh", "-c", script), .profile = "nonet",
                     .stdin_null = 1};
  gexec_result r;
  gexec_error err;
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_equal(r.out, "lo\n");
  assert_string_equal(r.exit.isolation.profile, "nonet");
  assert_string_equal(r.exit.isolation.namespaces, "pid,ipc,uts,mount,net");
  assert_non_null(strstr(r.exit.isolation.description, "nonet: "));
  assert_non_null(strstr(r.exit.isolation.description, "(full)"));
  gexec_result_free(&r);
  spec.profile = "baseline"; /* contrast: the host's interfaces */
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_OK);
  assert_string_not_equal(r.out, "lo\n");
  gexec_result_free(&r);
  spec.profile = "nope";
  assert_int_equal(gexec_run(c, &spec, NULL, &r, &err), GEXEC_ESTATUS);
  assert_int_equal(err.status, GEXEC_STATUS_INVALID_ARGUMENT);
  assert_string_equal(err.message, "unknown profile 'nope' (host, baseline, "
                                   "restricted, nonet)");
  gexec_conn_close(c);
  assert_int_equal(gxt_daemon_stop(&d), 0);
}

/* A bad profiles file, or a flag naming no profile, is a start-up
 * refusal (exit 2) that names the file, the profile and the field. */
static void test_profiles_file_refused(void **state) {
  (void)state;
  char arg[600], log[8192];
  const char *path = write_tmp("bad.json",
                               "{\"profiles\": [{\"name\": \"nonet\", "
                               "\"base\": \"baseline\", "
                               "\"add\": [\"network\"]}]}\n");
  snprintf(arg, sizeof arg, "--profiles=%s", path);
  int st = gxt_daemon_run_to_exit(ARGV(arg), log, sizeof log);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 2);
  char want[700];
  snprintf(want, sizeof want, "gexecd: %s: profile 'nonet': add: unknown "
           "mechanism 'network' (pid, ipc, uts, mount, user, net, seccomp, "
           "cgroup, ro-root, nnp, caps)\n", path);
  assert_string_equal(log, want);
  st = gxt_daemon_run_to_exit(ARGV("--default-profile=nonet"), log,
                              sizeof log);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 2);
  assert_string_equal(log, "gexecd: invalid value 'nonet' for "
                           "--default-profile: expected host, baseline or "
                           "restricted\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_started_reports_isolation),
      cmocka_unit_test(test_pid_namespace_hides_host),
      cmocka_unit_test(test_baseline_cannot_unhide_host),
      cmocka_unit_test(test_restricted_filesystem),
      cmocka_unit_test(test_restricted_has_no_network),
      cmocka_unit_test(test_uts_and_ipc_namespaces),
      cmocka_unit_test(test_restricted_uid_caps_env_fds),
      cmocka_unit_test(test_seccomp_refuses_and_run_continues),
      cmocka_unit_test(test_pids_limit_stops_fork_bomb),
      cmocka_unit_test(test_memory_limit_oom),
      cmocka_unit_test(test_command_in_its_run_cgroup),
      cmocka_unit_test(test_cpu_limit_stops_spinner),
      cmocka_unit_test(test_escapee_gone_after_timeout),
      cmocka_unit_test(test_escapee_gone_after_cancel),
      cmocka_unit_test(test_stopped_process_gone_after_timeout),
      cmocka_unit_test(test_run_dies_with_daemon),
      cmocka_unit_test(test_spare_launcher_serves_limited_runs),
      cmocka_unit_test(test_unknown_profile),
      cmocka_unit_test(test_reduced_profile_refused),
      cmocka_unit_test(test_no_cgroup_fails_closed),
      cmocka_unit_test(test_tier_fallback_is_reported),
      cmocka_unit_test(test_required_isolation_refuses_to_start),
      cmocka_unit_test(test_profiles_file),
      cmocka_unit_test(test_profiles_file_refused),
  };
  return cmocka_run_group_tests_name("integration/isolation", tests, setup,
                                     teardown);
}
