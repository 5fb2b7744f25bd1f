/* File and path helpers of the cgroup module; see cgroup_fs.h. */
#include "server/isolation/cgroup_fs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* ---- test seam (cgroup_hooks.h) --------------------------------------- */

/* Installed by tests only; NULL in production, where every helper below
 * makes exactly the system calls it made before the seam existed. */
static const gxi__cgroup_hooks *hooks;

void gxi__cgroup_set_hooks(const gxi__cgroup_hooks *h) { hooks = h; }

/* ---- small helpers ---------------------------------------------------- */

/* Formats into @p buf (may be NULL), truncating. */
void gxi__set_msg(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  if (!buf || len == 0) return;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

/* Writes "a/b" (or "a/b/c" when @p c is not NULL) into @p out. */
int gxi__path_join(char out[GXI_CGROUP_PATH_MAX], const char *a,
                   const char *b, const char *c) {
  int n;
  if (c)
    n = snprintf(out, GXI_CGROUP_PATH_MAX, "%s/%s/%s", a, b, c);
  else
    n = snprintf(out, GXI_CGROUP_PATH_MAX, "%s/%s", a, b);
  if (n < 0) return -EINVAL;
  if (n >= GXI_CGROUP_PATH_MAX) return -ENAMETOOLONG;
  return 0;
}

/* Writes @p val to @p dir/@p file with one write(). */
int gxi__file_write(const char *dir, const char *file, const char *val) {
  char path[GXI_CGROUP_PATH_MAX];
  size_t len = strlen(val);
  ssize_t n;
  int fd, rc = gxi__path_join(path, dir, file, NULL);
  if (rc < 0) return rc;
  if (hooks && hooks->write) return hooks->write(hooks->arg, path, val);
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  n = write(fd, val, len);
  rc = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
  close(fd);
  return rc;
}

/* Reads @p dir/@p file into @p buf (NUL-terminated). Returns the length,
 * -EFBIG if it does not fit, or -errno. */
int gxi__file_read(const char *dir, const char *file, char *buf,
                   size_t len) {
  char path[GXI_CGROUP_PATH_MAX];
  size_t got = 0;
  ssize_t n;
  int fd, rc = gxi__path_join(path, dir, file, NULL);
  if (rc < 0) return rc;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  for (;;) {
    n = read(fd, buf + got, len - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
    if (got == len - 1) break;
  }
  rc = n < 0 ? -errno : (int)got;
  if (rc >= 0 && got == len - 1) rc = -EFBIG;
  close(fd);
  buf[got] = '\0';
  return rc;
}

/* 1 if @p dir/@p file exists and is writable by us, else 0. */
int gxi__file_writable(const char *dir, const char *file) {
  char path[GXI_CGROUP_PATH_MAX];
  if (gxi__path_join(path, dir, file, NULL) < 0) return 0;
  return access(path, W_OK) == 0;
}

/* 1 if @p path is the root or a directory of a filesystem of @p magic. */
int gxi__fs_is(const char *path, unsigned long magic) {
  struct statfs sf;
  unsigned long fake;
  if (hooks && hooks->fs_magic && hooks->fs_magic(hooks->arg, path, &fake))
    return fake == magic;
  if (statfs(path, &sf) != 0) return 0;
  return (unsigned long)sf.f_type == magic;
}

/* Finds the line "key N" in @p text. Returns 0 and sets @p out, or
 * -ENOENT. */
int gxi__keyed_u64(const char *text, const char *key, uint64_t *out) {
  size_t klen = strlen(key);
  const char *p = text;
  while (*p) {
    if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
      char *end;
      unsigned long long v;
      errno = 0;
      v = strtoull(p + klen + 1, &end, 10);
      if (errno || end == p + klen + 1) return -EINVAL;
      *out = v;
      return 0;
    }
    p = strchr(p, '\n');
    if (!p) break;
    p++;
  }
  return -ENOENT;
}

/* 1 if the space-separated @p list contains @p word. */
int gxi__has_word(const char *list, const char *word) {
  size_t wlen = strlen(word);
  const char *p = list;
  while ((p = strstr(p, word)) != NULL) {
    int start = p == list || isspace((unsigned char)p[-1]);
    int stop = p[wlen] == '\0' || isspace((unsigned char)p[wlen]);
    if (start && stop) return 1;
    p += wlen;
  }
  return 0;
}

/* mkdir of a cgroup directory; 0 or -errno. */
int gxi__mkdir(const char *path) {
  if (mkdir(path, 0755) != 0) return -errno;
  if (hooks && hooks->mkdir_done) hooks->mkdir_done(hooks->arg, path);
  return 0;
}

/* mkdir that accepts an existing directory. */
int gxi__mkdir_ok(const char *path) {
  int rc = gxi__mkdir(path);
  return rc == -EEXIST ? 0 : rc;
}

/* rmdir of a cgroup directory; 0 or -errno. */
int gxi__rmdir(const char *path) {
  if (hooks && hooks->rmdir_prep) {
    int rc = hooks->rmdir_prep(hooks->arg, path);
    if (rc < 0) return rc;
  }
  return rmdir(path) == 0 ? 0 : -errno;
}

int64_t gxi__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gxi__sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Enables "+memory" and "+pids" (as far as @p ctrl lists them) in
 * @p dir/cgroup.subtree_control; already enabled ones are skipped. */
void gxi__v2_enable(const char *dir, const char *ctrl) {
  static const char *const names[] = {"memory", "pids"};
  char cur[SMALL_FILE_MAX], val[16];
  size_t i;
  if (gxi__file_read(dir, "cgroup.subtree_control", cur, sizeof cur) < 0)
    cur[0] = '\0';
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!gxi__has_word(ctrl, names[i]) || gxi__has_word(cur, names[i])) continue;
    snprintf(val, sizeof val, "+%s", names[i]);
    (void)gxi__file_write(dir, "cgroup.subtree_control", val);
  }
}

/* One path component: [A-Za-z0-9._-]+, not starting with '.'. */
int gxi__component_ok(const char *c, size_t len) {
  if (len == 0 || c[0] == '.') return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)c[i];
    if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-') return 0;
  }
  return 1;
}
