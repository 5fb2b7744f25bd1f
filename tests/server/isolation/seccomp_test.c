/* Tests for server/isolation/seccomp: every test forks a child that
 * installs the filter (a filter can never be removed) and then runs a probe.
 * The probe's result (0 or an errno) comes back through a pipe; the child's
 * wait status shows whether the filter killed it. Children leave with
 * _exit so that no atexit handler (e.g. LeakSanitizer, which needs ptrace)
 * runs under the filter. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/isolation/seccomp.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* Returned by probes whose own checks failed (not an errno value). */
#define PROBE_BROKEN 4095

typedef int (*probe_fn)(void);

/* Result of one child run. */
typedef struct {
  int status; /* wait status */
  int result; /* the probe's answer; -1 if the child sent none */
} outcome;

/* Runs @p setup (may be NULL; before the filter), then, if @p filtered,
 * installs the filter, then @p probe, in a forked child. */
static outcome run_with(probe_fn setup, probe_fn probe, int filtered) {
  int fds[2];
  outcome o = {0, -1};
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    char why[128] = "";
    int r;
    close(fds[0]);
    setrlimit(RLIMIT_CORE, &no_core); /* SIGSYS deaths dump core */
    if (setup && (r = setup()) != 0) {
      r = -r; /* a negative result means "setup failed with -r" */
      if (write(fds[1], &r, sizeof r) < 0) _exit(101);
      _exit(0);
    }
    if (filtered && (r = gxi_seccomp_install(why, sizeof why)) != 0) {
      fprintf(stderr, "gxi_seccomp_install: %d %s\n", r, why);
      _exit(100);
    }
    r = probe();
    if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r) _exit(101);
    _exit(0);
  }
  close(fds[1]);
  if (read(fds[0], &o.result, sizeof o.result) != (ssize_t)sizeof o.result)
    o.result = -1;
  close(fds[0]);
  assert_int_equal(waitpid(pid, &o.status, 0), pid);
  return o;
}

static outcome run(probe_fn probe, int filtered) {
  return run_with(NULL, probe, filtered);
}

/* Asserts that @p probe, under the filter, answered @p want (0 or an
 * errno) and that the child then exited normally with status 0. */
static void expect_result(probe_fn probe, const char *name, int want) {
  outcome o = run(probe, 1);
  if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
    fail_msg("%s: child did not exit 0 (status 0x%x)", name, o.status);
  if (o.result != want)
    fail_msg("%s: got %d (%s), want %d (%s)", name, o.result,
             o.result > 0 ? strerror(o.result) : "-", want,
             want ? strerror(want) : "success");
}

/* Asserts that the filter killed the child running @p probe with SIGSYS
 * before the probe could answer. */
static void expect_sigsys(probe_fn probe, const char *name) {
  outcome o = run(probe, 1);
  if (!WIFSIGNALED(o.status))
    fail_msg("%s: child not killed (status 0x%x, result %d)", name,
             o.status, o.result);
  if (WTERMSIG(o.status) != SIGSYS)
    fail_msg("%s: killed by signal %d, want SIGSYS", name,
             WTERMSIG(o.status));
  assert_int_equal(o.result, -1);
}

/* 0 if @p r is 0, else errno. */
static int err_of(long r) { return r == 0 ? 0 : errno; }

/* Probes ------------------------------------------------------------- */

