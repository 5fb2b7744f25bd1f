/*
 * Tests for server/isolation/cgroup on a fake cgroupfs (fake_cgroupfs.h):
 * what happens to a leaf once created, on layouts this host does not have
 * (pure cgroup v2, hybrid, v1 without cgroup2, no oom_kill counter):
 * membership (add, add_v1, a spare's leaves renamed and limited), the
 * cgroup2 fd, OOM kill counters, and the file protocol of kill, remove,
 * destroy, open and sweep, checked by the exact bytes the module writes
 * (the fake's journal) and the files it leaves. Probe, detect and create
 * are in cgroup_fake_test.c. What needs the kernel itself (cgroup.kill
 * killing, a cgroup emptying) is tested by cgroup_test on the real
 * filesystems; here only its file protocol is.
 *
 * Each test builds its own fake (the global `fake`, cgroup_fake_util.h)
 * and the teardown removes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/isolation/cgroup.h"
#include "tests/server/isolation/cgroup_fake_util.h"
#include "tests/server/isolation/fake_cgroupfs.h"

/* ---- membership, fd, OOM ----------------------------------------------- */

static void add_writes_pid_to_every_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  char want[512], pid[24], line[32];
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  snprintf(pid, sizeof pid, "%ld", (long)getpid());
  snprintf(line, sizeof line, "%s\n", pid);
  assert_int_equal(gxi_cgroup_add(&cg, getpid()), 0);
  snprintf(want, sizeof want,
           "memory/gexec/inst/run-1/cgroup.procs %s\n"
           "pids/gexec/inst/run-1/cgroup.procs %s\n"
           "unified/gexec/inst/run-1/cgroup.procs %s\n",
           pid, pid, pid);
  assert_writes(want);
  assert_file("memory/gexec/inst/run-1/cgroup.procs", line);
  assert_file("pids/gexec/inst/run-1/cgroup.procs", line);
  assert_file("unified/gexec/inst/run-1/cgroup.procs", line);
}

/* For a process born in the cgroup2 leaf (CLONE_INTO_CGROUP): the v1
 * leaves only. */
static void add_v1_skips_the_v2_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  char want[512];
  long me = (long)getpid();
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_add_v1(&cg, getpid()), 0);
  snprintf(want, sizeof want,
           "memory/gexec/inst/run-1/cgroup.procs %ld\n"
           "pids/gexec/inst/run-1/cgroup.procs %ld\n",
           me, me);
  assert_writes(want);
  assert_file("unified/gexec/inst/run-1/cgroup.procs", "");
  /* Only a v2 leaf (no limits): nothing to write. */
  make(&caps, "inst/run-2", 0, 0, &cg);
  assert_int_equal(gxi_cgroup_add_v1(&cg, getpid()), 0);
  assert_writes("");
}

/* A spare's v1 leaves become a run's: renamed (paths follow), then
 * limited; a cgroup2 leaf cannot be renamed. */
static void spare_leaves_renamed_and_limited(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0), v1 = caps;
  gxi_cgroup cg, with_v2;
  char want[512];
  gxi_cgroup_limits lim = {64 * MiB, 17};
  (void)state;
  v1.v2_root[0] = '\0'; /* as the spare sees the host */
  v1.has_kill = 0;
  make(&v1, "inst/spare-9", 1ull << 62, 0, &cg);
  assert_int_equal(gxi_cgroup_rename(&caps, &cg, "inst/run-4"), 0);
  snprintf(want, sizeof want, "%s/memory/gexec/inst/run-4",
           fake_cgroupfs_root(fake));
  assert_string_equal(cg.mem, want);
  snprintf(want, sizeof want, "%s/pids/gexec/inst/run-4",
           fake_cgroupfs_root(fake));
  assert_string_equal(cg.pids, want);
  assert_file("pids/gexec/inst/run-4/pids.max", "max\n");
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_set_limits(&caps, &cg, &lim), 0);
  assert_writes("memory/gexec/inst/run-4/memory.oom_control 0\n"
                "memory/gexec/inst/run-4/memory.limit_in_bytes 67108864\n"
                "memory/gexec/inst/run-4/memory.memsw.limit_in_bytes 67108864\n"
                "pids/gexec/inst/run-4/pids.max 17\n");
  snprintf(want, sizeof want, "%s/memory/gexec/inst/spare-9",
           fake_cgroupfs_root(fake));
  assert_int_equal(access(want, F_OK), -1);
  assert_int_equal(gxi_cgroup_rename(&caps, &cg, "inst/../x"), -EINVAL);
  make(&caps, "inst/run-5", 0, 0, &with_v2);
  assert_int_equal(gxi_cgroup_rename(&caps, &with_v2, "inst/run-6"), -EXDEV);
}

