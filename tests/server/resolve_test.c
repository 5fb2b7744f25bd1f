/* Unit tests for server/resolve: gxd_resolve, gxd_program_open (which
 * entry admits a program, and the name it runs under). Files are
 * created under $TEST_TMPDIR (set by Bazel). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/resolve.h"
#include "tests/server/scratch.h"

/* ============================================================ resolve */

/* ======================================================= program_open */

/* The allow list is compared by file identity: a symlink to an allowed
 * file is that file (and runs under the entry's name); another file
 * with the same contents is not. */
static void program_open_allow_list(void **state) {
  (void)state;
  char tool[PATH_MAX]; /* gxt_at's buffers rotate */
  snprintf(tool, sizeof tool, "%s", gxt_at("bin/tool"));
  char *const allow[] = {tool, NULL};
  gxd_program p;
  gxt_make_dir("bin");
  gxt_make_file("bin/tool", "\177ELF", 0755);
  gxt_make_file("bin/copy", "\177ELF", 0755);
  assert_int_equal(symlink(gxt_at("bin/tool"), gxt_at("bin/link")), 0);
  assert_int_equal(gxd_program_open(gxt_at("bin/link"), allow, 1, &p), 0);
  assert_true(p.fd >= 0);
  assert_int_equal(fcntl(p.fd, F_GETFD), FD_CLOEXEC); /* not a script */
  assert_int_equal(fcntl(p.fd, F_GETFL) & O_PATH, O_PATH);
  assert_int_equal(p.entry, 0);
  assert_string_equal(p.argv0, tool);
  close(p.fd);
  assert_int_equal(gxd_program_open(gxt_at("bin/copy"), allow, 1, &p),
                   GXD_PROGRAM_DENIED);
  assert_int_equal(p.fd, -1);
  assert_int_equal(p.entry, -1);
  assert_string_equal(p.argv0, "");
  /* no constraint: any program, under the client's argv[0] */
  assert_int_equal(gxd_program_open(gxt_at("bin/copy"), NULL, 0, &p), 0);
  assert_int_equal(p.entry, -1);
  assert_string_equal(p.argv0, "");
  close(p.fd);
  assert_int_equal(gxd_program_open(gxt_at("bin/none"), NULL, 0, &p),
                   -ENOENT);
  assert_int_equal(p.fd, -1);
}

/* gxd_program_open of root/@p rel under the one-entry allow list @p e:
 * 0 or GXD_PROGRAM_DENIED (any other result fails the test). */
static int open_with(const char *rel, const char *e) {
  char *const allow[] = {(char *)e, NULL};
  gxd_program p;
  int rc = gxd_program_open(gxt_at(rel), allow, 1, &p);
  if (rc == 0) {
    assert_true(p.fd >= 0);
    assert_int_equal(p.entry, 0);
    close(p.fd);
  } else {
    assert_int_equal(rc, GXD_PROGRAM_DENIED);
    assert_int_equal(p.fd, -1);
  }
  return rc;
}

