/*
 * Tests for server/isolation/cgroup: probe, limits, membership, OOM
 * detection, kill and removal, on the real cgroup filesystems (the test
 * runs outside Bazel's sandbox, tags = ["no-sandbox"]).
 *
 * Every cgroup made here is named gexec/test-<pid>-<label> and removed in
 * the teardown; leaves of earlier runs whose pid is dead are removed at
 * start. A test whose feature the probe reports absent prints why and is
 * skipped; the probe test checks the probe against the filesystem, so a
 * wrong "absent" fails there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/isolation/cgroup.h"

#define ROOT "/sys/fs/cgroup"
#define MiB (1024ULL * 1024ULL)
#define CGROUP2_MAGIC 0x63677270UL
#define CGROUP1_MAGIC 0x27e0ebUL

static gxi_cgroup_caps g_caps;

/* Cgroups made by the current test; destroyed by the teardown. */
static gxi_cgroup g_cgs[4];
static int g_ncgs;

/* ---- helpers ----------------------------------------------------------- */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static int fs_is(const char *path, unsigned long magic) {
  struct statfs sf;
  return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == magic;
}

/* Reads @p dir/@p file into @p buf; fails the test if it cannot. */
static void read_file(const char *dir, const char *file, char *buf,
                      size_t len) {
  char path[512];
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  f = fopen(path, "r");
  if (!f) fail_msg("open %s: %s", path, strerror(errno));
  n = fread(buf, 1, len - 1, f);
  buf[n] = '\0';
  fclose(f);
}

static void assert_file(const char *dir, const char *file, const char *want) {
  char got[256];
  read_file(dir, file, got, sizeof got);
  if (strcmp(got, want) != 0)
    fail_msg("%s/%s is '%s', want '%s'", dir, file, got, want);
}

static void skip_because(const char *why) {
  print_message("skipped: %s (probe: %s)\n", why,
                gxi_cgroup_describe(&g_caps));
  skip();
}

/* Creates gexec/test-<pid>-<label>, registered for the teardown. */
static gxi_cgroup *make_cg(const gxi_cgroup_caps *caps, const char *label,
                           uint64_t mem, uint64_t pids) {
  gxi_cgroup_limits lim = {mem, pids};
  char name[64], why[GXI_CGROUP_MSG_MAX];
  gxi_cgroup *cg;
  int rc;
  assert_true(g_ncgs < (int)(sizeof g_cgs / sizeof g_cgs[0]));
  cg = &g_cgs[g_ncgs];
  snprintf(name, sizeof name, "test-%ld-%s", (long)getpid(), label);
  rc = gxi_cgroup_create(caps, name, &lim, cg, why, sizeof why);
  if (rc != 0) fail_msg("create %s: %d (%s)", name, rc, why);
  g_ncgs++;
  return cg;
}

typedef int (*child_fn)(void *arg);

/* Forks a child that waits until it is in @p cg, then runs @p fn and
 * exits with its result. */
static pid_t spawn_in(gxi_cgroup *cg, child_fn fn, void *arg) {
  int p[2], rc;
  char c = 0;
  pid_t pid;
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[1]);
    if (read(p[0], &c, 1) != 1) _exit(120);
    close(p[0]);
    _exit(fn(arg));
  }
  close(p[0]);
  rc = gxi_cgroup_add(cg, pid);
  if (rc != 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("add %ld: %d (%s)", (long)pid, rc, gxi_cgroup_error(cg));
  }
  assert_int_equal(write(p[1], &c, 1), 1);
  close(p[1]);
  return pid;
}

static int wait_status(pid_t pid) {
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return st;
}

/* Number of pids listed in @p leaf/cgroup.procs. */
static int procs_count(const char *leaf) {
  char buf[4096], *p;
  int n = 0;
  read_file(leaf, "cgroup.procs", buf, sizeof buf);
  for (p = buf; *p; p++)
    if (*p == '\n') n++;
  return n;
}

/* Shared page for results written by children. */
static volatile long *shared_page(void) {
  void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert_true(m != MAP_FAILED);
  memset(m, 0, 4096);
  return m;
}

