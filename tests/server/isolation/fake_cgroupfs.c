/* A fake cgroupfs behind the cgroup module's test seam; see
 * fake_cgroupfs.h for what it emulates and what not. */
#include "tests/server/isolation/fake_cgroupfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/isolation/cgroup_hooks.h"

#define MAGIC_CGROUP2 0x63677270UL
#define MAGIC_CGROUP1 0x27e0ebUL
#define MAGIC_TMPFS 0x01021994UL

/* v1 "unlimited", as the kernel shows it (PAGE_COUNTER_MAX pages). */
#define V1_UNLIMITED "9223372036854771712"

/* A pressure file with no stall. */
#define PSI "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"

/* Which hierarchy a path is in. */
typedef enum { H_NONE, H_V2, H_MEM, H_PIDS } hier;

/* Where a control file exists: in every cgroup, only in the root of its
 * hierarchy, or only in the others (the kernel's CFTYPE_NOT_ON_ROOT). */
enum { ANY, ROOT_ONLY, CHILD_ONLY };

/* One control file; in v2, @c ctrl names the controller whose files it
 * belongs to (NULL: a base file). @c text NULL: computed. */
typedef struct {
  hier h;
  int where;
  const char *ctrl;
  const char *name;
  const char *text;
  unsigned unless; /* FAKE_CG_* flags that remove it */
} cg_file;

static const cg_file files[] = {
    {H_V2, ANY, NULL, "cgroup.controllers", NULL, 0},
    {H_V2, ANY, NULL, "cgroup.subtree_control", "", 0},
    {H_V2, ANY, NULL, "cgroup.procs", "", 0},
    {H_V2, ANY, NULL, "cgroup.threads", "", 0},
    {H_V2, ANY, NULL, "cgroup.max.depth", "max\n", 0},
    {H_V2, ANY, NULL, "cgroup.max.descendants", "max\n", 0},
    {H_V2, ANY, NULL, "cgroup.stat",
     "nr_descendants 0\nnr_dying_descendants 0\n", 0},
    {H_V2, ANY, NULL, "cgroup.pressure", "1\n", 0},
    {H_V2, ANY, NULL, "cpu.stat", "usage_usec 0\nuser_usec 0\n", 0},
    {H_V2, ANY, NULL, "cpu.pressure", PSI, 0},
    {H_V2, ANY, NULL, "io.pressure", PSI, 0},
    {H_V2, ANY, NULL, "memory.pressure", PSI, 0},
    {H_V2, CHILD_ONLY, NULL, "cgroup.type", "domain\n", 0},
    {H_V2, CHILD_ONLY, NULL, "cgroup.events", "populated 0\nfrozen 0\n", 0},
    {H_V2, CHILD_ONLY, NULL, "cgroup.freeze", "0\n", 0},
    {H_V2, CHILD_ONLY, NULL, "cgroup.kill", "", 0},
    {H_V2, CHILD_ONLY, "cpuset", "cpuset.cpus", "\n", 0},
    {H_V2, CHILD_ONLY, "cpuset", "cpuset.mems", "\n", 0},
    {H_V2, CHILD_ONLY, "cpu", "cpu.max", "max 100000\n", 0},
    {H_V2, CHILD_ONLY, "cpu", "cpu.weight", "100\n", 0},
    {H_V2, CHILD_ONLY, "io", "io.max", "", 0},
    {H_V2, CHILD_ONLY, "io", "io.weight", "default 100\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.current", "0\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.min", "0\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.low", "0\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.high", "max\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.max", "max\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.peak", "0\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.oom.group", "0\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.stat", "anon 0\nfile 0\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.events",
     "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.events.local",
     "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n", 0},
    {H_V2, CHILD_ONLY, "memory", "memory.swap.current", "0\n", FAKE_CG_NO_SWAP},
    {H_V2, CHILD_ONLY, "memory", "memory.swap.high", "max\n", FAKE_CG_NO_SWAP},
    {H_V2, CHILD_ONLY, "memory", "memory.swap.max", "max\n", FAKE_CG_NO_SWAP},
    {H_V2, CHILD_ONLY, "memory", "memory.swap.events",
     "high 0\nmax 0\nfail 0\n", FAKE_CG_NO_SWAP},
    {H_V2, CHILD_ONLY, "pids", "pids.current", "0\n", 0},
    {H_V2, CHILD_ONLY, "pids", "pids.max", "max\n", 0},
    {H_V2, CHILD_ONLY, "pids", "pids.peak", "0\n", 0},
    {H_V2, CHILD_ONLY, "pids", "pids.events", "max 0\n", 0},
    {H_MEM, ANY, NULL, "cgroup.procs", "", 0},
    {H_MEM, ANY, NULL, "tasks", "", 0},
    {H_MEM, ANY, NULL, "cgroup.clone_children", "0\n", 0},
    {H_MEM, ANY, NULL, "notify_on_release", "0\n", 0},
    {H_MEM, ROOT_ONLY, NULL, "release_agent", "\n", 0},
    {H_MEM, ROOT_ONLY, NULL, "cgroup.sane_behavior", "0\n", 0},
    {H_MEM, ANY, NULL, "memory.limit_in_bytes", V1_UNLIMITED "\n", 0},
    {H_MEM, ANY, NULL, "memory.soft_limit_in_bytes", V1_UNLIMITED "\n", 0},
    {H_MEM, ANY, NULL, "memory.usage_in_bytes", "0\n", 0},
    {H_MEM, ANY, NULL, "memory.max_usage_in_bytes", "0\n", 0},
    {H_MEM, ANY, NULL, "memory.failcnt", "0\n", 0},
    {H_MEM, ANY, NULL, "memory.swappiness", "60\n", 0},
    {H_MEM, ANY, NULL, "memory.use_hierarchy", "1\n", 0},
    {H_MEM, ANY, NULL, "memory.stat", "cache 0\nrss 0\n", 0},
    {H_MEM, ANY, NULL, "memory.oom_control", NULL, 0},
    {H_MEM, ANY, NULL, "memory.memsw.limit_in_bytes", V1_UNLIMITED "\n",
     FAKE_CG_NO_SWAP},
    {H_MEM, ANY, NULL, "memory.memsw.usage_in_bytes", "0\n", FAKE_CG_NO_SWAP},
    {H_MEM, ANY, NULL, "memory.memsw.max_usage_in_bytes", "0\n",
     FAKE_CG_NO_SWAP},
    {H_MEM, ANY, NULL, "memory.memsw.failcnt", "0\n", FAKE_CG_NO_SWAP},
    {H_PIDS, ANY, NULL, "cgroup.procs", "", 0},
    {H_PIDS, ANY, NULL, "tasks", "", 0},
    {H_PIDS, ANY, NULL, "cgroup.clone_children", "0\n", 0},
    {H_PIDS, ANY, NULL, "notify_on_release", "0\n", 0},
    {H_PIDS, ROOT_ONLY, NULL, "release_agent", "\n", 0},
    {H_PIDS, ROOT_ONLY, NULL, "cgroup.sane_behavior", "0\n", 0},
    {H_PIDS, CHILD_ONLY, NULL, "pids.current", "0\n", 0},
    {H_PIDS, CHILD_ONLY, NULL, "pids.max", "max\n", 0},
    {H_PIDS, CHILD_ONLY, NULL, "pids.peak", "0\n", 0},
    {H_PIDS, CHILD_ONLY, NULL, "pids.events", "max 0\n", 0},
};