/* The scratch directory's canonical path + "/" + @p rel (static). */
static const char *canon_at(const char *rel) {
  static char buf[2][PATH_MAX];
  static int next;
  char root[PATH_MAX], *b = buf[next++ % 2];
  assert_non_null(realpath(gxt_scratch_root(), root));
  if (snprintf(b, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX)
    fail_msg("path too long: %s/%s", root, rel);
  return b;
}

/* Lays out g/bin/tool, g/other/prog and links across: g/other/to-tool
 * -> g/bin/tool, g/bin/to-prog -> g/other/prog. */
static void make_glob_tree(void) {
  gxt_make_dir("g");
  gxt_make_dir("g/bin");
  gxt_make_dir("g/other");
  gxt_make_file("g/bin/tool", "\177ELF", 0755);
  gxt_make_file("g/other/prog", "\177ELF", 0755);
  unlink(gxt_at("g/other/to-tool"));
  unlink(gxt_at("g/bin/to-prog"));
  assert_int_equal(symlink(gxt_at("g/bin/tool"), gxt_at("g/other/to-tool")),
                   0);
  assert_int_equal(symlink(gxt_at("g/other/prog"), gxt_at("g/bin/to-prog")),
                   0);
}

/* A glob entry is matched (fnmatch, '*' crossing '/') against the
 * program's canonical path: a link elsewhere to an allowed file is
 * allowed, a link in an allowed place to a file elsewhere is not, and
 * ".." cannot walk a path into a glob. "*" alone allows any program. */
static void program_open_allow_globs(void **state) {
  (void)state;
  make_glob_tree();
  const char *bin = canon_at("g/bin/*");
  assert_int_equal(open_with("g/bin/tool", bin), 0);
  assert_int_equal(open_with("g/other/to-tool", bin), 0);
  assert_int_equal(open_with("g/bin/to-prog", bin), GXD_PROGRAM_DENIED);
  assert_int_equal(open_with("g/other/prog", bin), GXD_PROGRAM_DENIED);
  assert_int_equal(open_with("g/bin/../other/prog", bin), GXD_PROGRAM_DENIED);
  assert_int_equal(open_with("g/other/../bin/tool", canon_at("g/other/*")),
                   GXD_PROGRAM_DENIED);
  assert_int_equal(open_with("g/bin/tool", canon_at("g/*")), 0);
  assert_int_equal(open_with("g/bin/tool", canon_at("g/bin/too?")), 0);
  assert_int_equal(open_with("g/bin/tool", canon_at("g/bin/[st]ool")), 0);
  assert_int_equal(open_with("g/bin/tool", canon_at("g/bin/[s]ool")),
                   GXD_PROGRAM_DENIED);
  assert_int_equal(open_with("g/other/prog", "*"), 0);
  assert_int_equal(open_with("g/other/prog", "/nonexistent/*"),
                   GXD_PROGRAM_DENIED);
  /* a glob that misses, then a file entry (by identity) that hits */
  char *const both[] = {(char *)bin, (char *)gxt_at("g/other/prog"), NULL};
  gxd_program p;
  assert_int_equal(gxd_program_open(gxt_at("g/bin/to-prog"), both, 2, &p),
                   0);
  assert_int_equal(p.entry, 1);
  assert_string_equal(p.argv0, gxt_at("g/other/prog"));
  close(p.fd);
}

/* Without /proc (none mounted at all) globs are matched against
 * realpath() of the program, checked to be the opened file; with it
 * the answers are the same. Runs in a child with its own mount
 * namespace (skipped where that cannot be made). */
static void program_open_globs_without_proc(void **state) {
  (void)state;
  make_glob_tree();
  const char *bin = canon_at("g/bin/*");
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char *const allow[] = {(char *)bin, NULL};
    gxd_program p;
    int bits = 0;
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        umount2("/proc", MNT_DETACH) != 0)
      _exit(100);
    if (access("/proc/self", F_OK) == 0) _exit(101);
    bits |= gxd_program_open(gxt_at("g/bin/tool"), allow, 1, &p) == 0;
    bits |= (gxd_program_open(gxt_at("g/other/to-tool"), allow, 1, &p) ==
             0) << 1;
    bits |= (gxd_program_open(gxt_at("g/bin/to-prog"), allow, 1, &p) ==
             GXD_PROGRAM_DENIED) << 2;
    _exit(bits);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 100) skip();
  assert_int_equal(WEXITSTATUS(status), 7);
}

/* A script keeps its descriptor across the exec (its interpreter opens
 * /dev/fd/N), under a constraint too; a binary's is close-on-exec. */
static void program_open_script_keeps_fd(void **state) {
  (void)state;
  char *const allow[] = {(char *)gxt_at("script"), NULL};
  gxd_program p;
  gxt_make_file("script", "#!/bin/sh\necho hi\n", 0755);
  assert_int_equal(gxd_program_open(gxt_at("script"), NULL, 0, &p), 0);
  assert_int_equal(fcntl(p.fd, F_GETFD), 0);
  close(p.fd);
  assert_int_equal(gxd_program_open(gxt_at("script"), allow, 1, &p), 0);
  assert_int_equal(fcntl(p.fd, F_GETFD), 0);
  assert_string_equal(p.argv0, gxt_at("script"));
  close(p.fd);
}

/* ====================================================== the run's name */

