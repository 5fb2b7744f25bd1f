#include "server/reaper.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define NBUCKETS 1024

typedef struct entry {
  pid_t pid;
  gxd_reaper_fn fn;
  void *ud;
  struct entry *next;
} entry;

static entry *buckets[NBUCKETS];
static uv_signal_t sigchld;

static entry **slot(pid_t pid) {
  entry **e = &buckets[(unsigned)pid % NBUCKETS];
  while (*e && (*e)->pid != pid) e = &(*e)->next;
  return e;
}

int gxd_reaper_add(pid_t pid, gxd_reaper_fn fn, void *ud) {
  entry **s = slot(pid);
  if (*s) return -1;
  entry *e = malloc(sizeof *e);
  if (!e) return -1;
  *e = (entry){pid, fn, ud, NULL};
  *s = e;
  return 0;
}

void gxd_reaper_remove(pid_t pid) {
  entry **s = slot(pid);
  entry *e = *s;
  if (!e) return;
  *s = e->next;
  free(e);
}

void gxd_reaper_poll(void) {
  for (;;) {
    siginfo_t si;
    si.si_pid = 0;
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        si.si_pid == 0)
      return;
    entry *e = *slot(si.si_pid);
    if (e) {
      gxd_reaper_fn fn = e->fn;
      void *ud = e->ud;
      gxd_reaper_remove(si.si_pid);
      fn(ud, si.si_pid);
    }
    /* Reap whatever the callback left (or an unknown child). */
    int st;
    waitpid(si.si_pid, &st, WNOHANG);
  }
}

static void on_sigchld(uv_signal_t *h, int sig) {
  (void)h;
  (void)sig;
  gxd_reaper_poll();
}

int gxd_reaper_init(uv_loop_t *loop) {
  int rc = uv_signal_init(loop, &sigchld);
  if (rc == 0) rc = uv_signal_start(&sigchld, on_sigchld, SIGCHLD);
  return rc;
}

void gxd_reaper_close(void) { uv_close((uv_handle_t *)&sigchld, NULL); }