/* v2 controllers, in the kernel's order (cgroup.controllers). */
static const char *const ctrls[] = {"cpuset", "cpu", "io", "memory", "pids"};
#define NCTRLS (sizeof ctrls / sizeof ctrls[0])

struct fake_cgroupfs {
  gxi__cgroup_hooks hooks;
  fake_cg_layout layout;
  unsigned flags;
  char root[32];
  char sabotaged[64];
  char path[512];
  char buf[4096];
  char writes[8192];
  size_t writes_len;
};

/* ---- small helpers ----------------------------------------------------- */

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fake_cgroupfs: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

/* Writes @p text as the whole content of @p dir/@p name. */
static void put(const char *dir, const char *name, const char *text) {
  char path[512];
  FILE *fp;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  fp = fopen(path, "w");
  if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
    die("write %s: %s", path, strerror(errno));
}

/* Reads @p dir/@p name into @p buf ("" when absent). */
static void get(const char *dir, const char *name, char *buf, size_t len) {
  char path[512];
  FILE *fp;
  size_t n = 0;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  fp = fopen(path, "r");
  if (fp) {
    n = fread(buf, 1, len - 1, fp);
    fclose(fp);
  }
  buf[n] = '\0';
}

/* Splits @p path into its directory (in @p dir) and its last component. */
static const char *split(const char *path, char dir[512]) {
  const char *slash = strrchr(path, '/');
  snprintf(dir, 512, "%.*s", (int)(slash - path), path);
  return slash + 1;
}