/* mc/multi, a multi-call binary, and its names: links mc/reboot,
 * mc/runlevel and (elsewhere) g2/systemctl to it. */
static void make_multicall(void) {
  gxt_make_dir("mc");
  gxt_make_dir("g2");
  gxt_make_file("mc/multi", "\177ELF", 0755);
  const char *names[] = {"mc/reboot", "mc/runlevel", "g2/systemctl"};
  for (int i = 0; i < 3; i++) {
    unlink(gxt_at(names[i]));
    assert_int_equal(symlink(gxt_at("mc/multi"), gxt_at(names[i])), 0);
  }
}

/* Opens root/@p rel under @p allow (@p n entries); expects it allowed by
 * entry @p entry, to run as @p argv0. */
static void expect_entry(const char *rel, char *const *allow, size_t n,
                         int entry, const char *argv0) {
  gxd_program p;
  assert_int_equal(gxd_program_open(gxt_at(rel), allow, n, &p), 0);
  close(p.fd);
  if (p.entry != entry || strcmp(p.argv0, argv0) != 0)
    fail_msg("%s: entry %d as '%s'; want entry %d as '%s'", rel, p.entry,
             p.argv0, entry, argv0);
}

/* The review's attacks on one inode: an entry naming one name of a
 * multi-call binary runs it under that name whatever name the client
 * used (so "runlevel" never becomes systemctl, and a pattern naming
 * the binary never becomes "reboot"). */
static void program_runs_under_the_entrys_name(void **state) {
  (void)state;
  make_multicall();
  char runlevel[PATH_MAX], multi[PATH_MAX];
  snprintf(runlevel, sizeof runlevel, "%s", gxt_at("mc/runlevel"));
  snprintf(multi, sizeof multi, "%s", gxt_at("mc/multi"));
  char *const only_runlevel[] = {runlevel, NULL}, *const only_multi[] = {
                                                      multi, NULL};
  expect_entry("mc/multi", only_runlevel, 1, 0, runlevel);
  expect_entry("mc/reboot", only_runlevel, 1, 0, runlevel);
  expect_entry("mc/reboot", only_multi, 1, 0, multi);
  expect_entry("g2/systemctl", only_multi, 1, 0, multi);
  /* a glob runs it under its canonical path, whatever link was used */
  char pat[PATH_MAX]; /* canon_at's buffers rotate */
  snprintf(pat, sizeof pat, "%s", canon_at("mc/m*"));
  char *const glob[] = {pat, NULL};
  expect_entry("mc/reboot", glob, 1, 0, canon_at("mc/multi"));
  expect_entry("g2/systemctl", glob, 1, 0, canon_at("mc/multi"));
  assert_int_equal(open_with("g2/systemctl", canon_at("g2/*")),
                   GXD_PROGRAM_DENIED); /* its canonical path is mc/ */
}

/* Of several entries admitting the file, the first naming what the
 * client asked for (its last component) wins, "*" being the client's
 * own name; else the first that admits it. */
static void program_entry_choice(void **state) {
  (void)state;
  make_multicall();
  char runlevel[PATH_MAX], multi[PATH_MAX], other[PATH_MAX];
  snprintf(runlevel, sizeof runlevel, "%s", gxt_at("mc/runlevel"));
  snprintf(multi, sizeof multi, "%s", gxt_at("mc/multi"));
  snprintf(other, sizeof other, "%s", canon_at("nowhere/*"));
  char *const both[] = {other, runlevel, multi, NULL};
  expect_entry("mc/multi", both, 3, 2, multi);
  expect_entry("mc/runlevel", both, 3, 1, runlevel);
  expect_entry("mc/reboot", both, 3, 1, runlevel); /* neither: the first */
  expect_entry("g2/systemctl", both, 3, 1, runlevel);
  char pat[PATH_MAX];
  snprintf(pat, sizeof pat, "%s", canon_at("mc/*"));
  char *const glob_last[] = {runlevel, pat, NULL};
  expect_entry("mc/multi", glob_last, 2, 1, canon_at("mc/multi"));
  expect_entry("mc/reboot", glob_last, 2, 0, runlevel);
  char *const any[] = {runlevel, "*", NULL};
  expect_entry("mc/reboot", any, 2, 1, "");
  expect_entry("mc/runlevel", any, 2, 0, runlevel);
  char *const any_first[] = {"*", runlevel, NULL};
  expect_entry("mc/runlevel", any_first, 2, 0, "");
}

