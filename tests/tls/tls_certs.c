#include "tests/tls/tls_certs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what, const char *arg) {
  fprintf(stderr, "tls_certs: %s %s: %s\n", what, arg, strerror(errno));
  abort();
}

/* mkcerts.sh in the runfiles, else relative to the workspace root. */
static const char *script_path(void) {
  static char path[4096];
  const char *srcdir = getenv("TEST_SRCDIR");
  if (srcdir) {
    snprintf(path, sizeof path, "%s/gexec/tests/tls/mkcerts.sh", srcdir);
    if (access(path, R_OK) == 0) return path;
  }
  if (!getcwd(path, sizeof path - 32)) die("getcwd", "");
  strncat(path, "/tests/tls/mkcerts.sh", sizeof path - strlen(path) - 1);
  return path;
}

const char *gxt_tls_make(const char *extra_ip) {
  static char dir[4096];
  static int n;
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof dir, "%s/tls-%d-%d", tmp && *tmp ? tmp : "/tmp",
           (int)getpid(), n++);
  const char *script = script_path();
  pid_t pid = fork();
  if (pid < 0) die("fork", "");
  if (pid == 0) {
    execl("/bin/sh", "sh", script, dir, extra_ip, (char *)NULL);
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
    fprintf(stderr, "tls_certs: %s %s failed (status %d)\n", script, dir, st);
    abort();
  }
  return dir;
}

const char *gxt_tls_path(const char *dir, const char *name, char *out,
                         size_t len) {
  snprintf(out, len, "%s/%s", dir, name);
  return out;
}

char *gxt_tls_read(const char *dir, const char *name) {
  char path[4096];
  struct stat sb;
  gxt_tls_path(dir, name, path, sizeof path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &sb) != 0) die("open", path);
  char *buf = malloc((size_t)sb.st_size + 1);
  if (!buf) die("malloc", path);
  ssize_t got = read(fd, buf, (size_t)sb.st_size);
  if (got != sb.st_size) die("read", path);
  buf[got] = '\0';
  close(fd);
  return buf;
}

void gxt_tls_write(const char *dir, const char *name, const char *text) {
  char path[4096];
  gxt_tls_path(dir, name, path, sizeof path);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) die("write", path);
}