/* A pid that is gone: the first write fails, the reason names it. */
static void add_failure_is_reported(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  char want[GXI_CGROUP_MSG_MAX + 64];
  pid_t pid;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  fake_cgroupfs_forget_writes(fake);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(0);
  assert_int_equal(waitpid(pid, NULL, 0), pid);
  assert_int_equal(gxi_cgroup_add(&cg, pid), -ESRCH);
  snprintf(want, sizeof want, "write cgroup.procs=%ld in %s: No such process",
           (long)pid, P("gexec/inst/run-1"));
  assert_string_equal(gxi_cgroup_error(&cg), want);
  snprintf(want, sizeof want,
           "gexec/inst/run-1/cgroup.procs %ld [No such process]\n", (long)pid);
  assert_writes(want);
  assert_file("gexec/inst/run-1/cgroup.procs", "");
}

static void v2_fd_opens_the_v2_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  struct stat a, b;
  int fd;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  fd = gxi_cgroup_v2_fd(&cg);
  assert_true(fd >= 0);
  assert_int_equal(fstat(fd, &a), 0);
  assert_int_equal(stat(P("gexec/inst/run-1"), &b), 0);
  assert_true(S_ISDIR(a.st_mode));
  assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  close(fd);
  assert_int_equal(gxi_cgroup_remove(&cg), 0);
  assert_int_equal(gxi_cgroup_v2_fd(&cg), -ENOENT); /* forgotten */
  teardown(NULL);
  caps = start(FAKE_CG_V1, 0); /* no cgroup2 */
  make(&caps, "inst/run-1", 0, 0, &cg);
  assert_int_equal(gxi_cgroup_v2_fd(&cg), -ENOENT);
  /* A leaf that is not there (any more): open()'s error. */
  snprintf(cg.v2, sizeof cg.v2, "%s", P("gexec/inst/run-9"));
  assert_int_equal(gxi_cgroup_v2_fd(&cg), -ENOENT);
}

#define EVENTS_V2(oom, oom_kill, group)                                    \
  "low 0\nhigh 0\nmax 3\noom " oom "\noom_kill " oom_kill                  \
  "\noom_group_kill " group "\n"

static void oom_killed_reads_memory_events(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  const char *ev = "gexec/inst/run-1/memory.events";
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0);
  fake_cgroupfs_put(fake, ev, EVENTS_V2("1", "0", "0"));
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0); /* OOM, nothing killed */
  fake_cgroupfs_put(fake, ev, EVENTS_V2("1", "0", "1"));
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0); /* not "oom_kill" */
  fake_cgroupfs_put(fake, ev, EVENTS_V2("2", "2", "0"));
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 1);
  fake_cgroupfs_put(fake, ev, "low 0\noom_kill x\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -EINVAL);
  fake_cgroupfs_put(fake, ev, "low 0\nhigh 0\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -ENOTSUP);
  assert_int_equal(unlink(P(ev)), 0);
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -ENOTSUP);
  assert_writes(""); /* reading only */
  /* A v2 leaf without the memory controller has no memory.events. */
  teardown(NULL);
  caps = start(FAKE_CG_V2, FAKE_CG_NO_MEMORY);
  make(&caps, "inst/run-1", 0, 4, &cg);
  assert_false(exists(ev));
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -ENOTSUP);
}

static void oom_killed_reads_v1_oom_control(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg, nomem;
  const char *oc = "memory/gexec/inst/run-1/memory.oom_control";
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0);
  fake_cgroupfs_put(fake, oc, "oom_kill_disable 0\nunder_oom 1\noom_kill 0\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0);
  fake_cgroupfs_put(fake, oc, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 1);
  make(&caps, "inst/run-2", 0, 16, &nomem); /* no memory leaf */
  assert_int_equal(gxi_cgroup_oom_killed(&nomem), -ENOTSUP);
  /* Before Linux 4.13, no oom_kill line: not guessed from failcnt. */
  teardown(NULL);
  caps = start(FAKE_CG_HYBRID, FAKE_CG_NO_OOM_KILL);
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  assert_file(oc, "oom_kill_disable 0\nunder_oom 0\n");
  fake_cgroupfs_put(fake, "memory/gexec/inst/run-1/memory.failcnt", "475\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -ENOTSUP);
}

/* ---- kill, remove, destroy, open, sweep -------------------------------- */

static void kill_once_writes_cgroup_kill(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_kill_once(&cg), 0); /* nothing listed */
  assert_writes("gexec/inst/run-1/cgroup.kill 1\n");
  assert_file("gexec/inst/run-1/cgroup.kill", "1\n");
  assert_int_equal(gxi_cgroup_kill(&cg), 0);
  assert_writes("gexec/inst/run-1/cgroup.kill 1\n");
  /* Told not to use it (has_kill cleared): never written. */
  cg.has_kill = 0;
  assert_int_equal(gxi_cgroup_kill(&cg), 0);
  assert_writes("");
}

