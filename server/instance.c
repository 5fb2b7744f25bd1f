/* A daemon instance: name, lock, run cgroups; see instance.h. */
#include "server/instance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/log.h"

struct gxd_reclaim {
  gxd_instance *in;
  gxd_reclaim *prev, *next;
  uv_timer_t timer;
  gxi_cgroup cg;
  uint64_t run_id;
  uint64_t deadline;
};

/* ---------------------------------------------------------------- name */

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

int gxd_instance_name_from(const char *addr, unsigned long netns, long pid,
                           char *out, size_t len) {
  char base[256], suffix[48] = "";
  size_t n = 0;
  if (len < GXD_INSTANCE_NAME_MAX + 1) return -1;
  if (strncmp(addr, "unix://", 7) == 0) addr += 7;
  else if (strncmp(addr, "unix:", 5) == 0) addr += 5;
  for (; *addr && n < sizeof base - 1; addr++) {
    char c = name_char(*addr) ? *addr : '_';
    if (n == 0 && (c == '_' || c == '.')) continue; /* no leading ./_ */
    base[n++] = c;
  }
  base[n] = '\0';
  if (n == 0) snprintf(base, sizeof base, "gexecd");
  if (netns) snprintf(suffix, sizeof suffix, "-net%lu", netns);
  if (pid > 0)
    snprintf(suffix + strlen(suffix), sizeof suffix - strlen(suffix),
             "-pid%ld", pid);
  size_t room = GXD_INSTANCE_NAME_MAX - strlen(suffix);
  if (strlen(base) <= room) {
    snprintf(out, len, "%s%s", base, suffix);
  } else { /* keep the head readable, the hash keeps it unique */
    snprintf(out, len, "%.*s-%016llx%s", (int)(room - 17), base,
             (unsigned long long)fnv1a(base), suffix);
  }
  return 0;
}

int gxd_instance_name_ok(const char *name, char *why, size_t len) {
  size_t n = strlen(name);
  int ok = n > 0 && n <= GXD_INSTANCE_NAME_MAX && name[0] != '.';
  for (size_t i = 0; ok && i < n; i++) ok = name_char(name[i]);
  if (!ok)
    snprintf(why, len,
             "instance name '%.80s' must be 1..%d characters of "
             "[A-Za-z0-9._-], not starting with '.'",
             name, GXD_INSTANCE_NAME_MAX);
  return ok;
}

/* ---------------------------------------------------------------- lock */

/* The directory of instance locks: /run/gexec for root, else the
 * user's runtime directory. */
static void lock_dir(char *out, size_t len) {
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (geteuid() != 0 && xdg && xdg[0] == '/')
    snprintf(out, len, "%s/gexec", xdg);
  else if (geteuid() != 0)
    snprintf(out, len, "/tmp/gexec-%u", (unsigned)geteuid());
  else
    snprintf(out, len, "/run/gexec");
}

/* Takes the exclusive lock of the instance; the kernel drops it when we
 * die, so a stale lock file never blocks a restart. */
/* The refusal when another live daemon holds the lock on @p fd. */
static int in_use(gxd_instance *in, int fd, char *why, size_t len) {
  char pid[32];
  ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
  pid[n > 0 ? n : 0] = '\0';
  pid[strcspn(pid, "\n")] = '\0';
  close(fd);
  snprintf(why, len,
           "instance '%s' is in use by another gexecd (pid %s); give this "
           "one another --instance name",
           in->name, pid[0] ? pid : "unknown");
  return -1;
}

/* 1 if @p fd is still the file at @p path (not unlinked by a daemon that
 * released it while we waited). */
static int still_linked(int fd, const char *path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

/* Takes the exclusive lock of the instance; the kernel drops it when we
 * die, so a stale lock file never blocks a restart. A clean exit removes
 * the file; a taker that finds its file unlinked under it starts over. */
static int take_lock(gxd_instance *in, char *why, size_t len) {
  char dir[220], pid[32];
  struct stat st;
  lock_dir(dir, sizeof dir);
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return snprintf(why, len, "cannot create %s: %s", dir, strerror(errno)),
           -1;
  /* ours alone: a directory someone else made (a shared /tmp) could hold
   * a planted lock file or link */
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
      st.st_uid != geteuid() || (st.st_mode & 022))
    return snprintf(why, len, "%s is not a directory of ours that only we "
                    "may write", dir), -1;
  snprintf(in->lock_path, sizeof in->lock_path, "%s/instance-%s.lock", dir,
           in->name);
  for (int tries = 0; tries < 100; tries++) {
    int fd = open(in->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                  0600);
    if (fd < 0)
      return snprintf(why, len, "cannot open %s: %s", in->lock_path,
                      strerror(errno)), -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) return in_use(in, fd, why, len);
    if (!still_linked(fd, in->lock_path)) {
      close(fd);
      continue;
    }
    in->lock_fd = fd;
    int k = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)k, 0) != k)
      gxd_log(GXD_LOG_WARN, "cannot record our pid in %s", in->lock_path);
    return 0;
  }
  return snprintf(why, len, "%s keeps changing under us", in->lock_path), -1;
}