/* gxd_program_argv: the client's argv under no constraint, else a
 * copy with argv[0] replaced and argv[1..] the client's. */
static void program_argv_replaces_argv0(void **state) {
  (void)state;
  char *const argv[] = {"reboot", "--help", "x", NULL}, *const none[] = {
                                                             NULL};
  gxd_program p = {.fd = -1, .entry = -1, .argv0 = ""};
  assert_ptr_equal(gxd_program_argv(&p, argv), argv);
  snprintf(p.argv0, sizeof p.argv0, "/usr/bin/systemctl");
  p.entry = 0;
  char *const *v = gxd_program_argv(&p, argv);
  assert_non_null(v);
  assert_ptr_not_equal(v, argv);
  assert_ptr_equal(v[0], p.argv0);
  assert_ptr_equal(v[1], argv[1]);
  assert_ptr_equal(v[2], argv[2]);
  assert_null(v[3]);
  free((void *)v);
  v = gxd_program_argv(&p, none);
  assert_ptr_equal(v[0], p.argv0);
  assert_null(v[1]);
  free((void *)v);
}

static int resolve(const char *name, const char *path_env, char *out) {
  memset(out, 0, PATH_MAX);
  return gxd_resolve(name, path_env, NULL, out, PATH_MAX);
}

static void resolve_found_in_path(void **state) {
  char out[PATH_MAX], path_env[3 * PATH_MAX];
  (void)state;
  gxt_make_dir("r1");
  gxt_make_dir("r1/a");
  gxt_make_dir("r1/b");
  gxt_make_file("r1/b/prog", "#!/bin/sh\n", 0755);
  snprintf(path_env, sizeof path_env, "%s:%s:%s", gxt_at("r1/missing"),
           gxt_at("r1/a"), gxt_at("r1/b"));
  assert_int_equal(resolve("prog", path_env, out), 0);
  assert_string_equal(out, gxt_at("r1/b/prog"));
}

static void resolve_system_program(void **state) {
  char out[PATH_MAX];
  (void)state;
  assert_int_equal(resolve("sh", "/nonexistent/dir:/bin", out), 0);
  assert_string_equal(out, "/bin/sh");
}

/* The first directory that has the program wins. */
static void resolve_first_match_wins(void **state) {
  char out[PATH_MAX], path_env[2 * PATH_MAX];
  (void)state;
  gxt_make_dir("r2");
  gxt_make_dir("r2/a");
  gxt_make_dir("r2/b");
  gxt_make_file("r2/a/prog", "#!/bin/sh\n", 0700);
  gxt_make_file("r2/b/prog", "#!/bin/sh\n", 0755);
  snprintf(path_env, sizeof path_env, "%s:%s", gxt_at("r2/a"), gxt_at("r2/b"));
  assert_int_equal(resolve("prog", path_env, out), 0);
  assert_string_equal(out, gxt_at("r2/a/prog"));
}

/* Only an "other" execute bit: gxt_scratch_root() may run it, its owner may not. */
static void resolve_any_x_bit(void **state) {
  char out[PATH_MAX];
  (void)state;
  gxt_make_dir("r3");
  gxt_make_file("r3/prog", "#!/bin/sh\n", 0001);
  if (geteuid() == 0) {
    assert_int_equal(resolve("prog", gxt_at("r3"), out), 0);
    assert_string_equal(out, gxt_at("r3/prog"));
  } else {
    assert_int_equal(resolve("prog", gxt_at("r3"), out), -EACCES);
  }
}

static void resolve_enoent(void **state) {
  char out[PATH_MAX], path_env[2 * PATH_MAX];
  (void)state;
  gxt_make_dir("r4");
  gxt_make_dir("r4/a");
  snprintf(path_env, sizeof path_env, "%s:%s", gxt_at("r4/a"), gxt_at("r4/none"));
  assert_int_equal(resolve("gx-no-such-program", path_env, out), -ENOENT);
  assert_int_equal(resolve("gx-no-such-program", "/bin:/usr/bin", out),
                   -ENOENT);
}