/* @p path relative to the root ("" for the root), or NULL if outside. */
static const char *rel_of(const fake_cgroupfs *f, const char *path) {
  size_t n = strlen(f->root);
  if (strncmp(path, f->root, n) != 0) return NULL;
  if (path[n] == '\0') return path + n;
  return path[n] == '/' ? path + n + 1 : NULL;
}

/* The hierarchy of @p path; sets *top if it is that hierarchy's root. */
static hier hier_of(const fake_cgroupfs *f, const char *path, int *top) {
  const char *rel = rel_of(f, path);
  static const struct {
    const char *dir;
    hier h;
  } mounts[] = {{"memory", H_MEM}, {"pids", H_PIDS}, {"unified", H_V2}};
  *top = 0;
  if (!rel) return H_NONE;
  if (f->layout == FAKE_CG_V2) {
    *top = rel[0] == '\0';
    return H_V2;
  }
  for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++) {
    size_t n = strlen(mounts[i].dir);
    if (strncmp(rel, mounts[i].dir, n) != 0 || (rel[n] && rel[n] != '/'))
      continue;
    if (mounts[i].h == H_V2 && f->layout != FAKE_CG_HYBRID) break;
    *top = rel[n] == '\0';
    return mounts[i].h;
  }
  return H_NONE;
}

/* Bit mask of the controllers named in the space-separated @p list. */
static unsigned ctrl_mask(const char *list) {
  unsigned mask = 0;
  char copy[256], *save = NULL;
  snprintf(copy, sizeof copy, "%s", list);
  for (char *w = strtok_r(copy, " \n", &save); w;
       w = strtok_r(NULL, " \n", &save))
    for (size_t i = 0; i < NCTRLS; i++)
      if (strcmp(w, ctrls[i]) == 0) mask |= 1u << i;
  return mask;
}

/* "cpu memory\n" for a mask, "" for none: how the kernel shows it. */
static void ctrl_text(unsigned mask, char *out, size_t len) {
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < NCTRLS; i++)
    if (mask & (1u << i))
      n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "", ctrls[i]);
  if (n) snprintf(out + n, len - n, "\n");
}

/* ---- control files ----------------------------------------------------- */

/* The computed content of @p name in the new cgroup @p dir. */
static void computed(const fake_cgroupfs *f, const char *dir, int top,
                     const char *name, char *out, size_t len) {
  char parent[512], text[256];
  if (strcmp(name, "cgroup.controllers") == 0 && top) {
    unsigned mask = 0; /* none in the hybrid layout's unified */
    if (f->layout == FAKE_CG_V2) mask = ctrl_mask("cpuset cpu io memory pids");
    if (f->flags & FAKE_CG_NO_MEMORY) mask &= ~ctrl_mask("memory");
    if (f->flags & FAKE_CG_NO_PIDS) mask &= ~ctrl_mask("pids");
    ctrl_text(mask, out, len);
  } else if (strcmp(name, "cgroup.controllers") == 0) {
    split(dir, parent);
    get(parent, "cgroup.subtree_control", out, len);
  } else { /* memory.oom_control: oom_kill_disable is inherited */
    int off = 0;
    if (!top) {
      split(dir, parent);
      get(parent, "memory.oom_control", text, sizeof text);
      off = strncmp(text, "oom_kill_disable 1", 18) == 0;
    }
    snprintf(out, len, "oom_kill_disable %d\nunder_oom 0\n%s", off,
             f->flags & FAKE_CG_NO_OOM_KILL ? "" : "oom_kill 0\n");
  }
}

/* Makes (@p add) or removes the file of entry @p e in the cgroup @p dir
 * (a sabotaged one as a directory). */
static void file_apply(const fake_cgroupfs *f, const char *dir, int top,
                       const cg_file *e, int add) {
  char text[256], path[512];
  if (e->unless & f->flags) return;
  if ((e->where == ROOT_ONLY && !top) || (e->where == CHILD_ONLY && top))
    return;
  snprintf(path, sizeof path, "%s/%s", dir, e->name);
  if (!add) {
    if (remove(path) != 0 && errno != ENOENT) die("remove %s", path);
  } else if (strcmp(e->name, f->sabotaged) == 0) {
    if (mkdir(path, 0755) != 0) die("mkdir %s: %s", path, strerror(errno));
  } else {
    if (!e->text) computed(f, dir, top, e->name, text, sizeof text);
    put(dir, e->name, e->text ? e->text : text);
  }
}