/* Removes gexec/test-<pid>-* leaves of dead processes under @p base. */
static void remove_stale(const char *base) {
  char dir[512];
  struct dirent *de;
  DIR *d;
  if (!base[0]) return;
  snprintf(dir, sizeof dir, "%s/gexec", base);
  d = opendir(dir);
  if (!d) return;
  while ((de = readdir(d)) != NULL) {
    long pid;
    gxi_cgroup cg;
    if (sscanf(de->d_name, "test-%ld-", &pid) != 1) continue;
    if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0) continue;
    if (gxi_cgroup_open(&g_caps, de->d_name, &cg) == 0) {
      int rc = gxi_cgroup_destroy(&cg);
      print_message("removed stale %s: %d %s\n", de->d_name, rc,
                    gxi_cgroup_error(&cg));
    }
  }
  closedir(d);
}

/* Removes the gexec parents if empty (a concurrent run keeps them). */
static int group_teardown(void **state) {
  const char *bases[] = {g_caps.v2_root, g_caps.mem_root, g_caps.pids_root};
  char dir[512];
  size_t i;
  (void)state;
  for (i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    if (!bases[i][0]) continue;
    snprintf(dir, sizeof dir, "%s/gexec", bases[i]);
    rmdir(dir);
  }
  return 0;
}

static int group_setup(void **state) {
  (void)state;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return -1;
  if (gxi_cgroup_probe(&g_caps) != 0) return -1;
  print_message("cgroup probe: %s\n", gxi_cgroup_describe(&g_caps));
  remove_stale(g_caps.v2_root);
  remove_stale(g_caps.mem_root);
  remove_stale(g_caps.pids_root);
  return 0;
}

static int teardown(void **state) {
  int i, rc = 0;
  (void)state;
  for (i = 0; i < g_ncgs; i++) {
    int r = gxi_cgroup_destroy(&g_cgs[i]);
    if (r != 0) {
      print_message("destroy: %d %s\n", r, gxi_cgroup_error(&g_cgs[i]));
      rc = -1;
    }
  }
  g_ncgs = 0;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  return rc;
}

/* ---- probe ------------------------------------------------------------ */

/* 1 if a fresh directory made in @p base/gexec has @p file. */
static int leaf_has(const char *base, const char *file) {
  char parent[512], dir[600], path[700];
  int ok = 0, made;
  snprintf(parent, sizeof parent, "%s/gexec", base);
  made = mkdir(parent, 0755) == 0;
  if (!made && errno != EEXIST) return 0;
  snprintf(dir, sizeof dir, "%s/test-%ld-check", parent, (long)getpid());
  if (mkdir(dir, 0755) == 0) {
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ok = exists(path);
    rmdir(dir);
  }
  if (made) rmdir(parent);
  return ok;
}

/* The probe agrees with what the filesystem shows, and leaves no probe
 * cgroup behind. */