/* A run with no PATH at all finds nothing by bare name. */
static void resolve_null_path(void **state) {
  char out[PATH_MAX];
  (void)state;
  assert_int_equal(resolve("sh", NULL, out), -ENOENT);
}

static void resolve_eacces_not_executable(void **state) {
  char out[PATH_MAX];
  (void)state;
  gxt_make_dir("r5");
  gxt_make_file("r5/prog", "#!/bin/sh\n", 0644);
  assert_int_equal(resolve("prog", gxt_at("r5"), out), -EACCES);
}

static void resolve_eacces_directory(void **state) {
  char out[PATH_MAX];
  (void)state;
  gxt_make_dir("r6");
  gxt_make_dir("r6/prog");
  assert_int_equal(resolve("prog", gxt_at("r6"), out), -EACCES);
}

/* A non-executable match is reported only if nothing better is found. */
static void resolve_eacces_then_found(void **state) {
  char out[PATH_MAX], path_env[3 * PATH_MAX];
  (void)state;
  gxt_make_dir("r7");
  gxt_make_dir("r7/a");
  gxt_make_dir("r7/b");
  gxt_make_dir("r7/c");
  gxt_make_file("r7/a/prog", "#!/bin/sh\n", 0644);
  gxt_make_dir("r7/b/prog");
  gxt_make_file("r7/c/prog", "#!/bin/sh\n", 0755);
  snprintf(path_env, sizeof path_env, "%s:%s:%s", gxt_at("r7/a"), gxt_at("r7/b"),
           gxt_at("r7/c"));
  assert_int_equal(resolve("prog", path_env, out), 0);
  assert_string_equal(out, gxt_at("r7/c/prog"));
  /* EACCES first, then nothing: still EACCES, not ENOENT */
  snprintf(path_env, sizeof path_env, "%s:%s", gxt_at("r7/a"), gxt_at("r7/none"));
  assert_int_equal(resolve("prog", path_env, out), -EACCES);
}

/* A name with '/' is used as is; PATH is not searched. */
static void resolve_name_with_slash(void **state) {
  char out[PATH_MAX];
  (void)state;
  gxt_make_dir("r8");
  gxt_make_file("r8/prog", "#!/bin/sh\n", 0755);
  gxt_make_file("r8/plain", "data\n", 0644);
  gxt_make_dir("r8/dir");
  assert_int_equal(resolve("/bin/sh", NULL, out), 0);
  assert_string_equal(out, "/bin/sh");
  assert_int_equal(resolve("/bin/sh", "", out), 0);
  assert_int_equal(resolve(gxt_at("r8/prog"), "/nonexistent", out), 0);
  assert_string_equal(out, gxt_at("r8/prog"));
  assert_int_equal(resolve(gxt_at("r8/plain"), "/bin", out), -EACCES);
  assert_int_equal(resolve(gxt_at("r8/dir"), "/bin", out), -EACCES);
  assert_int_equal(resolve(gxt_at("r8/none"), "/bin", out), -ENOENT);
  /* through a regular file: ENOTDIR is reported as not found */
  assert_int_equal(resolve(gxt_at("r8/plain/x"), "/bin", out), -ENOENT);
  /* "r8/prog" is relative to the cwd, not looked up in PATH */
  assert_int_equal(resolve("r8/prog", gxt_at("r8"), out), -ENOENT);
  assert_string_equal(out, "r8/prog");
}

static void resolve_name_too_long(void **state) {
  char out[8];
  (void)state;
  assert_int_equal(gxd_resolve("/bin/sh", NULL, NULL, out, 8), 0);
  assert_string_equal(out, "/bin/sh");
  assert_int_equal(gxd_resolve("/bin/sh", NULL, NULL, out, 7),
                   -ENAMETOOLONG);
  /* a PATH candidate that does not fit is skipped, the next one used */
  assert_int_equal(
      gxd_resolve("sh", "/a/very/long/directory/name:/bin", NULL, out, 8), 0);
  assert_string_equal(out, "/bin/sh");
}