/* Makes (@p add) or removes, in the cgroup @p dir of hierarchy @p h, the
 * files of the controllers in @p mask (v2), or its base files when
 * @p base. */
static void files_apply(const fake_cgroupfs *f, const char *dir, hier h,
                        int top, int base, unsigned mask, int add) {
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    const cg_file *e = &files[i];
    if (e->h != h) continue;
    if (e->ctrl ? !(mask & ctrl_mask(e->ctrl)) : !base) continue;
    file_apply(f, dir, top, e, add);
  }
}

/* Fills the new cgroup @p dir with what the kernel would put there. */
static void populate(const fake_cgroupfs *f, const char *dir) {
  char text[256];
  int top;
  hier h = hier_of(f, dir, &top);
  if (h == H_NONE) return;
  files_apply(f, dir, h, top, 1, 0, 1);
  if (h != H_V2) return;
  get(dir, "cgroup.controllers", text, sizeof text);
  files_apply(f, dir, h, top, 0, ctrl_mask(text), 1);
}

/* ---- writes ------------------------------------------------------------ */

/* 1 if @p val is "max" or a decimal number. */
static int limit_ok(const char *val) {
  if (strcmp(val, "max") == 0) return 1;
  if (!*val) return 0;
  for (const char *p = val; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  return 1;
}

/* Calls @p fn on each child cgroup directory of @p dir. */
static int each_child(const fake_cgroupfs *f, const char *dir,
                      int (*fn)(const fake_cgroupfs *f, const char *child,
                                void *arg),
                      void *arg) {
  char child[512];
  struct dirent *e;
  DIR *d = opendir(dir);
  int rc = 0;
  if (!d) return -errno;
  while (rc == 0 && (e = readdir(d))) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.' ||
        strcmp(e->d_name, f->sabotaged) == 0)
      continue;
    snprintf(child, sizeof child, "%s/%s", dir, e->d_name);
    rc = fn(f, child, arg);
  }
  closedir(d);
  return rc;
}

/* Change of a subtree_control: the old and the new mask. */
typedef struct {
  unsigned old, now;
} ctrl_change;

/* -EBUSY if @p child still enables a controller being disabled. */
static int child_blocks(const fake_cgroupfs *f, const char *child, void *arg) {
  const ctrl_change *c = arg;
  char text[256];
  (void)f;
  get(child, "cgroup.subtree_control", text, sizeof text);
  return ctrl_mask(text) & c->old & ~c->now ? -EBUSY : 0;
}

/* Gives @p child the files of the controllers enabled, takes away those
 * of the ones disabled. */
static int child_update(const fake_cgroupfs *f, const char *child, void *arg) {
  const ctrl_change *c = arg;
  char text[256];
  ctrl_text(c->now, text, sizeof text);
  put(child, "cgroup.controllers", text);
  files_apply(f, child, H_V2, 0, 0, c->now & ~c->old, 1);
  files_apply(f, child, H_V2, 0, 0, c->old & ~c->now, 0);
  return 0;
}

/* "+memory -pids" written to @p dir/cgroup.subtree_control. */
static int write_subtree(const fake_cgroupfs *f, const char *dir,
                         const char *val) {
  char text[256], copy[256], *save = NULL;
  ctrl_change c;
  unsigned have;
  int rc;
  get(dir, "cgroup.controllers", text, sizeof text);
  have = ctrl_mask(text);
  get(dir, "cgroup.subtree_control", text, sizeof text);
  c.old = c.now = ctrl_mask(text);
  snprintf(copy, sizeof copy, "%s", val);
  for (char *w = strtok_r(copy, " \n", &save); w;
       w = strtok_r(NULL, " \n", &save)) {
    unsigned bit = ctrl_mask(w + 1);
    if ((w[0] != '+' && w[0] != '-') || !bit) return -EINVAL;
    if (!(have & bit)) return -ENOENT;
    c.now = w[0] == '+' ? c.now | bit : c.now & ~bit;
  }
  rc = each_child(f, dir, child_blocks, &c);
  if (rc < 0) return rc;
  ctrl_text(c.now, text, sizeof text);
  put(dir, "cgroup.subtree_control", text);
  return each_child(f, dir, child_update, &c);
}