static int p_mount(void) {
  return err_of(mount("none", "/nonexistent/gexec-seccomp", "tmpfs", 0,
                      NULL));
}
static int p_umount(void) {
  return err_of(umount2("/nonexistent/gexec-seccomp", 0));
}
static int p_unshare_ns(void) { return err_of(unshare(CLONE_NEWNS)); }
static int p_unshare_files(void) { return err_of(unshare(CLONE_FILES)); }
static int p_setns(void) { return err_of(setns(-1, 0)); }
static int p_chroot(void) { return err_of(chroot("/")); }
static int p_pivot_root(void) {
  return err_of(syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"));
}
static int p_ptrace(void) {
  return err_of(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}
static int p_keyctl(void) {
  /* KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_SESSION_KEYRING (-3) */
  long r = syscall(SYS_keyctl, 0, -3, 0);
  return r >= 0 ? 0 : errno;
}
static int p_bpf(void) { return err_of(syscall(SYS_bpf, 0, NULL, 0)); }
static int p_perf(void) {
  return err_of(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
}
static int p_clone3(void) { return err_of(syscall(SYS_clone3, NULL, 0)); }
static int p_nr_999(void) { return err_of(syscall(999)); }
static int p_nr_above_max(void) {
  return err_of(syscall(GXI_SECCOMP_MAX_KNOWN_NR + 1, -1, NULL, NULL,
                        NULL, 0));
}
static int p_nr_negative(void) { return err_of(syscall(-1L)); }

/* Raw clone(flags | SIGCHLD) with fork semantics; reaps the child. */
static int raw_clone(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
  int st;
  if (pid < 0) return errno;
  if (pid == 0) _exit(0);
  if (waitpid((pid_t)pid, &st, 0) != pid) return PROBE_BROKEN;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : PROBE_BROKEN;
}
static int p_clone_newuser(void) { return raw_clone(CLONE_NEWUSER); }
static int p_clone_each_ns(void) {
  static const unsigned long flags[] = {
      CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
      CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP,
      CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    int r = raw_clone(flags[i]);
    if (r != EPERM) return r;
  }
  return EPERM;
}
static int p_clone_plain(void) { return raw_clone(0); }

static int p_fork(void) {
  int st;
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) _exit(0);
  if (waitpid(pid, &st, 0) != pid) return PROBE_BROKEN;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : PROBE_BROKEN;
}

static void *thread_main(void *arg) { return arg; }
static int p_thread(void) {
  static int token;
  pthread_t t;
  void *back = NULL;
  int r = pthread_create(&t, NULL, thread_main, &token);
  if (r != 0) return r;
  if (pthread_join(t, &back) != 0) return PROBE_BROKEN;
  return back == &token ? 0 : PROBE_BROKEN;
}

static int p_basic(void) {
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  if (write(fd, "x", 1) != 1) return errno;
  if (close(fd) != 0) return errno;
  if (getpid() != (pid_t)syscall(SYS_getpid)) return PROBE_BROKEN;
  return 0;
}

/* Several denied calls in a row, then ordinary work: all must go on. */
static int p_denied_then_continue(void) {
  if (p_mount() != EPERM || p_ptrace() != EPERM || p_unshare_ns() != EPERM)
    return PROBE_BROKEN;
  if (p_basic() != 0 || p_fork() != 0) return PROBE_BROKEN;
  return 0;
}

static int p_personality_query(void) {
  return personality(0xffffffff) == -1 ? errno : 0;
}
static int p_personality_linux(void) {
  return personality(PER_LINUX) == -1 ? errno : 0;
}
static int p_personality_rie(void) {
  return personality(PER_LINUX | READ_IMPLIES_EXEC) == -1 ? errno : 0;
}

static int s_unshare_uts(void) { return err_of(unshare(CLONE_NEWUTS)); }
static int p_sethostname(void) {
  return err_of(sethostname("gexec-seccomp", strlen("gexec-seccomp")));
}

/* getpid through the i386 ABI (int $0x80, i386 getpid = 20). */
static int p_i386_getpid(void) {
  long r = 20;
  __asm__ volatile("int $0x80"
                   : "+a"(r)
                   :
                   : "r8", "r9", "r10", "r11", "memory", "cc");
  return r == getpid() ? 0 : (r < 0 ? (int)-r : PROBE_BROKEN);
}

/* getpid through the x32 ABI (x32 numbers carry bit 30). */
static int p_x32_getpid(void) {
  long r = syscall(0x40000000L | SYS_getpid);
  return r == getpid() ? 0 : (r < 0 ? errno : PROBE_BROKEN);
}

/* Runs argv[0] with execv under the filter; returns the wait status. */
static int run_exec(char *const argv[]) {
  pid_t pid = fork();
  int st;
  assert_true(pid >= 0);
  if (pid == 0) {
    char why[128] = "";
    if (gxi_seccomp_install(why, sizeof why) != 0) _exit(100);
    execv(argv[0], argv);
    _exit(127);
  }
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return st;
}

/* Tests -------------------------------------------------------------- */

static void install_reports_nothing_on_success(void **state) {
  (void)state;
  expect_result(p_basic, "getpid/open/write/close", 0);
}

static void mounts_denied(void **state) {
  (void)state;
  expect_result(p_mount, "mount", EPERM);
  expect_result(p_umount, "umount2", EPERM);
  expect_result(p_chroot, "chroot", EPERM);
  expect_result(p_pivot_root, "pivot_root", EPERM);
}

static void namespaces_denied(void **state) {
  (void)state;
  expect_result(p_unshare_ns, "unshare(CLONE_NEWNS)", EPERM);
  expect_result(p_unshare_files, "unshare(CLONE_FILES)", EPERM);
  expect_result(p_setns, "setns", EPERM);
}

static void ptrace_keyctl_bpf_perf_denied(void **state) {
  (void)state;
  expect_result(p_ptrace, "ptrace(PTRACE_TRACEME)", EPERM);
  expect_result(p_keyctl, "keyctl", EPERM);
  expect_result(p_bpf, "bpf", EPERM);
  expect_result(p_perf, "perf_event_open", EPERM);
}

static void clone3_and_unknown_enosys(void **state) {
  (void)state;
  expect_result(p_clone3, "clone3", ENOSYS);
  expect_result(p_nr_999, "syscall(999)", ENOSYS);
  expect_result(p_nr_above_max, "syscall(MAX_KNOWN + 1)", ENOSYS);
  expect_result(p_nr_negative, "syscall(-1)", ENOSYS);
}

static void clone_with_ns_flags_denied(void **state) {
  (void)state;
  expect_result(p_clone_newuser, "clone(CLONE_NEWUSER)", EPERM);
  expect_result(p_clone_each_ns, "clone(each CLONE_NEW*)", EPERM);
}

static void fork_clone_and_threads_work(void **state) {
  (void)state;
  expect_result(p_fork, "fork", 0);
  expect_result(p_clone_plain, "clone(SIGCHLD)", 0);
  expect_result(p_thread, "pthread_create (clone3 -> clone fallback)", 0);
}

static void process_continues_after_denied_call(void **state) {
  (void)state;
  expect_result(p_denied_then_continue, "denied calls, then work", 0);
}

static void personality_restricted(void **state) {
  (void)state;
  expect_result(p_personality_query, "personality(0xffffffff)", 0);
  expect_result(p_personality_linux, "personality(PER_LINUX)", 0);
  expect_result(p_personality_rie, "personality(READ_IMPLIES_EXEC)", EPERM);
}

static void sethostname_in_uts_namespace_allowed(void **state) {
  (void)state;
  outcome o = run_with(s_unshare_uts, p_sethostname, 1);
  assert_true(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
  if (o.result < 0) {
    print_message("unshare(CLONE_NEWUTS) unavailable: %s\n",
                  strerror(-o.result));
    skip();
  }
  if (o.result != 0)
    fail_msg("sethostname in a UTS namespace: %s", strerror(o.result));
}

static void i386_abi_killed(void **state) {
  (void)state;
  outcome o = run(p_i386_getpid, 0);
  if (WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGSEGV) {
    print_message("kernel without ia32 emulation; int $0x80 faults\n");
    skip();
  }
  expect_sigsys(p_i386_getpid, "int $0x80 getpid");
}

static void x32_abi_killed(void **state) {
  (void)state;
  expect_sigsys(p_x32_getpid, "x32 getpid");
}

static void exec_true_works(void **state) {
  (void)state;
  char *const argv[] = {"/bin/true", NULL};
  int st = run_exec(argv);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

static void shell_exit_code_passes_through(void **state) {
  (void)state;
  /* /bin/true is a separate program: the shell forks (clone) and execs. */
  char *const argv[] = {"/bin/sh", "-c", "/bin/true && exit 3", NULL};
  int st = run_exec(argv);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 3);
}

static void describe_matches_policy(void **state) {
  (void)state;
  const char *d = gxi_seccomp_describe();
  assert_non_null(d);
  assert_non_null(strstr(d, "x86_64"));
  assert_non_null(strstr(d, "49 syscalls denied (EPERM)"));
  assert_non_null(strstr(d, "clone3"));
  assert_int_equal(GXI_SECCOMP_N_DENIED, 49);
}

/* True if this process already runs under a seccomp filter (e.g. a
 * container runtime's), which would make the control runs meaningless. */
static int outer_filter(void) {
  char line[256];
  int mode = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Seccomp: %d", &mode) == 1) break;
  fclose(f);
  return mode != 0;
}

/* Without the filter the same probes give other answers, so the answers
 * above come from the filter and not from the environment. Needs root and
 * no outer filter; skipped otherwise. */
static void control_without_filter(void **state) {
  (void)state;
  if (geteuid() != 0 || outer_filter()) {
    print_message("control runs need root and no outer seccomp filter\n");
    skip();
  }
  struct {
    probe_fn fn;
    const char *name;
    int filtered_answer;
  } c[] = {
      {p_mount, "mount", EPERM},
      {p_unshare_ns, "unshare(CLONE_NEWNS)", EPERM},
      {p_ptrace, "ptrace(PTRACE_TRACEME)", EPERM},
      {p_bpf, "bpf", EPERM},
      {p_clone3, "clone3", ENOSYS},
      {p_clone_newuser, "clone(CLONE_NEWUSER)", EPERM},
      {p_personality_rie, "personality(READ_IMPLIES_EXEC)", EPERM},
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    outcome o = run(c[i].fn, 0);
    if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
      fail_msg("%s unfiltered: status 0x%x", c[i].name, o.status);
    if (o.result == c[i].filtered_answer)
      fail_msg("%s unfiltered also gives %s", c[i].name,
               strerror(o.result));
  }
  /* x32 and i386 getpid are not killed without the filter. */
  outcome o = run(p_x32_getpid, 0);
  assert_true(WIFEXITED(o.status));
  o = run(p_i386_getpid, 0);
  assert_false(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGSYS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(install_reports_nothing_on_success),
      cmocka_unit_test(mounts_denied),
      cmocka_unit_test(namespaces_denied),
      cmocka_unit_test(ptrace_keyctl_bpf_perf_denied),
      cmocka_unit_test(clone3_and_unknown_enosys),
      cmocka_unit_test(clone_with_ns_flags_denied),
      cmocka_unit_test(fork_clone_and_threads_work),
      cmocka_unit_test(process_continues_after_denied_call),
      cmocka_unit_test(personality_restricted),
      cmocka_unit_test(sethostname_in_uts_namespace_allowed),
      cmocka_unit_test(i386_abi_killed),
      cmocka_unit_test(x32_abi_killed),
      cmocka_unit_test(exec_true_works),
      cmocka_unit_test(shell_exit_code_passes_through),
      cmocka_unit_test(describe_matches_policy),
      cmocka_unit_test(control_without_filter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
