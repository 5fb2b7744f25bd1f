/**
 * @file resolve.h
 * Finding the program of a run the way execvp(3) would. Used by
 * gexec-launch inside the run's sandbox, as the run's user, just before
 * the exec: the daemon itself never looks a client's path up.
 */
#ifndef GXD_RESOLVE_H
#define GXD_RESOLVE_H

#include <limits.h>
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

/** What gxd_program_open opened, and the name it must run under. */
typedef struct {
  int fd;    /**< O_PATH descriptor of the program (the caller's) */
  int entry; /**< index in the allow list of the entry that admitted it,
                  or -1: no constraint (allowc 0) */
  /** The argv[0] it must run under: "" = the client's own (no
   *  constraint, or a "*" entry); else the name the policy approved: a
   *  file entry as written, or the canonical path a glob matched. */
  char argv0[PATH_MAX];
} gxd_program;

/**
 * Opens the program at @p path (what gxd_resolve found) for execution by
 * descriptor (execveat with AT_EMPTY_PATH), so the file checked is the
 * file run: no second lookup. With @p allowc > 0 it must be admitted by
 * one entry of @p allow (the run plan's program constraint, from the
 * policy's allow.commands and allow.argv):
 *  - "*": any program, under the client's own argv[0];
 *  - an entry with a glob character (any of `*?[\`): fnmatch(3) with no
 *    flags ('*' crosses '/') over the program's canonical absolute path,
 *    all symlinks resolved: the kernel's name for the open file
 *    (readlink of /proc/self/fd/N), or, only where /proc is not mounted
 *    at all, realpath(@p path). That path must lead to the opened file
 *    (same device and inode) when checked, or no glob matches: a file
 *    deleted or replaced since the open, or out of the caller's reach,
 *    is refused (fail closed). On a merged-/usr host "/bin/df" is
 *    "/usr/bin/df" to a glob. It runs under that canonical path;
 *  - any other entry: a file, compared by device and inode after
 *    following symlinks, as the caller ("/bin/df" and "/usr/bin/df" are
 *    both the same file). It runs under the entry as written.
 *
 * Why argv[0] is the policy's and not the client's: the constraint
 * approves a program, and a multi-call binary (systemctl, busybox) is a
 * different program under each name. One inode is reboot, runlevel and
 * systemctl; were the client's argv[0] kept, an entry naming any of
 * them (or a glob matching its canonical path) would let the client
 * pick any other by name. So the program always runs as if the
 * approved name had been typed.
 *
 * Which entry: several may admit one file. The first (in list order)
 * whose name has the last component of @p path (the name the client
 * asked for) wins, "*" counting as the client's own name; else the
 * first that admits the file. Any admitting entry is approved by the
 * policy, so the choice only spares the client a surprise (with
 * runlevel and systemctl both allowed, "systemctl" runs as systemctl).
 * The grant's list holds only argv patterns whose arguments matched,
 * so the arguments are approved for whichever entry is chosen.
 *
 * The descriptor is O_PATH and close-on-exec, except for a script (a
 * readable file starting with "#!"), whose interpreter opens /dev/fd/N:
 * it stays open across the exec, as with fexecve(3) (the kernel then
 * drops argv[0] for the script's path: the replacement changes
 * nothing for scripts). Returns 0 with *@p out filled,
 * GXD_PROGRAM_DENIED, or -errno of the open.
 */
int gxd_program_open(const char *path, char *const *allow, size_t allowc,
                     gxd_program *out);

/**
 * The argv to execute @p p with: @p argv itself when p->argv0 is ""
 * (no constraint); else a malloc'd copy of the NULL-terminated array
 * @p argv whose element 0 is p->argv0 and the others @p argv's
 * (argv[1..] as the client sent them). The strings stay @p argv's and
 * @p p's, which must outlive the result; free the array (only) when it
 * is not @p argv. NULL: out of memory.
 */
char *const *gxd_program_argv(gxd_program *p, char *const *argv);

#endif