/* Without cgroup2 there is no cgroup.kill: only cgroup.procs is read. */
static void kill_without_cgroup_kill_writes_nothing(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V1, 0);
  gxi_cgroup cg;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  assert_int_equal(cg.has_kill, 0);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_kill_once(&cg), 0);
  assert_int_equal(gxi_cgroup_kill(&cg), 0);
  assert_writes("");
}

static void kill_once_refuses_to_kill_the_caller(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  char procs[32], want[GXI_CGROUP_MSG_MAX + 32];
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  snprintf(procs, sizeof procs, "%ld\n", (long)getpid());
  fake_cgroupfs_put(fake, "gexec/inst/run-1/cgroup.procs", procs);
  assert_int_equal(gxi_cgroup_kill_once(&cg), -EDEADLK);
  snprintf(want, sizeof want, "the caller (pid %ld) is in %s",
           (long)getpid(), P("gexec/inst/run-1"));
  assert_string_equal(gxi_cgroup_error(&cg), want);
  assert_int_equal(gxi_cgroup_destroy(&cg), -EDEADLK);
  assert_true(exists("gexec/inst/run-1"));
}

/* A listed pid whose /proc/<pid>/cgroup does not name the leaf (a pid
 * reused since cgroup.procs was read) is counted but not signalled. */
static void kill_once_spares_a_pid_not_in_the_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  struct timespec ms50 = {0, 50 * 1000 * 1000};
  char procs[32];
  int st;
  pid_t pid;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    for (;;) pause();
  }
  snprintf(procs, sizeof procs, "%ld\n", (long)pid);
  fake_cgroupfs_put(fake, "gexec/inst/run-1/cgroup.procs", procs);
  assert_int_equal(gxi_cgroup_kill_once(&cg), 1);
  nanosleep(&ms50, NULL);
  assert_int_equal(waitpid(pid, &st, WNOHANG), 0); /* still running */
  kill(pid, SIGKILL);
  assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* remove() of a populated leaf is -EBUSY and keeps it (and its path in
 * the handle); once empty it goes. */
static void remove_busy_leaf_is_ebusy(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  char procs[32], want[GXI_CGROUP_MSG_MAX + 32];
  (void)state;
  make(&caps, "inst/run-1", 0, 5, &cg);
  snprintf(procs, sizeof procs, "%ld\n", (long)getpid());
  fake_cgroupfs_put(fake, "gexec/inst/run-1/cgroup.procs", procs);
  assert_int_equal(gxi_cgroup_remove(&cg), -EBUSY);
  snprintf(want, sizeof want, "rmdir %s: Device or resource busy",
           P("gexec/inst/run-1"));
  assert_string_equal(gxi_cgroup_error(&cg), want);
  assert_path(cg.v2, "gexec/inst/run-1");
  assert_file("gexec/inst/run-1/pids.max", "5\n");
  fake_cgroupfs_put(fake, "gexec/inst/run-1/cgroup.procs", "");
  assert_int_equal(gxi_cgroup_remove(&cg), 0);
  assert_false(exists("gexec/inst/run-1"));
  assert_path(cg.v2, NULL);
}

/* destroy(): cgroup.kill, then every leaf removed; the parents stay; a
 * second destroy does nothing. */
static void destroy_removes_every_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_destroy(&cg), 0);
  assert_writes("unified/gexec/inst/run-1/cgroup.kill 1\n");
  assert_false(exists("unified/gexec/inst/run-1"));
  assert_false(exists("memory/gexec/inst/run-1"));
  assert_false(exists("pids/gexec/inst/run-1"));
  assert_true(exists("unified/gexec/inst"));
  assert_true(exists("memory/gexec/inst"));
  assert_true(exists("pids/gexec/inst"));
  assert_path(cg.v2, NULL);
  assert_path(cg.mem, NULL);
  assert_path(cg.pids, NULL);
  assert_int_equal(gxi_cgroup_destroy(&cg), 0);
  assert_writes("");
}

