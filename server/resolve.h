/**
 * @file resolve.h
 * Finding the program of a run the way execvp(3) would. Used by
 * gexec-launch inside the run's sandbox, as the run's user, just before
 * the exec: the daemon itself never looks a client's path up.
 */
#ifndef GXD_RESOLVE_H
#define GXD_RESOLVE_H

#include <stddef.h>

/** PATH used when the environment has none (as glibc's execvp). */
#define GXD_RESOLVE_DEFAULT_PATH "/bin:/usr/bin"

/**
 * Finds the program @p name in @p path_env (a PATH value) unless @p name
 * contains '/'. Relative names and PATH elements (including empty ones,
 * meaning ".") are taken relative to @p cwd (NULL: the caller's own cwd),
 * so what is checked is what will be executed. Writes the file to
 * @p out. Returns 0, -ENOENT (nothing found), -EACCES (found, but not an
 * executable regular file) or -ENAMETOOLONG.
 */
int gxd_resolve(const char *name, const char *path_env, const char *cwd,
                char *out, size_t out_len);

/** gxd_program_open(): the program is not in the allow list. */
#define GXD_PROGRAM_DENIED 1

/**
 * Opens the program at @p path (what gxd_resolve found) for execution by
 * descriptor (execveat with AT_EMPTY_PATH), so the file checked is the
 * file run: no second lookup. With @p allowc > 0 it must be allowed by
 * one entry of @p allow (the run plan's program constraint, from the
 * policy's allow.commands and allow.argv):
 *  - "*": any program;
 *  - an entry with a glob character (any of `*?[\`): fnmatch(3) with no
 *    flags ('*' crosses '/') over the program's canonical absolute path,
 *    all symlinks resolved: the kernel's name for the open file
 *    (readlink of /proc/self/fd/N), or, only where /proc is not mounted
 *    at all, realpath(@p path). That path must lead to the opened file
 *    (same device and inode) when checked, or no glob matches: a file
 *    deleted or replaced since the open, or out of the caller's reach,
 *    is refused (fail closed). On a merged-/usr host "/bin/df" is
 *    "/usr/bin/df" to a glob;
 *  - any other entry: a file, compared by device and inode after
 *    following symlinks, as the caller ("/bin/df" and "/usr/bin/df" are
 *    both the same file).
 * The descriptor is O_PATH and close-on-exec, except for a script (a
 * readable file starting with "#!"), whose interpreter opens /dev/fd/N:
 * it stays open across the exec, as with fexecve(3). Returns 0 with
 * *@p fd_out set, GXD_PROGRAM_DENIED, or -errno of the open.
 */
int gxd_program_open(const char *path, char *const *allow, size_t allowc,
                     int *fd_out);

#endif
