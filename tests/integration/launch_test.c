/* Integration: gexec-launch itself, as the daemon drives it (a launch
 * request in a sealed memfd on fd 4, records on fd 3), for the program
 * constraint: the program is looked up inside the sandbox as the run's
 * user, checked against the request's allow list (by file identity, or
 * a glob over its canonical path), and that very open file is executed,
 * under the name the allow list approved (argv[0]). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/launch_wire.h"

typedef struct {
  int status;         /* the launcher's wait status */
  char records[1024]; /* fd 3, as written */
  char out[1024];     /* the command's stdout */
} launched;

static void slurp(int fd, char *buf, size_t len) {
  size_t n = 0;
  ssize_t r;
  while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0) n += (size_t)r;
  buf[n] = '\0';
  close(fd);
}

static int lift(int fd) {
  int up = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  assert_true(up >= 10);
  close(fd);
  return up;
}

/* Runs gexec-launch --profile @p profile with a request for @p argv (PATH
 * /usr/bin:/bin) and the allow list @p allow. */
static void launch(const char *profile, char *const *argv, size_t argc,
                   char *const *allow, size_t allowc, launched *l) {
  char launcher[512], *const env[] = {"PATH=/usr/bin:/bin", NULL};
  snprintf(launcher, sizeof launcher, "%s/gexec/server/gexec-launch",
           getenv("TEST_SRCDIR"));
  gxl_request r = {.cwd = "/", .argv = argv, .argc = argc, .envp = env,
                   .envc = 1, .allow = allow, .allowc = allowc};
  uint8_t *buf;
  size_t len;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  int mfd = memfd_create("req", MFD_CLOEXEC), rep[2], out[2];
  assert_int_equal(write(mfd, buf, len), (ssize_t)len);
  free(buf);
  assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
  assert_int_equal(pipe2(out, O_CLOEXEC), 0);
  /* above the slots, so no dup2 below clobbers another source */
  mfd = lift(mfd);
  rep[1] = lift(rep[1]);
  out[1] = lift(out[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, rep[1], 3);
  posix_spawn_file_actions_adddup2(&fa, mfd, 4);
  char *const largv[] = {launcher, "--profile", (char *)profile,
                         "--report-fd", "3", "--request-fd", "4", NULL};
  pid_t pid;
  assert_int_equal(posix_spawn(&pid, launcher, &fa, NULL, largv, env), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(rep[1]);
  close(out[1]);
  close(mfd);
  slurp(rep[0], l->records, sizeof l->records);
  slurp(out[0], l->out, sizeof l->out);
  assert_int_equal(waitpid(pid, &l->status, 0), pid);
}

/* The first line of the records (the exec record). */
static void assert_exec_record(const launched *l, const char *want) {
  const char *nl = strchr(l->records, '\n');
  assert_non_null(nl);
  assert_int_equal((size_t)(nl - l->records), strlen(want));
  assert_memory_equal(l->records, want, strlen(want));
}

/* /usr/bin/true is allowed; "true", found in PATH as /usr/bin/true (or
 * /bin/true, the same file on a merged /usr), runs. */
static void allowed_program_runs(void **state) {
  (void)state;
  char *const argv[] = {"true", NULL}, *const allow[] = {"/usr/bin/true"};
  const char *profiles[] = {"host", "baseline"};
  for (int i = 0; i < 2; i++) {
    launched l;
    launch(profiles[i], argv, 1, allow, 1, &l);
    assert_memory_equal(l.records, "gexec-exec v1 ok pid=", 21);
    assert_non_null(strstr(l.records, "\ngexec-report v1 exit=0 signal=0 "));
    assert_true(WIFEXITED(l.status) && WEXITSTATUS(l.status) == 0);
  }
}

/* Any other program is refused with what=denied, before it runs: the
 * command's process exits 126 and nothing is printed. */
static void other_program_denied(void **state) {
  (void)state;
  char *const argv[] = {"echo", "must not run", NULL};
  char *const allow[] = {"/usr/bin/true", "/usr/bin/id"};
  launched l;
  launch("baseline", argv, 2, allow, 2, &l);
  assert_exec_record(&l, "gexec-exec v1 fail what=denied errno=1");
  assert_non_null(strstr(l.records, "\ngexec-report v1 exit=126 signal=0 "));
  assert_string_equal(l.out, "");
}

/* A script runs by descriptor too: its interpreter reads /dev/fd/N,
 * with the client's arguments; under an entry naming a link to it as
 * well (the kernel passes the script's path, not argv[0], so the
 * constraint's argv[0] changes nothing for a script). */
static void allowed_script_runs(void **state) {
  (void)state;
  char path[512], link[520];
  snprintf(path, sizeof path, "%s/launch-script-%d", getenv("TEST_TMPDIR"),
           (int)getpid());
  snprintf(link, sizeof link, "%s.link", path);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("#!/bin/sh\necho script ran \"$0\" \"$@\"\n", f);
  fclose(f);
  assert_int_equal(chmod(path, 0755), 0);
  assert_int_equal(symlink(path, link), 0);
  char *const argv[] = {path, "a", "b c", NULL}, *const allow[] = {link};
  launched l;
  launch("host", argv, 3, allow, 1, &l);
  assert_memory_equal(l.out, "script ran /dev/fd/", 19);
  const char *tail = l.out + strlen(l.out) - strlen(" a b c\n");
  assert_string_equal(tail, " a b c\n");
  assert_true(WIFEXITED(l.status) && WEXITSTATUS(l.status) == 0);
  unlink(link);
  unlink(path);
}

/* Runs `NAME -c 'echo "$0"'` (sh prints its argv[0]) in @p profile
 * under @p allow; asserts the command printed @p want. Returns 0, or -1
 * when this host cannot build the profile's sandbox (restricted only). */
static int argv0_seen(const char *profile, const char *name,
                      char *const *allow, size_t allowc, const char *want) {
  char *const argv[] = {(char *)name, "-c", "echo \"$0\"", NULL};
  char line[PATH_MAX + 2];
  launched l;
  launch(profile, argv, 3, allow, allowc, &l);
  if (strstr(l.records, "gexec-error v1 ")) {
    assert_string_equal(profile, "restricted");
    return -1;
  }
  snprintf(line, sizeof line, "%s\n", want);
  if (strcmp(l.out, line) != 0)
    fail_msg("%s %s under %zu entries: argv[0] '%s', want '%s' (%s)", profile,
             name, allowc, l.out, want, l.records);
  return 0;
}

/* Under a program constraint the command's argv[0] is the name the
 * allow list approved, never the client's: a file entry as written
 * (whichever link to that file the client named), a glob's canonical
 * path; "*" and no constraint leave the client's. This is what keeps a
 * multi-call binary (sh is dash here, systemctl is reboot) to the one
 * program the policy named. */
static void argv0_is_the_approved_name(void **state) {
  (void)state;
  char real[PATH_MAX], glob[PATH_MAX];
  const char *profiles[] = {"host", "baseline", "restricted"};
  assert_non_null(realpath("/bin/sh", real)); /* /usr/bin/dash on Debian */
  snprintf(glob, sizeof glob, "%s", real);
  glob[strlen(glob) - 1] = '?';
  const char *base = strrchr(real, '/') + 1; /* "dash": another name */
  char *const sh[] = {"/bin/sh"}, *const g[] = {glob}, *const any[] = {"*"};
  for (int i = 0; i < 3; i++) {
    if (argv0_seen(profiles[i], "sh", sh, 1, "/bin/sh") != 0) continue;
    if (strcmp(base, "sh") != 0) /* the file's own name, as the client's */
      argv0_seen(profiles[i], base, sh, 1, "/bin/sh");
    argv0_seen(profiles[i], "/bin/sh", g, 1, real);
    argv0_seen(profiles[i], "sh", g, 1, real);
    /* several entries admit it: the first naming what the client asked
     * for wins, else the first */
    char *const both[] = {real, "/bin/sh"};
    argv0_seen(profiles[i], "sh", both, 2, "/bin/sh");
    argv0_seen(profiles[i], base, both, 2, real);
    argv0_seen(profiles[i], "sh", any, 1, "sh");
    argv0_seen(profiles[i], "sh", NULL, 0, "sh");
  }
}

/* Glob entries (the policy's allow.commands) match the program's
 * canonical path, in every profile: the launcher reads it from /proc
 * inside the sandbox, as the run's user ("true" is /usr/bin/true, or
 * /bin/true, which is /usr/bin/true on a merged /usr). */
static void glob_allows_by_canonical_path(void **state) {
  (void)state;
  char *const argv[] = {"true", NULL}, *const echo[] = {"echo", "no", NULL};
  char *const allow[] = {"/usr/bin/tru?"}, *const any[] = {"*"};
  const char *profiles[] = {"host", "baseline", "restricted"};
  for (int i = 0; i < 3; i++) {
    launched l;
    launch(profiles[i], argv, 1, allow, 1, &l);
    if (strstr(l.records, "gexec-error v1 ")) { /* no such sandbox here */
      assert_string_equal(profiles[i], "restricted");
      continue;
    }
    assert_memory_equal(l.records, "gexec-exec v1 ok pid=", 21);
    assert_true(WIFEXITED(l.status) && WEXITSTATUS(l.status) == 0);
    launch(profiles[i], echo, 2, allow, 1, &l);
    assert_exec_record(&l, "gexec-exec v1 fail what=denied errno=1");
    assert_string_equal(l.out, "");
    launch(profiles[i], echo, 2, any, 1, &l);
    assert_string_equal(l.out, "no\n");
  }
}

/* Without an allow list, any program found runs (today's daemon). */
static void no_constraint(void **state) {
  (void)state;
  char *const argv[] = {"echo", "free", NULL};
  launched l;
  launch("baseline", argv, 2, NULL, 0, &l);
  assert_string_equal(l.out, "free\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(allowed_program_runs),
      cmocka_unit_test(other_program_denied),
      cmocka_unit_test(allowed_script_runs),
      cmocka_unit_test(argv0_is_the_approved_name),
      cmocka_unit_test(glob_allows_by_canonical_path),
      cmocka_unit_test(no_constraint),
  };
  return cmocka_run_group_tests_name("integration/launch", tests, NULL, NULL);
}