static void probe_truthful(void **state) {
  const char *sub[] = {"unified", "memory", "pids"};
  char path[512];
  int pure = fs_is(ROOT, CGROUP2_MAGIC), before[3];
  gxi_cgroup_caps again;
  size_t i;
  (void)state;
  /* Probing again gives the same answer, and a parent it had to create
   * is gone afterwards. */
  group_teardown(NULL);
  for (i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s/gexec", ROOT, sub[i]);
    before[i] = exists(path);
  }
  assert_int_equal(gxi_cgroup_probe(&again), 0);
  assert_memory_equal(&again, &g_caps, sizeof again);
  for (i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s/gexec", ROOT, sub[i]);
    assert_int_equal(exists(path), before[i]);
  }
  if (pure) {
    assert_int_equal(g_caps.has_memory, leaf_has(ROOT, "memory.max"));
    assert_int_equal(g_caps.has_pids, leaf_has(ROOT, "pids.max"));
    assert_int_equal(g_caps.has_kill, leaf_has(ROOT, "cgroup.kill"));
    assert_int_equal(g_caps.version,
                     g_caps.has_memory || g_caps.has_pids ? 2 : 0);
  } else {
    int mem = fs_is(ROOT "/memory", CGROUP1_MAGIC) &&
              leaf_has(ROOT "/memory", "memory.limit_in_bytes");
    int pids = fs_is(ROOT "/pids", CGROUP1_MAGIC) &&
               leaf_has(ROOT "/pids", "pids.max");
    int kill2 = fs_is(ROOT "/unified", CGROUP2_MAGIC) &&
                leaf_has(ROOT "/unified", "cgroup.kill");
    assert_int_equal(g_caps.has_memory, mem);
    assert_int_equal(g_caps.has_pids, pids);
    assert_int_equal(g_caps.has_kill, kill2);
    assert_int_equal(g_caps.version, mem || pids ? 1 : 0);
    assert_int_equal(g_caps.has_swap_limit,
                     mem && leaf_has(ROOT "/memory",
                                     "memory.memsw.limit_in_bytes"));
    if (mem) assert_string_equal(g_caps.mem_root, ROOT "/memory");
    if (pids) assert_string_equal(g_caps.pids_root, ROOT "/pids");
    if (kill2) assert_string_equal(g_caps.v2_root, ROOT "/unified");
    if (mem && pids && kill2 && g_caps.has_swap_limit)
      assert_string_equal(gxi_cgroup_describe(&g_caps),
                          "cgroup v1 memory+pids, v2 kill");
  }
  snprintf(path, sizeof path, "%s/gexec/probe-%ld",
           g_caps.mem_root[0] ? g_caps.mem_root : ROOT, (long)getpid());
  assert_false(exists(path));
  snprintf(path, sizeof path, "%s/gexec/probe-%ld",
           g_caps.v2_root[0] ? g_caps.v2_root : ROOT, (long)getpid());
  assert_false(exists(path));
}

/* ---- create ----------------------------------------------------------- */

static void bad_names_rejected(void **state) {
  static const char *const bad[] = {"",   "a/b/c", "..",  ".hidden",
                                    "sp ace", "/a", "a/", "a/.x"};
  gxi_cgroup cg;
  char why[GXI_CGROUP_MSG_MAX];
  size_t i;
  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(gxi_cgroup_create(&g_caps, bad[i], NULL, &cg, why,
                                       sizeof why),
                     -EINVAL);
    assert_non_null(strstr(why, "bad cgroup name"));
    assert_string_equal(gxi_cgroup_error(&cg), why);
  }
}

/* The limit files hold exactly the requested values. */
static void create_sets_limits(void **state) {
  gxi_cgroup *cg;
  (void)state;
  if (!g_caps.has_memory || !g_caps.has_pids)
    skip_because("memory or pids controller not available");
  cg = make_cg(&g_caps, "limits", 32 * MiB, 16);
  if (g_caps.version == 2) {
    assert_file(cg->v2, "memory.max", "33554432\n");
    if (g_caps.has_swap_limit) assert_file(cg->v2, "memory.swap.max", "0\n");
    assert_file(cg->v2, "pids.max", "16\n");
  } else {
    char text[256];
    assert_file(cg->mem, "memory.limit_in_bytes", "33554432\n");
    if (g_caps.has_swap_limit)
      assert_file(cg->mem, "memory.memsw.limit_in_bytes", "33554432\n");
    assert_file(cg->pids, "pids.max", "16\n");
    read_file(cg->mem, "memory.oom_control", text, sizeof text);
    assert_non_null(strstr(text, "oom_kill_disable 0\n"));
  }
  assert_int_equal(cg->swap_limited, g_caps.has_swap_limit);
  if (g_caps.has_kill) {
    char path[512];
    snprintf(path, sizeof path, "%s/cgroup.kill", cg->v2);
    assert_true(exists(path));
  }
}

/* A second create of the same name fails and leaves the first intact. */
static void create_twice_is_eexist(void **state) {
  gxi_cgroup *cg, dup;
  char name[64], why[GXI_CGROUP_MSG_MAX] = "";
  (void)state;
  if (g_caps.version == 0 && !g_caps.has_kill)
    skip_because("no usable cgroups");
  cg = make_cg(&g_caps, "dup", 0, 0);
  snprintf(name, sizeof name, "test-%ld-dup", (long)getpid());
  assert_int_equal(gxi_cgroup_create(&g_caps, name, NULL, &dup, why,
                                     sizeof why),
                   -EEXIST);
  assert_non_null(strstr(why, "exists"));
  assert_true(exists(cg->v2[0] ? cg->v2 : cg->mem));
}

