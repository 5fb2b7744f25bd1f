/* statvfs(3) that cannot wedge the facts worker: see facts_read.h.
 *
 * A filesystem whose server does not answer (NFS, CIFS, a FUSE daemon
 * that never replies: any local user may mount one with fusermount)
 * blocks statvfs in the kernel, uninterruptibly for some. Called on the
 * thread pool's thread, it would hold that thread and the call's facts
 * slot for ever, and the daemon's exit joins the pool's threads. So for
 * such types statvfs runs on a thread of its own, waited for a bounded
 * time; one that does not return in time is left behind, detached (it
 * frees its state itself when the kernel lets it go), and the mount is
 * reported without sizes. At most GXD_FACTS_STUCK_MAX such threads exist
 * at once; past that, those mounts get no sizes without trying. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/facts_read.h"

/* Types whose statvfs may wait on something outside this host. */
static const char *const remote_types[] = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "9p", "glusterfs",
    "lustre", "gfs2", "ocfs2", "afs", "davfs", "sshfs", "virtiofs", NULL};

int gxd_facts_fs_may_hang(const char *type) {
  if (!strncmp(type, "fuse", 4)) return 1; /* fuse, fuseblk, fuse.sshfs */
  for (const char *const *p = remote_types; *p; p++)
    if (!strcmp(*p, type)) return 1;
  return 0;
}

/* One probe; shared by the caller and its thread until one lets go. */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  gxd_facts_statvfs_fn fn;
  struct statvfs v;
  int rc, err, done, abandoned;
  char path[];
} probe;

static pthread_mutex_t stuck_mu = PTHREAD_MUTEX_INITIALIZER;
static int stuck; /* probe threads started and not finished */

static void probe_free(probe *p) {
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

static void *probe_main(void *arg) {
  probe *p = arg;
  struct statvfs v;
  int rc = p->fn(p->path, &v), err = errno;
  pthread_mutex_lock(&p->mu);
  p->v = v;
  p->rc = rc;
  p->err = err;
  p->done = 1;
  int abandoned = p->abandoned;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  if (abandoned) probe_free(p);
  pthread_mutex_lock(&stuck_mu);
  stuck--;
  pthread_mutex_unlock(&stuck_mu);
  return NULL;
}

/* Takes a thread slot; returns 0 if none is left. */
static int take_slot(void) {
  pthread_mutex_lock(&stuck_mu);
  int ok = stuck < GXD_FACTS_STUCK_MAX;
  if (ok) stuck++;
  pthread_mutex_unlock(&stuck_mu);
  return ok;
}

static void give_slot(void) {
  pthread_mutex_lock(&stuck_mu);
  stuck--;
  pthread_mutex_unlock(&stuck_mu);
}

static probe *probe_new(const char *path, gxd_facts_statvfs_fn fn) {
  size_t len = strlen(path);
  probe *p = calloc(1, sizeof *p + len + 1);
  if (!p) return NULL;
  memcpy(p->path, path, len + 1);
  p->fn = fn;
  pthread_mutex_init(&p->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->cv, &ca);
  pthread_condattr_destroy(&ca);
  return p;
}

/* Waits for @p p up to @p ms; abandons it if it is not done. Returns
 * whether it is done (then the caller frees it). */
static int await(probe *p, int ms) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&p->mu);
  while (!p->done &&
         pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) {
  }
  int done = p->done;
  if (!done) p->abandoned = 1;
  pthread_mutex_unlock(&p->mu);
  return done;
}

int gxd_facts_statvfs_bounded(const char *path, struct statvfs *out,
                              int timeout_ms, gxd_facts_statvfs_fn fn) {
  pthread_t th;
  pthread_attr_t attr;
  probe *p;
  if (!take_slot()) return -2;
  if (!(p = probe_new(path, fn))) {
    give_slot();
    return -1;
  }
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 << 10);
  int e = pthread_create(&th, &attr, probe_main, p);
  pthread_attr_destroy(&attr);
  if (e != 0) {
    give_slot();
    probe_free(p);
    return -1;
  }
  if (!await(p, timeout_ms)) return -2; /* the thread frees it */
  int rc = p->rc;
  if (rc == 0) *out = p->v;
  errno = p->err;
  probe_free(p);
  return rc == 0 ? 0 : -1;
}

int gxd_facts_statvfs_stuck(void) {
  pthread_mutex_lock(&stuck_mu);
  int n = stuck;
  pthread_mutex_unlock(&stuck_mu);
  return n;
}
