/* Process start through posix_spawn: glibc implements it with
 * clone(CLONE_VM|CLONE_VFORK), so it is fast, safe in a threaded process,
 * and reports exec failures synchronously. */
#include "server/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 0 if @p file is an executable regular file, else -errno. */
static int check_exec(const char *file) {
  struct stat st;
  if (stat(file, &st) != 0) return errno == ENOTDIR ? -ENOENT : -errno;
  if (!S_ISREG(st.st_mode)) return -EACCES;
  if (access(file, X_OK) != 0) return -errno;
  /* root passes access(X_OK) when any x bit is set; none set means no */
  if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) return -EACCES;
  return 0;
}

/* Writes @p dir/@p name (dir of length @p dlen; "" = no dir) resolved
 * against @p cwd when relative. Returns 0 or -ENAMETOOLONG. */
static int candidate(const char *cwd, const char *dir, int dlen,
                     const char *name, char *out, size_t out_len) {
  char rel[PATH_MAX];
  int n = dlen ? snprintf(rel, sizeof rel, "%.*s/%s", dlen, dir, name)
               : snprintf(rel, sizeof rel, "%s", name);
  if (n < 0 || (size_t)n >= sizeof rel) return -ENAMETOOLONG;
  if (rel[0] == '/' || !cwd)
    n = snprintf(out, out_len, "%s", rel);
  else
    n = snprintf(out, out_len, "%s/%s", cwd, rel);
  return n < 0 || (size_t)n >= out_len ? -ENAMETOOLONG : 0;
}

int gxd_spawn_resolve(const char *name, const char *path_env, const char *cwd,
                      char *out, size_t out_len) {
  if (strchr(name, '/')) {
    int rc = candidate(cwd, "", 0, name, out, out_len);
    return rc ? rc : check_exec(out);
  }
  int best = -ENOENT;
  const char *p = path_env;
  if (!p) return -ENOENT;
  for (;;) { /* every element, the empty ones ("a::b", ":a", "a:") too */
    const char *end = strchrnul(p, ':');
    int dlen = (int)(end - p);
    /* an empty element means the run's cwd, as with execvp */
    if (candidate(cwd, dlen ? p : ".", dlen ? dlen : 1, name, out,
                  out_len) == 0) {
      int rc = check_exec(out);
      if (rc == 0) return 0;
      if (rc == -EACCES) best = -EACCES;
    }
    if (!*end) break;
    p = end + 1;
  }
  return best;
}

static int add_stdio(posix_spawn_file_actions_t *fa, int fd, int target) {
  if (fd < 0)
    return posix_spawn_file_actions_addopen(
        fa, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0);
  /* dup2 onto itself would keep O_CLOEXEC: callers never pass 0..2 */
  return posix_spawn_file_actions_adddup2(fa, fd, target);
}

int gxd_spawn(const gxd_spawn_spec *spec, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t all, none;
  int rc;
  sigfillset(&all);
  sigemptyset(&none);
  if ((rc = posix_spawn_file_actions_init(&fa)) != 0) return -rc;
  if ((rc = posix_spawnattr_init(&at)) != 0) goto out_fa;
  if ((rc = add_stdio(&fa, spec->stdin_fd, 0)) != 0 ||
      (rc = add_stdio(&fa, spec->stdout_fd, 1)) != 0 ||
      (rc = add_stdio(&fa, spec->stderr_fd, 2)) != 0 ||
      (spec->report_fd > 0 &&
       (rc = posix_spawn_file_actions_adddup2(&fa, spec->report_fd, 3)) != 0) ||
      (rc = posix_spawn_file_actions_addchdir_np(&fa, spec->cwd)) != 0 ||
      (rc = posix_spawn_file_actions_addclosefrom_np(
           &fa, spec->report_fd > 0 ? 4 : 3)) != 0)
    goto out_attr;
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
  rc = posix_spawn(pid, spec->path, &fa, &at, spec->argv, spec->envp);
out_attr:
  posix_spawnattr_destroy(&at);
out_fa:
  posix_spawn_file_actions_destroy(&fa);
  return -rc;
}