/* A create that fails half-way removes the leaves it had made. */
static void failed_create_rolls_back(void **state) {
  gxi_cgroup cg;
  char name[64], taken[512], v2leaf[512], why[GXI_CGROUP_MSG_MAX] = "";
  int rc;
  (void)state;
  if (g_caps.version != 1 || !g_caps.has_memory || !g_caps.has_kill)
    skip_because("needs the hybrid layout (v2 leaf made before v1 ones)");
  snprintf(name, sizeof name, "test-%ld-partial", (long)getpid());
  snprintf(taken, sizeof taken, "%s/gexec", g_caps.mem_root);
  assert_true(mkdir(taken, 0755) == 0 || errno == EEXIST);
  snprintf(taken, sizeof taken, "%s/gexec/%s", g_caps.mem_root, name);
  snprintf(v2leaf, sizeof v2leaf, "%s/gexec/%s", g_caps.v2_root, name);
  assert_int_equal(mkdir(taken, 0755), 0);
  gxi_cgroup_limits lim = {64 * MiB, 0}; /* a memory leaf is made */
  rc = gxi_cgroup_create(&g_caps, name, &lim, &cg, why, sizeof why);
  rmdir(taken);
  assert_int_equal(rc, -EEXIST);
  assert_non_null(strstr(why, taken));
  assert_false(exists(v2leaf));
}

/* ---- pids limit ------------------------------------------------------- */

/* Forks (children block on a pipe) until fork fails; stores the number of
 * successful forks and the errno in the shared page. */
static int fork_until_refused(void *arg) {
  volatile long *res = arg;
  int p[2], i;
  if (pipe(p) != 0) return 10;
  for (i = 0; i < 64; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      res[1] = errno;
      break;
    }
    if (pid == 0) {
      char c;
      close(p[1]);
      /* blocks until the parent closes its end: EOF (0) is the signal */
      _exit(read(p[0], &c, 1) == 0 ? 0 : 1);
    }
    res[0]++;
  }
  close(p[1]);
  while (wait(NULL) > 0) {
  }
  return 0;
}

static void fork_beyond_pids_limit_is_eagain(void **state) {
  volatile long *res;
  gxi_cgroup *cg;
  char text[256];
  const char *pdir;
  int st;
  (void)state;
  if (!g_caps.has_pids) skip_because("pids controller not available");
  cg = make_cg(&g_caps, "pids", 0, 16);
  res = shared_page();
  st = wait_status(spawn_in(cg, fork_until_refused, (void *)res));
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  assert_int_equal(res[1], EAGAIN);
  assert_int_equal(res[0], 15); /* 16 tasks: the child and 15 forks */
  pdir = g_caps.version == 2 ? cg->v2 : cg->pids;
  read_file(pdir, "pids.events", text, sizeof text);
  assert_null(strstr(text, "max 0\n"));
  munmap((void *)res, 4096);
}

/* ---- OOM -------------------------------------------------------------- */

/* Maps and touches *arg MiB. */
static int touch_mib(void *arg) {
  size_t len = (size_t)(uintptr_t)arg * MiB, off;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 10;
  for (off = 0; off < len; off += 4096) m[off] = 1;
  return 0;
}

static void oom_kill_detected(void **state) {
  gxi_cgroup *calm, *hog;
  int st;
  (void)state;
  if (!g_caps.has_memory) skip_because("memory controller not available");
  calm = make_cg(&g_caps, "calm", 32 * MiB, 0);
  if (gxi_cgroup_oom_killed(calm) == -ENOTSUP)
    skip_because("this kernel has no oom_kill counter");
  st = wait_status(spawn_in(calm, touch_mib, (void *)(uintptr_t)4));
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  assert_int_equal(gxi_cgroup_oom_killed(calm), 0);

  hog = make_cg(&g_caps, "hog", 32 * MiB, 0);
  assert_int_equal(gxi_cgroup_oom_killed(hog), 0);
  st = wait_status(spawn_in(hog, touch_mib, (void *)(uintptr_t)200));
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  assert_int_equal(gxi_cgroup_oom_killed(hog), 1);
  assert_int_equal(gxi_cgroup_oom_killed(calm), 0);
}

