/**
 * @file harness.h
 * Integration-test support: starts a real gexecd on a unix socket under
 * $TEST_TMPDIR, connects libgexec to it, and stops it (SIGTERM, then
 * asserts a clean exit). Also process-tree helpers that wait on
 * conditions with a bounded deadline instead of sleeping.
 */
#ifndef GX_TEST_HARNESS_H
#define GX_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "client/gexec.h"

/** A NULL-terminated argv literal. */
#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/** A running daemon. */
typedef struct {
  pid_t pid;
  char target[200];
  char log_path[256];
} gxt_daemon;

/** Starts gexecd with extra flags (NULL-terminated) and waits until it
 *  answers a health check. Aborts the test on failure. */
void gxt_daemon_start(gxt_daemon *d, const char *const *extra_args);

/** As gxt_daemon_start, with the daemon started in directory @p cwd. */
void gxt_daemon_start_in(gxt_daemon *d, const char *cwd,
                         const char *const *extra_args);

/** The gexecd binary under test. */
const char *gxt_daemon_path(void);

/** Kernel mechanisms a test may need (gxt_kernel_lacks). */
enum {
  GXT_NEED_NAMESPACES = 1,  /**< user, pid, mount, net, ipc, uts */
  GXT_NEED_SECCOMP = 2,
  GXT_NEED_CGROUPS = 4,     /**< writable memory and pids controllers */
  GXT_NEED_CGROUP_KILL = 8, /**< some cgroup to track a run's processes */
  GXT_NEED_CGROUP2 = 16,    /**< a writable cgroup2 (pure or unified) */
};

/**
 * Whether this kernel/host lacks one of @p what, checked directly (never
 * through the daemon under test, whose probe may itself be wrong): 1 with
 * a reason in @p why, else 0. The only grounds for a test to skip.
 */
int gxt_kernel_lacks(unsigned what, char *why, size_t len);

/** 1 if a cgroup hierarchy of filesystem type @p magic (0x63677270 for
 *  cgroup2, 0x27e0eb for v1) is mounted at @p dir and writable. */
int gxt_cgroup_writable(const char *dir, unsigned long magic);

/** Skips the current test, printing why, when the kernel lacks @p what. */
#define GXT_SKIP_UNLESS(what)                                   \
  do {                                                          \
    char why_[160];                                             \
    if (gxt_kernel_lacks((what), why_, sizeof why_)) {          \
      print_message("skipped: %s\n", why_);                     \
      skip();                                                   \
    }                                                           \
  } while (0)

/** Run cgroups (leaf directories) a daemon of instance @p instance has
 *  under gexec/<instance>/ in every hierarchy. */
int gxt_cgroup_leaves(const char *instance);

/** Every cgroup directory of @p instance, run leaves and the fork
 *  server's spare launcher's leaves ("spare-PID") alike: 0 once the
 *  daemon is gone and cleaned up. */
int gxt_cgroup_dirs(const char *instance);

/** Waits up to @p ms until that count is 0; returns 1 if so. */
int gxt_wait_no_cgroup_leaves(const char *instance, int ms);

/** Starts gexecd with @p extra_args expecting it to exit by itself (e.g.
 *  refusing to start); waits up to 60 s, copies the head of its log into
 *  @p log and returns its wait status. */
int gxt_daemon_run_to_exit(const char *const *extra_args, char *log,
                           size_t log_len);

/** Sends SIGTERM and returns the daemon's exit status (waitpid form). */
int gxt_daemon_stop(gxt_daemon *d);

/** A daemon and a connection shared by a group of tests. */
extern gxt_daemon gxt_group_daemon;
extern gexec_conn *gxt_group_conn;

/** Group setup: starts gxt_group_daemon with @p flags (NULL-terminated)
 *  and connects gxt_group_conn. */
void gxt_group_start(const char *const *flags);

/** Group teardown: closes the connection, stops the daemon and asserts it
 *  exited 0 (in sanitizer builds that includes no leak reports). */
void gxt_group_stop(void);

/** Connects to @p d; aborts the test on failure. */
gexec_conn *gxt_connect(const gxt_daemon *d);

/** Runs argv (NULL-terminated) with default options; asserts GEXEC_OK. */
void gxt_run(gexec_conn *c, const char *const *argv, gexec_result *res);

/** Returns 1 if @p pid exists and is not a zombie. */
int gxt_pid_alive(pid_t pid);

/** Waits up to @p ms for @p pid to be gone (or a zombie); returns 1 if
 *  gone. Polls every 10 ms: a condition wait, not a fixed sleep. */
int gxt_wait_pid_gone(pid_t pid, int ms);

/** A live (non-zombie) process on this host whose argv has an element
 *  equal to @p arg, or 0. Works whatever PID namespace the run is in:
 *  pids printed from inside a run are namespace-local. */
pid_t gxt_find_pid_by_arg(const char *arg);

/** Waits up to @p ms for such a process; returns its pid or 0. */
pid_t gxt_wait_pid_by_arg(const char *arg, int ms);

/** Waits up to @p ms until no such process is left; returns 1 if so. */
int gxt_wait_arg_gone(const char *arg, int ms);

/** Resident set size of @p pid in KiB (from /proc). */
long gxt_rss_kb(pid_t pid);

/** A memory budget in KiB for an RSS assertion: @p kib, scaled up in
 *  sanitizer builds (ASan's shadow memory and quarantine, TSan's shadow
 *  and history, so RSS there is not the production figure). */
long gxt_rss_budget_kb(long kib);

/**
 * Starts `gexec run -H <d> -n ARGS...` (the CLI, a process of its own)
 * with its stdout on a pipe whose read end goes to *out: a client that
 * stops reading its run's output as long as nobody reads *out. Returns
 * its pid.
 */
pid_t gxt_cli_run(const gxt_daemon *d, const char *const *args, int *out);

/** Runs @p argv (NULL-terminated, found in PATH) without a shell and
 *  returns its exit code, or -1 if it did not exit normally. */
int gxt_exec(const char *const *argv);

/** Copies file @p src to @p dst with mode @p mode; aborts the test on
 *  failure. */
void gxt_copy_file(const char *src, const char *dst, mode_t mode);

/** What a daemon holds, and what is left of its runs. */
typedef struct {
  int fds, threads; /**< the daemon's open descriptors and threads */
  long rss_kb;
  int zombies;      /**< its children not reaped */
  int leaves;       /**< run cgroups of the instance */
  int survivors;    /**< live processes anywhere with the mark in argv */
} gxt_health;

/** Measures @p daemon; @p instance (for cgroups) and @p mark may be
 *  NULL. */
gxt_health gxt_health_of(pid_t daemon, const char *instance,
                         const char *mark);

/** Milliseconds on the monotonic clock. */
long long gxt_now_ms(void);

#endif