static void open_finds_existing_leaves(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg, o;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_open(&caps, "inst/run-1", &o), 0);
  assert_int_equal(o.version, 1);
  assert_path(o.v2, "unified/gexec/inst/run-1");
  assert_path(o.mem, "memory/gexec/inst/run-1");
  assert_path(o.pids, NULL);
  assert_int_equal(o.has_kill, 1);
  assert_int_equal(gxi_cgroup_open(&caps, "inst/run-9", &o), -ENOENT);
  assert_int_equal(gxi_cgroup_open(&caps, "../x", &o), -EINVAL);
  assert_writes("");
  assert_false(exists("pids/gexec/inst/run-1"));
  /* Through the opened handle the leaves go. */
  assert_int_equal(gxi_cgroup_open(&caps, "inst/run-1", &o), 0);
  assert_int_equal(gxi_cgroup_destroy(&o), 0);
  assert_false(exists("unified/gexec/inst/run-1"));
  assert_false(exists("memory/gexec/inst/run-1"));
}

/* sweep() destroys every leaf of one instance in every hierarchy and
 * counts them once; remove_dir() then removes the instance's
 * directories; another instance is left alone. */
static void sweep_then_remove_dir(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  char why[GXI_CGROUP_MSG_MAX] = "";
  int found = -1;
  const char *w;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  make(&caps, "inst/run-2", 0, 0, &cg);
  make(&caps, "other/run-1", 0, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_remove_dir(&caps, "inst"), -EBUSY);
  assert_int_equal(gxi_cgroup_sweep(&caps, "inst", &found, why, sizeof why), 0);
  assert_int_equal(found, 2);
  assert_string_equal(why, "");
  w = fake_cgroupfs_writes(fake); /* readdir order: either run first */
  assert_true(strcmp(w, "unified/gexec/inst/run-1/cgroup.kill 1\n"
                        "unified/gexec/inst/run-2/cgroup.kill 1\n") == 0 ||
              strcmp(w, "unified/gexec/inst/run-2/cgroup.kill 1\n"
                        "unified/gexec/inst/run-1/cgroup.kill 1\n") == 0);
  fake_cgroupfs_forget_writes(fake);
  assert_false(exists("memory/gexec/inst/run-1"));
  assert_false(exists("pids/gexec/inst/run-1"));
  assert_int_equal(gxi_cgroup_remove_dir(&caps, "inst"), 0);
  assert_false(exists("unified/gexec/inst"));
  assert_false(exists("memory/gexec/inst"));
  assert_false(exists("pids/gexec/inst"));
  assert_true(exists("unified/gexec/other/run-1"));
  assert_true(exists("pids/gexec/other/run-1"));
  assert_int_equal(gxi_cgroup_remove_dir(&caps, "../other"), -EINVAL);
  assert_int_equal(gxi_cgroup_sweep(&caps, "inst", &found, why, sizeof why), 0);
  assert_int_equal(found, 0);
  assert_writes("");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(add_writes_pid_to_every_leaf, teardown),
      cmocka_unit_test_teardown(add_v1_skips_the_v2_leaf, teardown),
      cmocka_unit_test_teardown(spare_leaves_renamed_and_limited, teardown),
      cmocka_unit_test_teardown(add_failure_is_reported, teardown),
      cmocka_unit_test_teardown(v2_fd_opens_the_v2_leaf, teardown),
      cmocka_unit_test_teardown(oom_killed_reads_memory_events, teardown),
      cmocka_unit_test_teardown(oom_killed_reads_v1_oom_control, teardown),
      cmocka_unit_test_teardown(kill_once_writes_cgroup_kill, teardown),
      cmocka_unit_test_teardown(kill_without_cgroup_kill_writes_nothing,
                                teardown),
      cmocka_unit_test_teardown(kill_once_refuses_to_kill_the_caller,
                                teardown),
      cmocka_unit_test_teardown(kill_once_spares_a_pid_not_in_the_leaf,
                                teardown),
      cmocka_unit_test_teardown(remove_busy_leaf_is_ebusy, teardown),
      cmocka_unit_test_teardown(destroy_removes_every_leaf, teardown),
      cmocka_unit_test_teardown(open_finds_existing_leaves, teardown),
      cmocka_unit_test_teardown(sweep_then_remove_dir, teardown),
  };
  return cmocka_run_group_tests_name("server/isolation/cgroup_fake_leaf",
                                     tests, NULL, NULL);
}