/* ---- kill ------------------------------------------------------------- */

/* Double-forks a grandchild that calls setsid(), ignores SIGTERM and
 * sleeps forever; publishes its pid in the shared page, then exits. */
static int escape(void *arg) {
  volatile long *res = arg;
  pid_t mid = fork();
  int i;
  if (mid < 0) return 10;
  if (mid == 0) {
    pid_t g = fork();
    if (g == 0) {
      setsid();
      signal(SIGTERM, SIG_IGN);
      res[0] = (long)getpid();
      for (;;) pause();
    }
    _exit(g < 0 ? 11 : 0);
  }
  waitpid(mid, NULL, 0);
  for (i = 0; i < 2000 && res[0] == 0; i++) sleep_ms(1);
  return res[0] ? 0 : 12;
}

/* 'R', 'S', 'Z', ... from /proc/<pid>/stat, or 0 if there is none. */
static char proc_state(pid_t pid) {
  char path[64], buf[512], *p;
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  f = fopen(path, "r");
  if (!f) return 0;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}

static void kill_removes_escapee(int use_cgroup_kill) {
  gxi_cgroup_caps caps = g_caps;
  volatile long *res;
  gxi_cgroup *cg;
  pid_t g;
  char path[64];
  int st, i;
  if (use_cgroup_kill && !caps.has_kill)
    skip_because("cgroup.kill not available");
  if (!use_cgroup_kill && caps.version == 0)
    skip_because("no cgroup hierarchy with cgroup.procs to sweep");
  if (!use_cgroup_kill) {
    /* As a host without cgroup.kill: on hybrid no unified leaf at all. */
    caps.has_kill = 0;
    if (caps.version == 1) caps.v2_root[0] = '\0';
  }
  cg = make_cg(&caps, use_cgroup_kill ? "kill2" : "sweep", 0, 0);
  assert_int_equal(cg->has_kill, use_cgroup_kill);
  res = shared_page();
  st = wait_status(spawn_in(cg, escape, (void *)res));
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  g = (pid_t)res[0];
  assert_true(g > 0);

  /* Alive, in its own session, and SIGTERM does not stop it. */
  assert_int_equal(getsid(g), g);
  kill(g, SIGTERM);
  sleep_ms(50);
  assert_true(proc_state(g) != 0 && proc_state(g) != 'Z');

  assert_int_equal(gxi_cgroup_kill(cg), 0);
  for (i = 0; i < 2000; i++) {
    char s = proc_state(g);
    if (s == 0 || s == 'Z') break;
    sleep_ms(1);
  }
  /* We are its subreaper: reap it, then /proc has nothing left. */
  st = wait_status(g);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  snprintf(path, sizeof path, "/proc/%ld", (long)g);
  assert_false(exists(path));
  assert_int_equal(
      procs_count(cg->v2[0] ? cg->v2 : cg->pids[0] ? cg->pids : cg->mem), 0);
  munmap((void *)res, 4096);
}

static void kill_with_cgroup_kill(void **state) {
  (void)state;
  kill_removes_escapee(1);
}

static void kill_with_procs_sweep(void **state) {
  (void)state;
  kill_removes_escapee(0);
}

/* ---- destroy ---------------------------------------------------------- */

static int sleep_forever(void *arg) {
  (void)arg;
  for (;;) pause();
  return 0;
}

