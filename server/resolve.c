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

/* The program being checked: its open file, as opened, its stat, and
 * its canonical path (looked up once, when a glob first needs it). */
typedef struct {
  int fd;
  const char *path;
  const char *asked; /* the last component of path: the client's name */
  struct stat have;
  int canon_ok; /* -1: not looked up yet; 0: none; 1: canon is valid */
  char canon[PATH_MAX];
} program;

/* The last component of @p p. */
static const char *last_part(const char *p) {
  const char *slash = strrchr(p, '/');
  return slash ? slash + 1 : p;
}

/* Whether entry @p e admits the program @p g; if so *@p name is the
 * argv[0] it runs under ("" for "*": the client's own). See resolve.h. */
static int admits(const char *e, program *g, const char **name) {
  struct stat want;
  if (strcmp(e, "*") == 0) {
    *name = "";
    return 1;
  }
  if (!is_glob(e)) {
    *name = e;
    return stat(e, &want) == 0 && want.st_dev == g->have.st_dev &&
           want.st_ino == g->have.st_ino;
  }
  if (g->canon_ok < 0)
    g->canon_ok = canonical_path(g->fd, &g->have, g->path, g->canon) == 0;
  *name = g->canon;
  return g->canon_ok && fnmatch(e, g->canon, 0) == 0;
}

/* Whether @p name (an entry's argv[0]; "" is the client's own) has the
 * last component the client asked for. */
static int asked_for(const program *g, const char *name) {
  return !*name || strcmp(last_part(name), g->asked) == 0;
}

/* Finds the entry of @p allow that admits @p g (see resolve.h for which
 * one) and fills @p out's entry and argv0. Returns 1, or 0 if none. */
static int allowed(program *g, char *const *allow, size_t allowc,
                   gxd_program *out) {
  const char *name, *pick_name = NULL;
  size_t pick = 0;
  if (fstat(g->fd, &g->have) != 0) return 0;
  for (size_t i = 0; i < allowc; i++) {
    if (!admits(allow[i], g, &name)) continue;
    int exact = asked_for(g, name);
    if (!pick_name || exact) {
      pick = i;
      pick_name = name;
    }
    if (exact) break;
  }
  if (!pick_name) return 0;
  int n = snprintf(out->argv0, sizeof out->argv0, "%s", pick_name);
  out->entry = (int)pick;
  return n >= 0 && (size_t)n < sizeof out->argv0; /* else fail closed */
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
                     gxd_program *out) {
  program g = {.path = path, .asked = last_part(path), .canon_ok = -1};
  int rc = 0;
  memset(out, 0, sizeof *out);
  out->fd = out->entry = -1;
  if ((g.fd = open(path, O_PATH | O_CLOEXEC)) < 0) return -errno;
  if (allowc && !allowed(&g, allow, allowc, out)) {
    rc = GXD_PROGRAM_DENIED;
    goto out_close;
  }
  /* the kernel runs a script's interpreter with /dev/fd/N: N must stay
   * open across the exec (as fexecve(3) documents) */
  if (is_script(g.fd) && fcntl(g.fd, F_SETFD, 0) != 0) {
    rc = -errno;
    goto out_close;
  }
  out->fd = g.fd;
  return 0;
out_close:
  close(g.fd);
  out->entry = -1;
  out->argv0[0] = '\0';
  return rc;
}

char *const *gxd_program_argv(gxd_program *p, char *const *argv) {
  size_t argc = 0;
  if (!p->argv0[0]) return argv;
  while (argv[argc]) argc++;
  if (argc == 0) argc = 1; /* room for argv0 all the same */
  char **v = malloc((argc + 1) * sizeof *v);
  if (!v) return NULL;
  v[0] = p->argv0;
  for (size_t i = 1; i < argc; i++) v[i] = argv[i];
  v[argc] = NULL;
  return v;
}
