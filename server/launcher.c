/* Starting runs' launchers; see launcher.h. */
#include "server/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/reaper.h"
#include "server/spawn.h"

struct gxd_launcher {
  uv_loop_t *loop;
  char *path;
};

/* One launcher process until its exit was reported. */
typedef struct {
  gxd_launcher_exit_fn on_exit;
  void *ud;
} watch;

int gxd_launcher_new(uv_loop_t *loop, const char *path, gxd_launcher **out,
                     char *why, size_t len) {
  gxd_launcher *l = calloc(1, sizeof *l);
  if (!l || !(l->path = strdup(path))) {
    free(l);
    snprintf(why, len, "out of memory");
    return -ENOMEM;
  }
  l->loop = loop;
  *out = l;
  return 0;
}

const char *gxd_launcher_path(const gxd_launcher *l) { return l->path; }

uv_loop_t *gxd_launcher_loop(const gxd_launcher *l) { return l->loop; }

void gxd_launcher_free(gxd_launcher *l) {
  if (!l) return;
  free(l->path);
  free(l);
}

/* The request (argv, env, cwd, allow list) in a sealed memfd: written
 * without blocking, read by the launcher from offset 0. Returns the fd
 * or -errno. */
static int request_fd(const gxl_request *req) {
  uint8_t *buf;
  size_t len;
  int rc = gxl_request_encode(req, &buf, &len);
  if (rc != 0) return rc;
  int fd = memfd_create("gexec-request", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    rc = -errno;
    goto out;
  }
  if (write(fd, buf, len) != (ssize_t)len ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                                 F_SEAL_SEAL) != 0) {
    rc = errno ? -errno : -EIO;
    close(fd);
    goto out;
  }
  rc = fd;
out:
  free(buf);
  return rc;
}

/* Numbers of a launcher argv. */
typedef struct {
  char mechs[16], limit[4][32], parent[16];
} argv_nums;

/* argv for gexec-launch: only values of the daemon's making (the run's
 * mechanisms, limits, cgroup, fds); the client's argv, env and cwd go in
 * the request. @p a has room for 24 entries. */
static void launcher_argv(const gxd_launcher *l, const gxl_run *run,
                          argv_nums *num, char **a) {
  static const char *const flags[4] = {"--memory", "--pids", "--cpu-time",
                                       "--open-files"};
  const uint64_t vals[4] = {run->limits.memory_bytes, run->limits.pids,
                            run->limits.cpu_time_ms, run->limits.open_files};
  size_t k = 0;
  a[k++] = l->path;
  a[k++] = "--mechs";
  snprintf(num->mechs, sizeof num->mechs, "%u", (unsigned)run->mechs);
  a[k++] = num->mechs;
  for (int i = 0; i < 4; i++) {
    if (!vals[i]) continue;
    snprintf(num->limit[i], sizeof num->limit[i], i == 2 ? "%llums" : "%llu",
             (unsigned long long)vals[i]);
    a[k++] = (char *)flags[i];
    a[k++] = num->limit[i];
  }
  if (run->cgroup[0]) {
    a[k++] = "--cgroup";
    a[k++] = (char *)run->cgroup;
  }
  snprintf(num->parent, sizeof num->parent, "%d", (int)getpid());
  a[k++] = "--parent-pid";
  a[k++] = num->parent;
  a[k++] = "--report-fd";
  a[k++] = "3";
  a[k++] = "--request-fd";
  a[k++] = "4";
  a[k] = NULL;
}

/* Reaper callback: the launcher is a zombie. Kill what it left in its
 * group while the group id is still pinned, then reap and report. */
static void on_zombie(void *ud, pid_t pid) {
  watch *w = ud;
  struct rusage ru;
  int st = 0;
  killpg(pid, SIGKILL);
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
  }
  gxd_launcher_exit_fn fn = w->on_exit;
  void *owner = w->ud;
  free(w);
  fn(owner, st, &ru);
}

int gxd_launcher_spawn(gxd_launcher *l, const gxl_run *run,
                       const gxl_request *req, const gxd_launch_fds *fds,
                       gxd_launcher_exit_fn on_exit, void *ud, pid_t *pid) {
  static char *const empty_env[] = {NULL}; /* nothing of the client's */
  char *argv[24];
  argv_nums num;
  watch *w = malloc(sizeof *w);
  int rc, mfd = -1;
  if (!w) return -ENOMEM;
  *w = (watch){on_exit, ud};
  if ((rc = mfd = request_fd(req)) < 0) goto out;
  launcher_argv(l, run, &num, argv);
  gxd_spawn_spec spec = {.path = l->path, .argv = argv, .envp = empty_env,
                         .cwd = "/", .stdin_fd = fds->stdin_fd,
                         .stdout_fd = fds->stdout_fd,
                         .stderr_fd = fds->stderr_fd,
                         .report_fd = fds->report_fd, .request_fd = mfd};
  if ((rc = gxd_spawn(&spec, pid)) != 0) goto out;
  if (gxd_reaper_add(*pid, on_zombie, w) != 0) {
    /* unsupervised, it must not run: kill and reap it now */
    killpg(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    rc = -ENOMEM;
    goto out;
  }
  w = NULL;
out:
  if (mfd >= 0) close(mfd);
  free(w);
  return rc < 0 ? rc : 0;
}

void gxd_launcher_kill(gxd_launcher *l, pid_t pid) {
  (void)l;
  /* registered until reaped: the group id is still pinned */
  if (pid > 0) killpg(pid, SIGKILL);
}
