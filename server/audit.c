/* The audit log; see audit.h. */
#include "server/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"

/* One fdatasync on the thread pool; fds are captured when it starts, so
 * the loop may reopen the log meanwhile. */
typedef struct {
  uv_work_t req;
  gxd_audit *log;
  int fd;        /* the file records go to */
  int retire_fd; /* a file replaced by a reopen: synced, then closed */
  int err;       /* 0 or -errno of the first failure */
  uint64_t target; /* every record up to this seq is covered */
} sync_work;

struct gxd_audit {
  uv_loop_t *loop;
  char *path;
  int fd;
  int retire_fd;    /* replaced by a reopen, not yet synced and closed */
  int sync;         /* --audit-sync */
  int torn;         /* the last write was partial: start a fresh line */
  int closing;
  uint64_t seq;     /* last record written */
  uint64_t synced;  /* every record up to this one is on disk */
  sync_work *inflight; /* NULL or the sync running */
  gxd_audit_waiter *waiters; /* in seq order (seqs only grow) */
  gxd_audit_waiter **tail;
};

static int open_log(const char *path, char *why, size_t why_len) {
  /* never through a symlink: root appends wherever a link would point */
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
                          O_NOFOLLOW, 0600);
  if (fd < 0)
    snprintf(why, why_len, "cannot open the audit log %s: %s", path,
             strerror(errno));
  return fd;
}

int gxd_audit_open(uv_loop_t *loop, const char *path, int sync,
                   gxd_audit **out, char *why, size_t why_len) {
  gxd_audit *a = calloc(1, sizeof *a);
  char *p = strdup(path);
  int fd = a && p ? open_log(path, why, why_len) : -1;
  if (fd < 0) {
    if (!a || !p) snprintf(why, why_len, "out of memory");
    free(a);
    free(p);
    return -1;
  }
  a->loop = loop;
  a->path = p;
  a->fd = fd;
  a->retire_fd = -1;
  a->sync = sync;
  a->tail = &a->waiters;
  *out = a;
  return 0;
}

/* ------------------------------------------------------------- syncing */

static int start_sync(gxd_audit *a);

/* Fires, in order, the waiters whose records are covered (err 0) or
 * whose sync failed (@p err, for seq <= @p failed_to). */
static void fire_waiters(gxd_audit *a, int err, uint64_t failed_to) {
  while (a->waiters) {
    gxd_audit_waiter *w = a->waiters;
    int e = w->seq <= a->synced ? 0 : w->seq <= failed_to ? err : 1;
    if (e == 1) break;
    a->waiters = w->next;
    if (!a->waiters) a->tail = &a->waiters;
    w->next = NULL;
    w->cb(w, e);
  }
}

static void sync_run(uv_work_t *req) {
  sync_work *s = req->data;
  if (s->retire_fd >= 0) {
    if (fdatasync(s->retire_fd) != 0) s->err = -errno;
    close(s->retire_fd);
  }
  if (s->fd >= 0 && fdatasync(s->fd) != 0 && !s->err) s->err = -errno;
}

/* Once closing and no sync is in flight: everything is released. The
 * log owns no libuv handle (a daemon closing every handle at exit cannot
 * pull one from under it); a sync in flight keeps the loop alive. */
static void finish_close(gxd_audit *a) {
  if (a->retire_fd >= 0) close(a->retire_fd);
  if (a->fd >= 0) close(a->fd);
  free(a->path);
  free(a);
}

static void sync_done(uv_work_t *req, int status) {
  sync_work *s = req->data;
  gxd_audit *a = s->log;
  int err = status == UV_ECANCELED ? -ECANCELED : s->err;
  uint64_t target = s->target;
  a->inflight = NULL;
  free(s);
  if (err == 0 && target > a->synced) a->synced = target;
  if (err)
    gxd_log(GXD_LOG_ERROR, "audit log %s: cannot sync: %s", a->path,
            strerror(-err));
  fire_waiters(a, err, target);
  if (a->closing) return finish_close(a);
  if ((a->waiters || a->retire_fd >= 0) && (err = start_sync(a)) != 0)
    fire_waiters(a, err, a->seq); /* refused: the next record retries */
}

/* Starts one sync covering every record written so far, unless one is
 * running (its completion starts the next). Returns 0 or -errno. */
static int start_sync(gxd_audit *a) {
  if (a->inflight) return 0;
  sync_work *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  s->log = a;
  s->req.data = s;
  s->fd = a->fd;
  s->retire_fd = a->retire_fd;
  s->target = a->seq;
  if (uv_queue_work(a->loop, &s->req, sync_run, sync_done) != 0) {
    free(s);
    return -EIO;
  }
  a->retire_fd = -1;
  a->inflight = s;
  return 0;
}