static void destroy_removes_directories(void **state) {
  gxi_cgroup *cg;
  char leaves[3][GXI_CGROUP_PATH_MAX];
  pid_t pid;
  int st, i;
  (void)state;
  if (g_caps.version == 0 && !g_caps.has_kill)
    skip_because("no usable cgroups");
  cg = make_cg(&g_caps, "destroy", 64 * MiB, 8);
  memcpy(leaves[0], cg->v2, sizeof leaves[0]);
  memcpy(leaves[1], cg->mem, sizeof leaves[1]);
  memcpy(leaves[2], cg->pids, sizeof leaves[2]);
  pid = spawn_in(cg, sleep_forever, NULL);
  for (i = 0; i < 3; i++)
    if (leaves[i][0]) assert_true(exists(leaves[i]));
  /* The child is not reaped yet: a zombie must not keep the leaf busy. */
  assert_int_equal(gxi_cgroup_destroy(cg), 0);
  for (i = 0; i < 3; i++)
    if (leaves[i][0]) assert_false(exists(leaves[i]));
  st = wait_status(pid);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGKILL);
  assert_int_equal(gxi_cgroup_destroy(cg), 0); /* again: no-op */
}

/* A process in v1 leaves of its own (a spare launcher) cannot have them
 * removed; once it left them (gxi_cgroup_exit_now, prepared ahead) it
 * can, and it is in the hierarchies' roots. Runs in a child: the test
 * process keeps its own cgroups. */
static int leave_and_remove(void *arg) {
  gxi_cgroup *cg = arg;
  gxi_cgroup_exit e;
  char line[256];
  gxi_cgroup_exit_prepare(&g_caps, cg, &e);
  if (gxi_cgroup_remove(cg) != -EBUSY) return 10;
  gxi_cgroup_exit_now(&e);
  if (e.procs[0][0] || e.procs[1][0]) return 11; /* once */
  if (gxi_cgroup_remove(cg) != 0) return 12;
  FILE *f = fopen("/proc/self/cgroup", "r");
  int at_root = 0;
  while (f && fgets(line, sizeof line, f))
    at_root |= strstr(line, ":pids:/\n") != NULL;
  if (f) fclose(f);
  return at_root ? 0 : 13;
}

static void exit_v1_leaves_then_remove(void **state) {
  gxi_cgroup_caps v1 = g_caps;
  (void)state;
  if (g_caps.version != 1 || !g_caps.has_pids)
    skip_because("no v1 pids hierarchy");
  v1.v2_root[0] = '\0';
  v1.has_kill = 0; /* a pids leaf without a limit, as a spare's */
  gxi_cgroup *cg = make_cg(&v1, "exit", 0, 0);
  assert_true(cg->pids[0] && !cg->v2[0]);
  pid_t pid = spawn_in(cg, leave_and_remove, cg);
  int st = wait_status(pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  assert_false(exists(cg->pids));
}

/* open() finds an existing leaf, destroy through it removes it. */
static void open_then_destroy(void **state) {
  gxi_cgroup *cg, other;
  char name[64];
  (void)state;
  if (g_caps.version == 0 && !g_caps.has_kill)
    skip_because("no usable cgroups");
  cg = make_cg(&g_caps, "open", 0, 4);
  snprintf(name, sizeof name, "test-%ld-open", (long)getpid());
  assert_int_equal(gxi_cgroup_open(&g_caps, name, &other), 0);
  assert_string_equal(other.v2, cg->v2);
  assert_string_equal(other.mem, cg->mem);
  assert_string_equal(other.pids, cg->pids);
  assert_int_equal(gxi_cgroup_destroy(&other), 0);
  assert_false(exists(cg->v2[0] ? cg->v2 : cg->mem));
  assert_int_equal(gxi_cgroup_open(&g_caps, name, &other), -ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(probe_truthful),
      cmocka_unit_test(bad_names_rejected),
      cmocka_unit_test_teardown(create_sets_limits, teardown),
      cmocka_unit_test_teardown(create_twice_is_eexist, teardown),
      cmocka_unit_test(failed_create_rolls_back),
      cmocka_unit_test_teardown(fork_beyond_pids_limit_is_eagain, teardown),
      cmocka_unit_test_teardown(oom_kill_detected, teardown),
      cmocka_unit_test_teardown(kill_with_cgroup_kill, teardown),
      cmocka_unit_test_teardown(kill_with_procs_sweep, teardown),
      cmocka_unit_test_teardown(destroy_removes_directories, teardown),
      cmocka_unit_test_teardown(open_then_destroy, teardown),
      cmocka_unit_test_teardown(exit_v1_leaves_then_remove, teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