/* Relative names and empty PATH elements are resolved against the run's
 * cwd, not the caller's: what is checked is what will be executed. */
static void resolve_relative_to_run_cwd(void **state) {
  char out[PATH_MAX], expect[PATH_MAX];
  (void)state;
  gxt_make_dir("runcwd");
  gxt_make_file("runcwd/tool", "#!/bin/sh\n", 0755);
  snprintf(expect, sizeof expect, "%s/./tool", gxt_at("runcwd"));
  assert_int_equal(gxd_resolve("./tool", "/bin", gxt_at("runcwd"), out,
                                     sizeof out), 0);
  assert_string_equal(out, expect);
  assert_int_equal(gxd_resolve("tool", "/nonexistent:", gxt_at("runcwd"),
                                     out, sizeof out), 0);
  assert_string_equal(out, expect);
  /* the caller's own cwd is not consulted */
  assert_int_equal(gxd_resolve("./tool", "/bin", "/", out, sizeof out),
                   -ENOENT);
  /* absolute PATH elements are unaffected by cwd */
  assert_int_equal(gxd_resolve("sh", "/bin", gxt_at("runcwd"), out,
                                     sizeof out), 0);
  assert_string_equal(out, "/bin/sh");
}

/* Runs resolve with the process in gxt_scratch_root()/@p dir, then returns to where it
 * was; empty PATH elements mean the current directory, as for execvp. */
static int resolve_in(const char *dir, const char *name, const char *path_env,
                      char *out) {
  char old[PATH_MAX];
  int rc;
  assert_non_null(getcwd(old, sizeof old));
  assert_int_equal(chdir(gxt_at(dir)), 0);
  rc = resolve(name, path_env, out);
  assert_int_equal(chdir(old), 0);
  return rc;
}

static void resolve_empty_elements(void **state) {
  char out[PATH_MAX];
  (void)state;
  gxt_make_dir("r9");
  gxt_make_file("r9/gxprog", "#!/bin/sh\n", 0755);
  /* leading, middle and trailing empty elements, and an empty PATH */
  assert_int_equal(resolve_in("r9", "gxprog", ":/nonexistent", out), 0);
  assert_string_equal(out, "./gxprog");
  assert_int_equal(resolve_in("r9", "gxprog", "/nonexistent::/none2", out), 0);
  assert_string_equal(out, "./gxprog");
  assert_int_equal(resolve_in("r9", "gxprog", "/nonexistent:", out), 0);
  assert_string_equal(out, "./gxprog");
  assert_int_equal(resolve_in("r9", "gxprog", "", out), 0);
  assert_string_equal(out, "./gxprog");
  /* without an empty element the current directory is not searched */
  assert_int_equal(resolve_in("r9", "gxprog", "/nonexistent", out), -ENOENT);
  /* an earlier directory still wins over a later empty element */
  assert_int_equal(resolve_in("r9", "sh", "/bin:", out), 0);
  assert_string_equal(out, "/bin/sh");
}

static int group_setup(void **state) {
  (void)state;
  return gxt_scratch_setup("resolve_test");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(resolve_found_in_path),
      cmocka_unit_test(resolve_relative_to_run_cwd),
      cmocka_unit_test(resolve_system_program),
      cmocka_unit_test(resolve_first_match_wins),
      cmocka_unit_test(resolve_any_x_bit),
      cmocka_unit_test(resolve_enoent),
      cmocka_unit_test(resolve_null_path),
      cmocka_unit_test(resolve_eacces_not_executable),
      cmocka_unit_test(resolve_eacces_directory),
      cmocka_unit_test(resolve_eacces_then_found),
      cmocka_unit_test(resolve_name_with_slash),
      cmocka_unit_test(resolve_name_too_long),
      cmocka_unit_test(resolve_empty_elements),
      cmocka_unit_test(program_open_allow_list),
      cmocka_unit_test(program_open_allow_globs),
      cmocka_unit_test(program_open_globs_without_proc),
      cmocka_unit_test(program_open_script_keeps_fd),
      cmocka_unit_test(program_runs_under_the_entrys_name),
      cmocka_unit_test(program_entry_choice),
      cmocka_unit_test(program_argv_replaces_argv0),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