int gxd_audit_wait(gxd_audit *a, uint64_t seq, gxd_audit_waiter *w,
                   void (*cb)(gxd_audit_waiter *w, int err)) {
  w->seq = seq;
  w->cb = cb;
  w->next = NULL;
  *a->tail = w;
  a->tail = &w->next;
  /* a record just written is never covered yet; one that is gets a
   * sync anyway, which costs little and keeps the callback later */
  int rc = start_sync(a);
  if (rc != 0) gxd_audit_cancel(a, w);
  return rc;
}

void gxd_audit_flush(gxd_audit *a) {
  if (a->sync && a->seq > a->synced) (void)start_sync(a);
}

void gxd_audit_cancel(gxd_audit *a, gxd_audit_waiter *w) {
  gxd_audit_waiter **pp = &a->waiters;
  while (*pp && *pp != w) pp = &(*pp)->next;
  if (!*pp) return;
  *pp = w->next;
  if (a->tail == &w->next) a->tail = pp;
  w->next = NULL;
}

/* ------------------------------------------------------------- writing */

/* Writes all of @p buf; a short write of a regular file means the disk
 * is full (or the file too large). Returns 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? -errno : -ENOSPC;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int gxd_audit_write(gxd_audit *a, json_object *rec, uint64_t *seq) {
  char ts[48];
  size_t len;
  gxd_log_timestamp(ts, sizeof ts);
  json_object *line = json_object_new_object();
  json_object_object_add(line, "ts", json_object_new_string(ts));
  json_object_object_foreach(rec, key, val) {
    json_object_object_add(line, key, json_object_get(val));
  }
  const char *text = json_object_to_json_string_length(
      line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  int rc = !text ? -ENOMEM : len + 2 > GXD_AUDIT_RECORD_MAX ? -E2BIG : 0;
  char *buf = rc == 0 ? malloc(len + 2) : NULL;
  if (rc == 0 && !buf) rc = -ENOMEM;
  if (rc == 0) {
    size_t at = a->torn ? 1 : 0;
    buf[0] = '\n';
    memcpy(buf + at, text, len);
    buf[at + len] = '\n';
    rc = write_all(a->fd, buf, at + len + 1);
    a->torn = rc != 0;
  }
  free(buf);
  json_object_put(line);
  if (rc != 0) return rc;
  *seq = ++a->seq;
  if (!a->sync) a->synced = a->seq;
  return a->sync ? 1 : 0;
}

json_object *gxd_audit_string(const char *value, int *cut) {
  return gxd_audit_string_n(value, GXD_AUDIT_STRING_MAX, cut);
}

json_object *gxd_audit_string_n(const char *value, size_t max, int *cut) {
  if (max > GXD_AUDIT_STRING_MAX) max = GXD_AUDIT_STRING_MAX;
  size_t n = strnlen(value, max + 1);
  if (n > max) {
    n = max;
    while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80)
      n--; /* not inside a UTF-8 sequence */
    *cut = 1;
  }
  return json_object_new_string_len(value, (int)n);
}

void gxd_audit_add_string(json_object *rec, const char *key,
                          const char *value) {
  int cut = 0;
  json_object_object_add(rec, key, gxd_audit_string(value, &cut));
  if (cut)
    json_object_object_add(rec, "truncated", json_object_new_boolean(1));
}

/* -------------------------------------------------------------- reopen */

int gxd_audit_reopen(gxd_audit *a, char *why, size_t why_len) {
  if (a->retire_fd >= 0) {
    snprintf(why, why_len, "the audit log %s is still being synced after "
             "the last reopen; try again", a->path);
    return -1;
  }
  int fd = open_log(a->path, why, why_len);
  if (fd < 0) return -1;
  if (a->sync && (a->inflight || a->seq > a->synced)) {
    a->retire_fd = a->fd; /* its records are synced before it is closed */
    (void)start_sync(a); /* if refused: the next sync or close takes it */
  } else {
    close(a->fd);
  }
  a->fd = fd;
  a->torn = 0;
  return 0;
}

void gxd_audit_close(gxd_audit *a) {
  if (!a) return;
  a->closing = 1;
  while (a->waiters) {
    gxd_audit_waiter *w = a->waiters;
    a->waiters = w->next;
    w->next = NULL;
    w->cb(w, -ECANCELED);
  }
  a->tail = &a->waiters;
  if (!a->inflight) finish_close(a);
}