/* -------------------------------------------------------------- open */

int gxd_instance_open(gxd_instance *in, uv_loop_t *loop, const char *name,
                      char *why, size_t len) {
  char reason[256] = "";
  int found = 0;
  memset(in, 0, sizeof *in);
  in->lock_fd = -1;
  in->loop = loop;
  in->next_run = 1;
  if (!gxd_instance_name_ok(name, why, len)) return -1;
  snprintf(in->name, sizeof in->name, "%s", name);
  if (take_lock(in, why, len) != 0) return -1;
  if (gxi_cgroup_probe(&in->caps) != 0) memset(&in->caps, 0, sizeof in->caps);
  in->cgroups = in->caps.has_kill || in->caps.has_pids;
  if (gxi_cgroup_sweep(&in->caps, in->name, &found, reason, sizeof reason) !=
      0)
    gxd_log(GXD_LOG_WARN, "instance %s: could not remove every stale run "
            "cgroup: %s", in->name, reason);
  in->stale_found = (size_t)found;
  if (found)
    gxd_log(GXD_LOG_WARN, "instance %s: killed and removed %d run cgroup(s) "
            "left by an earlier gexecd", in->name, found);
  gxd_log(GXD_LOG_INFO, "instance %s (%s; %s)", in->name, in->lock_path,
          in->cgroups ? "every run in its own cgroup"
                      : "no cgroup to track runs");
  return 0;
}

uint64_t gxd_instance_new_run(gxd_instance *in, char *cg, size_t len) {
  uint64_t id = in->next_run++;
  if (in->cgroups)
    snprintf(cg, len, "%s/run-%llu", in->name, (unsigned long long)id);
  else if (len)
    cg[0] = '\0';
  return id;
}

/* ----------------------------------------------------------- reclaim */

static void free_reclaim(uv_handle_t *h) { free(h->data); }

static void reclaim_done(gxd_reclaim *r) {
  gxd_instance *in = r->in;
  if (r->prev) r->prev->next = r->next; else in->reclaims = r->next;
  if (r->next) r->next->prev = r->prev;
  uv_close((uv_handle_t *)&r->timer, free_reclaim);
}

/* One attempt: kill what is left, remove the leaves. 1 when gone. */
static int reclaim_step(gxd_reclaim *r) {
  int listed = gxi_cgroup_kill_once(&r->cg);
  return listed >= 0 && gxi_cgroup_remove(&r->cg) == 0;
}

static void on_reclaim_timer(uv_timer_t *t) {
  gxd_reclaim *r = t->data;
  if (reclaim_step(r)) return reclaim_done(r);
  if (uv_now(r->in->loop) < r->deadline) return;
  char msg[512];
  snprintf(msg, sizeof msg, "the run's cgroup could not be removed within "
           "%d ms (%s); the next start-up of instance %s removes it",
           GXD_RECLAIM_MS, gxi_cgroup_error(&r->cg), r->in->name);
  json_object *f = json_object_new_object();
  json_object_object_add(f, "event", json_object_new_string("reclaim"));
  json_object_object_add(f, "run", json_object_new_int64((int64_t)r->run_id));
  json_object_object_add(f, "msg", json_object_new_string(msg));
  gxd_log_event(GXD_LOG_WARN, f);
  reclaim_done(r);
}

void gxd_instance_reclaim(gxd_instance *in, uint64_t run_id,
                          const char *cg_name) {
  gxi_cgroup cg;
  if (!cg_name[0] || gxi_cgroup_open(&in->caps, cg_name, &cg) != 0)
    return; /* the launcher removed it: the common case */
  gxd_reclaim *r = calloc(1, sizeof *r);
  if (!r) {
    gxi_cgroup_kill_once(&cg); /* at least nothing runs on */
    return;
  }
  r->in = in;
  r->cg = cg;
  r->run_id = run_id;
  if (reclaim_step(r)) {
    free(r);
    return;
  }
  r->deadline = uv_now(in->loop) + GXD_RECLAIM_MS;
  uv_timer_init(in->loop, &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, on_reclaim_timer, 10, 10);
  r->next = in->reclaims;
  if (in->reclaims) in->reclaims->prev = r;
  in->reclaims = r;
}

size_t gxd_instance_reclaiming(const gxd_instance *in) {
  size_t n = 0;
  for (const gxd_reclaim *r = in->reclaims; r; r = r->next) n++;
  return n;
}

void gxd_instance_close(gxd_instance *in) {
  char reason[256] = "";
  int found = 0;
  while (in->reclaims) reclaim_done(in->reclaims);
  if (in->lock_fd >= 0 &&
      gxi_cgroup_sweep(&in->caps, in->name, &found, reason, sizeof reason))
    gxd_log(GXD_LOG_WARN, "instance %s: %s", in->name, reason);
  else if (in->lock_fd >= 0)
    gxi_cgroup_remove_dir(&in->caps, in->name);
  if (in->lock_fd >= 0) {
    unlink(in->lock_path); /* while still holding it: see take_lock */
    close(in->lock_fd);
  }
  in->lock_fd = -1;
}
