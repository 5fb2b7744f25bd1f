/* Process start through posix_spawn: glibc implements it with
 * clone(CLONE_VM|CLONE_VFORK), so it is fast, safe in a threaded process,
 * and reports exec failures synchronously. */
#include "server/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

/* Descriptor slots of the new process, in order: 0, 1, 2, 3, 4. */
#define NSLOTS 5

/* The file actions for the slots: dup2 a source, /dev/null for a missing
 * stdio source, nothing for a missing 3 or 4; then close everything
 * above the last slot used. */
static int add_slots(posix_spawn_file_actions_t *fa, const int src[NSLOTS]) {
  int rc = 0, last = 2;
  for (int i = 0; i < NSLOTS && rc == 0; i++) {
    if (src[i] >= 0)
      rc = posix_spawn_file_actions_adddup2(fa, src[i], i);
    else if (i <= 2)
      rc = posix_spawn_file_actions_addopen(fa, i, "/dev/null",
                                            i == 0 ? O_RDONLY : O_WRONLY, 0);
    if (src[i] >= 0 && i > last) last = i;
  }
  for (int i = 3; i < last && rc == 0; i++) /* a gap below a used slot */
    if (src[i] < 0) rc = posix_spawn_file_actions_addclose(fa, i);
  return rc ? rc : posix_spawn_file_actions_addclosefrom_np(fa, last + 1);
}

/* A source descriptor that is itself one of the slots would be clobbered
 * by an earlier dup2 (or keep O_CLOEXEC when dup'd onto itself): move it
 * above the slots first (the copy is close-on-exec, the dup2'd slot not). Returns the copy to close afterwards, or -1. */
static int lift(int *fd) {
  if (*fd < 0 || *fd >= NSLOTS) return -1;
  int copy = fcntl(*fd, F_DUPFD_CLOEXEC, NSLOTS);
  if (copy >= 0) *fd = copy;
  return copy;
}

int gxd_spawn_attr_init(posix_spawnattr_t *at, short flags) {
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  int rc = posix_spawnattr_init(at);
  if (rc != 0) return rc;
  posix_spawnattr_setsigmask(at, &none);
  posix_spawnattr_setsigdefault(at, &all);
  posix_spawnattr_setflags(at, (short)(flags | POSIX_SPAWN_SETSIGMASK |
                                       POSIX_SPAWN_SETSIGDEF));
  return 0;
}

int gxd_spawn(const gxd_spawn_spec *spec, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  int src[NSLOTS] = {spec->stdin_fd, spec->stdout_fd, spec->stderr_fd,
                     spec->report_fd > 0 ? spec->report_fd : -1,
                     spec->request_fd > 0 ? spec->request_fd : -1};
  int lifted[NSLOTS], rc;
  for (int i = 0; i < NSLOTS; i++) lifted[i] = lift(&src[i]);
  if ((rc = posix_spawn_file_actions_init(&fa)) != 0) goto out_lifted;
  if ((rc = gxd_spawn_attr_init(&at, POSIX_SPAWN_SETSID)) != 0) goto out_fa;
  if ((rc = add_slots(&fa, src)) != 0 ||
      (rc = posix_spawn_file_actions_addchdir_np(&fa, spec->cwd)) != 0)
    goto out_attr;
  rc = posix_spawn(pid, spec->path, &fa, &at, spec->argv, spec->envp);
out_attr:
  posix_spawnattr_destroy(&at);
out_fa:
  posix_spawn_file_actions_destroy(&fa);
out_lifted:
  for (int i = 0; i < NSLOTS; i++)
    if (lifted[i] >= 0) close(lifted[i]);
  return -rc;
}