/* A pid written to @p dir/cgroup.procs (or tasks): listed once. */
static int write_procs(const fake_cgroupfs *f, const char *dir,
                       const char *name, const char *val) {
  char text[4096], line[32], *end;
  int top;
  long pid = strtol(val, &end, 10);
  if (*end || pid <= 0) return -EINVAL;
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return -ESRCH;
  get(dir, "cgroup.subtree_control", text, sizeof text);
  if (hier_of(f, dir, &top) == H_V2 && !top && text[0])
    return -EBUSY; /* no internal processes */
  get(dir, name, text + 1, sizeof text - 1);
  text[0] = '\n'; /* so that every pid listed is "\nPID\n" */
  snprintf(line, sizeof line, "\n%ld\n", pid);
  if (strstr(text, line)) return 0;
  strncat(text, line + 1, sizeof text - strlen(text) - 1);
  put(dir, name, text + 1);
  return 0;
}

/* v1 memory.limit_in_bytes / memory.memsw.limit_in_bytes: the first may
 * not exceed the second. */
static int write_v1_limit(const char *dir, const char *name, const char *val) {
  char other[64], text[64];
  int memsw = strstr(name, "memsw") != NULL;
  unsigned long long v, o;
  if (strcmp(val, "-1") == 0) val = V1_UNLIMITED;
  if (!limit_ok(val) || strcmp(val, "max") == 0) return -EINVAL;
  get(dir, memsw ? "memory.limit_in_bytes" : "memory.memsw.limit_in_bytes",
      other, sizeof other);
  v = strtoull(val, NULL, 10);
  o = strtoull(other, NULL, 10);
  if (other[0] && (memsw ? v < o : v > o)) return -EINVAL;
  snprintf(text, sizeof text, "%s\n", val);
  put(dir, name, text);
  return 0;
}

/* What the kernel does with @p val written to @p dir/@p name. */
static int apply_write(const fake_cgroupfs *f, const char *dir,
                       const char *name, const char *val) {
  char text[256];
  if (strcmp(name, "cgroup.subtree_control") == 0)
    return write_subtree(f, dir, val);
  if (strcmp(name, "cgroup.procs") == 0 || strcmp(name, "tasks") == 0)
    return write_procs(f, dir, name, val);
  if (strcmp(name, "memory.limit_in_bytes") == 0 ||
      strcmp(name, "memory.memsw.limit_in_bytes") == 0)
    return write_v1_limit(dir, name, val);
  if (strcmp(name, "memory.oom_control") == 0) {
    if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0) return -EINVAL;
    get(dir, name, text, sizeof text);
    text[17] = val[0]; /* "oom_kill_disable X" */
    put(dir, name, text);
    return 0;
  }
  if (strcmp(name, "cgroup.kill") == 0 && strcmp(val, "1") != 0)
    return -ERANGE;
  if ((strstr(name, ".max") || strcmp(name, "memory.swappiness") == 0) &&
      !limit_ok(val))
    return -EINVAL;
  snprintf(text, sizeof text, "%s\n", val);
  put(dir, name, text);
  return 0;
}

/* The journal entry of one write. */
static void journal(fake_cgroupfs *f, const char *path, const char *val,
                    int rc) {
  size_t room = sizeof f->writes - f->writes_len;
  int n = rc < 0 ? snprintf(f->writes + f->writes_len, room, "%s %s [%s]\n",
                            rel_of(f, path), val, strerror(-rc))
                 : snprintf(f->writes + f->writes_len, room, "%s %s\n",
                            rel_of(f, path), val);
  if (n < 0 || (size_t)n >= room) die("journal full");
  f->writes_len += (size_t)n;
}

/* ---- the hooks --------------------------------------------------------- */

static int hook_fs_magic(void *arg, const char *path, unsigned long *magic) {
  const fake_cgroupfs *f = arg;
  struct stat st;
  int top;
  hier h;
  if (!rel_of(f, path)) return 0;
  h = hier_of(f, path, &top);
  *magic = stat(path, &st) != 0 ? 0
           : h == H_V2          ? MAGIC_CGROUP2
           : h == H_NONE        ? MAGIC_TMPFS
                                : MAGIC_CGROUP1;
  return 1;
}

static void hook_mkdir_done(void *arg, const char *path) {
  populate(arg, path);
}

/* Removes @p dir's control files; -EBUSY if it is populated or has child
 * cgroups, as the kernel's rmdir. */
