/* Program lookup as execvp(3) does it; see resolve.h. */
#include "server/resolve.h"

#include <errno.h>
#include <limits.h>
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
