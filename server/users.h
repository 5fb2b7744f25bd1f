/**
 * @file users.h
 * The user a run executes as (Start.user), resolved in the daemon from
 * the host's user and group databases (getpwnam_r, getgrouplist), before
 * the plan is made: the plan and the launcher get numbers, never a name
 * to look up, so nothing privileged reads the databases with a client's
 * bytes.
 *
 * The lookup goes through NSS and may block on a networked database
 * (LDAP, SSSD); with files, as here, it takes microseconds.
 */
#ifndef GXD_USERS_H
#define GXD_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "server/validate.h"

/** Most groups (the primary one included) a run's user may be in; a
 *  user in more is refused rather than run with some groups missing. */
#define GXD_USER_GROUPS_MAX 256

/** Longest home directory or login shell accepted from passwd. */
#define GXD_USER_PATH_MAX 4096

/** One resolved user. Plain data: copy it freely. */
typedef struct {
  char name[GXD_USER_NAME_MAX + 1];
  uint32_t uid;
  uint32_t gid;                           /**< the primary group */
  uint32_t groups[GXD_USER_GROUPS_MAX];   /**< every group, the primary
                                               one included (as
                                               getgrouplist(3) lists them) */
  size_t ngroups;                         /**< 1..GXD_USER_GROUPS_MAX */
  char home[GXD_USER_PATH_MAX];           /**< passwd's, or "/" if empty */
  char shell[GXD_USER_PATH_MAX];          /**< passwd's, or "/bin/sh" if
                                               empty */
} gxd_user;

/**
 * Resolves @p name into @p out (the caller's). Returns 0, or a negative
 * errno with a reason a person can act on in @p why:
 *  - -EINVAL: not a valid name (gxd_validate_user_name's reason);
 *  - -ENOENT: "unknown user 'NAME'";
 *  - -E2BIG: in more than GXD_USER_GROUPS_MAX groups;
 *  - -ENAMETOOLONG: a home or shell longer than GXD_USER_PATH_MAX - 1;
 *  - -ERANGE: a uid or gid of -1 (which the kernel reads as "unchanged");
 *  - -ENOMEM, or -EIO (the database failed; its errno in the reason).
 * Thread-safe (the _r interfaces), no globals.
 */
int gxd_user_lookup(const char *name, gxd_user *out, char *why,
                    size_t why_len);

#endif