static int hook_rmdir_prep(void *arg, const char *path) {
  const fake_cgroupfs *f = arg;
  char text[64], entry[512];
  struct dirent *e;
  DIR *d;
  int rc;
  if (!rel_of(f, path) || !(d = opendir(path))) return 0;
  get(path, "cgroup.procs", text, sizeof text);
  rc = text[0] ? -EBUSY : 0;
  while (rc == 0 && (e = readdir(d)))
    if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
        strcmp(e->d_name, f->sabotaged) != 0)
      rc = -EBUSY;
  rewinddir(d);
  while (rc == 0 && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(entry, sizeof entry, "%s/%s", path, e->d_name);
    if ((e->d_type == DT_DIR ? rmdir(entry) : unlink(entry)) != 0)
      die("remove %s: %s", entry, strerror(errno));
  }
  closedir(d);
  return rc;
}

static int hook_write(void *arg, const char *path, const char *val) {
  fake_cgroupfs *f = arg;
  char dir[512];
  const char *name = split(path, dir);
  int rc, fd;
  if (!rel_of(f, path)) die("write outside the fake: %s", path);
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = -errno;
  } else {
    close(fd);
    rc = apply_write(f, dir, name, val);
  }
  journal(f, path, val, rc);
  return rc;
}

/* ---- the API ----------------------------------------------------------- */

/* Makes ROOT/@p rel as the root of a hierarchy. */
static void mount_at(fake_cgroupfs *f, const char *rel) {
  const char *path = fake_cgroupfs_path(f, rel);
  if (mkdir(path, 0755) != 0) die("mkdir %s: %s", path, strerror(errno));
  populate(f, path);
}

fake_cgroupfs *fake_cgroupfs_new(fake_cg_layout layout, unsigned flags) {
  fake_cgroupfs *f = calloc(1, sizeof *f);
  if (!f) die("out of memory");
  f->layout = layout;
  f->flags = flags;
  snprintf(f->root, sizeof f->root, "/tmp/gxcg-XXXXXX");
  if (!mkdtemp(f->root)) die("mkdtemp: %s", strerror(errno));
  if (layout == FAKE_CG_V2) populate(f, f->root);
  if ((layout == FAKE_CG_HYBRID || layout == FAKE_CG_V1) &&
      !(flags & FAKE_CG_NO_MEMORY))
    mount_at(f, "memory");
  if ((layout == FAKE_CG_HYBRID || layout == FAKE_CG_V1) &&
      !(flags & FAKE_CG_NO_PIDS))
    mount_at(f, "pids");
  if (layout == FAKE_CG_HYBRID) mount_at(f, "unified");
  f->hooks = (gxi__cgroup_hooks){hook_fs_magic, hook_mkdir_done,
                                 hook_rmdir_prep, hook_write, f};
  gxi__cgroup_set_hooks(&f->hooks);
  return f;
}

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

void fake_cgroupfs_free(fake_cgroupfs *f) {
  if (!f) return;
  gxi__cgroup_set_hooks(NULL);
  if (nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    die("remove %s: %s", f->root, strerror(errno));
  free(f);
}

const char *fake_cgroupfs_root(const fake_cgroupfs *f) { return f->root; }

const char *fake_cgroupfs_path(fake_cgroupfs *f, const char *rel) {
  snprintf(f->path, sizeof f->path, "%s%s%s", f->root, *rel ? "/" : "", rel);
  return f->path;
}

int fake_cgroupfs_mkdir(fake_cgroupfs *f, const char *rel) {
  const char *path = fake_cgroupfs_path(f, rel);
  if (mkdir(path, 0755) != 0) return -errno;
  populate(f, path);
  return 0;
}

const char *fake_cgroupfs_read(fake_cgroupfs *f, const char *rel) {
  const char *path = fake_cgroupfs_path(f, rel);
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return NULL;
  get(f->root, rel, f->buf, sizeof f->buf);
  return f->buf;
}

int fake_cgroupfs_exists(fake_cgroupfs *f, const char *rel) {
  return access(fake_cgroupfs_path(f, rel), F_OK) == 0;
}

void fake_cgroupfs_put(fake_cgroupfs *f, const char *rel, const char *text) {
  put(f->root, rel, text);
}

const char *fake_cgroupfs_writes(const fake_cgroupfs *f) { return f->writes; }

void fake_cgroupfs_forget_writes(fake_cgroupfs *f) {
  f->writes_len = 0;
  f->writes[0] = '\0';
}

void fake_cgroupfs_sabotage(fake_cgroupfs *f, const char *file) {
  snprintf(f->sabotaged, sizeof f->sabotaged, "%s", file);
}
