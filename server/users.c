/* A run's user from the host's databases; see users.h. */
#include "server/users.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/gx_err.h"

/* getpwnam_r's buffer: grown on ERANGE up to this. */
#define PW_BUF_MAX (1u << 20)

static int fail(int err, char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int err, char *why, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
  return -err;
}

/* The passwd entry of @p name, with its strings in *@p buf (the
 * caller's, freed by it). 0, -ENOENT, -ENOMEM or -EIO. */
static int find_passwd(const char *name, struct passwd *pw, char **buf,
                       char *why, size_t len) {
  struct passwd *found = NULL;
  size_t cap = 16384;
  int rc;
  *buf = NULL;
  for (;;) {
    char *nb = realloc(*buf, cap);
    if (!nb) return fail(ENOMEM, why, len, "out of memory");
    *buf = nb;
    rc = getpwnam_r(name, pw, *buf, cap, &found);
    if (rc != ERANGE || cap >= PW_BUF_MAX) break;
    cap *= 2;
  }
  /* "not found" is 0 with no result; some sources say so with these */
  if ((rc == 0 && !found) || rc == ENOENT || rc == ESRCH || rc == EBADF ||
      rc == EPERM)
    return fail(ENOENT, why, len, "unknown user '%s'", name);
  if (rc != 0)
    return fail(EIO, why, len, "cannot look up user '%s': %s", name,
                strerror(rc));
  return 0;
}

/* Copies a passwd string (@p what: "home", "shell") or @p dflt when it
 * is empty. */
static int take_path(char *dst, const char *src, const char *dflt,
                     const char *name, const char *what, char *why,
                     size_t len) {
  const char *v = src && src[0] ? src : dflt;
  if (strlen(v) >= GXD_USER_PATH_MAX)
    return fail(ENAMETOOLONG, why, len, "user '%s': its %s is too long",
                name, what);
  memcpy(dst, v, strlen(v) + 1);
  return 0;
}

static int take_groups(const char *name, gid_t gid, gxd_user *u, char *why,
                       size_t len) {
  gid_t g[GXD_USER_GROUPS_MAX];
  int n = GXD_USER_GROUPS_MAX;
  if (getgrouplist(name, gid, g, &n) < 0 || n < 1 ||
      n > GXD_USER_GROUPS_MAX)
    return fail(E2BIG, why, len, "user '%s' is in more than %d groups",
                name, GXD_USER_GROUPS_MAX);
  for (int i = 0; i < n; i++) {
    if (g[i] == (gid_t)-1)
      return fail(ERANGE, why, len, "user '%s': a group id is -1", name);
    u->groups[i] = (uint32_t)g[i];
  }
  u->ngroups = (size_t)n;
  return 0;
}

int gxd_user_lookup(const char *name, gxd_user *out, char *why,
                    size_t len) {
  struct passwd pw;
  char *buf = NULL;
  int rc;
  memset(out, 0, sizeof *out);
  if (gxd_validate_user_name(name, why, len) != GX_STATUS_OK) return -EINVAL;
  if ((rc = find_passwd(name, &pw, &buf, why, len)) != 0) goto out;
  if (pw.pw_uid == (uid_t)-1 || pw.pw_gid == (gid_t)-1) {
    rc = fail(ERANGE, why, len, "user '%s': its uid or gid is -1", name);
    goto out;
  }
  out->uid = (uint32_t)pw.pw_uid;
  out->gid = (uint32_t)pw.pw_gid;
  memcpy(out->name, name, strlen(name) + 1); /* validated: fits */
  if ((rc = take_path(out->home, pw.pw_dir, "/", name, "home", why, len)) ||
      (rc = take_path(out->shell, pw.pw_shell, "/bin/sh", name, "shell",
                      why, len)))
    goto out;
  rc = take_groups(name, pw.pw_gid, out, why, len);
out:
  free(buf);
  if (rc != 0) memset(out, 0, sizeof *out);
  return rc;
}
