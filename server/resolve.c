/* Program lookup as execvp(3) does it; see resolve.h. */
#include "server/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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

int gxd_resolve(const char *name, const char *path_env, const char *cwd,
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

/* Whether allow entry @p e is a glob rather than a file (see resolve.h). */
static int is_glob(const char *e) { return strpbrk(e, "*?[\\") != NULL; }

/* Writes the canonical absolute path of the open file @p fd (@p have its
 * stat; opened as @p path) to @p buf: the kernel's name for it
 * (/proc/self/fd/N), or realpath(@p path) where there is no /proc at
 * all. Either must name that very file now (same device and inode): a
 * file deleted, replaced or out of reach since the open gets no path.
 * Returns 0 or -1. */
static int canonical_path(int fd, const struct stat *have, const char *path,
                          char buf[PATH_MAX]) {
  char link[64];
  struct stat now;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, PATH_MAX - 1);
  if (n >= 0 && n < PATH_MAX - 1)
    buf[n] = '\0';
  else if (n >= 0 || errno != ENOENT || access("/proc/self", F_OK) == 0 ||
           !realpath(path, buf))
    return -1;
  if (buf[0] != '/' || stat(buf, &now) != 0 || now.st_dev != have->st_dev ||
      now.st_ino != have->st_ino)
    return -1;
  return 0;
}

/* Whether the open file @p fd (opened as @p path) is allowed by
 * @p allow: "*", a glob matching its canonical path, or the same file
 * (device and inode) as an entry looked up now, as the caller. */
static int allowed(int fd, const char *path, char *const *allow,
                   size_t allowc) {
  struct stat have, want;
  char canon[PATH_MAX];
  int canon_ok = -1; /* not looked up yet */
  if (fstat(fd, &have) != 0) return 0;
  for (size_t i = 0; i < allowc; i++) {
    if (strcmp(allow[i], "*") == 0) return 1;
    if (!is_glob(allow[i])) {
      if (stat(allow[i], &want) == 0 && want.st_dev == have.st_dev &&
          want.st_ino == have.st_ino)
        return 1;
      continue;
    }
    if (canon_ok < 0) canon_ok = canonical_path(fd, &have, path, canon) == 0;
    if (canon_ok && fnmatch(allow[i], canon, 0) == 0) return 1;
  }
  return 0;
}

/* Whether the file behind @p fd starts with "#!" (0 if unreadable). */
static int is_script(int fd) {
  char path[64], head[2];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int r = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (r < 0) return 0;
  ssize_t n = pread(r, head, sizeof head, 0);
  close(r);
  return n == 2 && head[0] == '#' && head[1] == '!';
}

int gxd_program_open(const char *path, char *const *allow, size_t allowc,
                     int *fd_out) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return -errno;
  if (allowc && !allowed(fd, path, allow, allowc)) {
    close(fd);
    return GXD_PROGRAM_DENIED;
  }
  /* the kernel runs a script's interpreter with /dev/fd/N: N must stay
   * open across the exec (as fexecve(3) documents) */
  if (is_script(fd) && fcntl(fd, F_SETFD, 0) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  *fd_out = fd;
  return 0;
}
