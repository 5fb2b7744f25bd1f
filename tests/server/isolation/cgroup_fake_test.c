/*
 * Tests for server/isolation/cgroup on a fake cgroupfs (fake_cgroupfs.h):
 * the paths of layouts this host does not have (pure cgroup v2 with
 * memory and pids, v1 without cgroup2, no cgroups, no swap accounting,
 * no oom_kill counter) and the layout-dependent choices, checked by the
 * exact bytes the module writes (the fake's journal) and the files it
 * leaves. What needs the kernel itself (cgroup.kill killing, limits
 * applying, a cgroup emptying) is tested by cgroup_test on the real
 * filesystems; here only its file protocol is.
 *
 * Each test builds its own fake (the global `fake`) and the teardown
 * removes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/isolation/cgroup.h"
#include "tests/server/isolation/fake_cgroupfs.h"

#define MiB (1024ULL * 1024ULL)

static fake_cgroupfs *fake;

/* ---- helpers ----------------------------------------------------------- */

static int teardown(void **state) {
  (void)state;
  fake_cgroupfs_free(fake);
  fake = NULL;
  return 0;
}

/* ROOT/@p rel (in a buffer of the fake: one use per expression). */
static const char *P(const char *rel) { return fake_cgroupfs_path(fake, rel); }

static int exists(const char *rel) { return fake_cgroupfs_exists(fake, rel); }

static void assert_file(const char *rel, const char *want) {
  const char *got = fake_cgroupfs_read(fake, rel);
  if (!got) fail_msg("%s cannot be read", rel);
  if (strcmp(got, want) != 0) fail_msg("%s is '%s', want '%s'", rel, got, want);
}

/* The journal holds exactly @p want; then it is emptied. */
static void assert_writes(const char *want) {
  const char *got = fake_cgroupfs_writes(fake);
  if (strcmp(got, want) != 0)
    fail_msg("writes:\n%s-- want:\n%s--", got, want);
  fake_cgroupfs_forget_writes(fake);
}

/* @p got is ROOT/@p rel, or "" when @p rel is NULL. */
static void assert_path(const char *got, const char *rel) {
  assert_string_equal(got, rel ? P(rel) : "");
}

/* A fake of @p layout, probed, with an empty journal. */
static gxi_cgroup_caps start(fake_cg_layout layout, unsigned flags) {
  gxi_cgroup_caps caps;
  fake = fake_cgroupfs_new(layout, flags);
  assert_int_equal(gxi_cgroup_probe_at(fake_cgroupfs_root(fake), &caps), 0);
  fake_cgroupfs_forget_writes(fake);
  return caps;
}

/* gxi_cgroup_create() that must succeed. */
static void make(const gxi_cgroup_caps *caps, const char *name, uint64_t mem,
                 uint64_t pids, gxi_cgroup *cg) {
  gxi_cgroup_limits lim = {mem, pids};
  char why[GXI_CGROUP_MSG_MAX] = "";
  int rc = gxi_cgroup_create(caps, name, &lim, cg, why, sizeof why);
  if (rc != 0) fail_msg("create %s: %d (%s)", name, rc, why);
  assert_string_equal(why, "");
}

/* gxi_cgroup_create() of "inst/run-1" that must fail with @p rc, the
 * reason being @p fmt with ROOT/@p rel, and leave @p cg without leaves. */
static void create_fails(const gxi_cgroup_caps *caps, uint64_t mem,
                         uint64_t pids, int rc, const char *fmt,
                         const char *rel, gxi_cgroup *cg) {
  gxi_cgroup_limits lim = {mem, pids};
  char why[GXI_CGROUP_MSG_MAX] = "", want[GXI_CGROUP_MSG_MAX];
  assert_int_equal(gxi_cgroup_create(caps, "inst/run-1", &lim, cg, why,
                                     sizeof why),
                   rc);
  snprintf(want, sizeof want, fmt, rel ? P(rel) : "");
  assert_string_equal(why, want);
  assert_string_equal(gxi_cgroup_error(cg), want);
  assert_path(cg->v2, NULL);
  assert_path(cg->mem, NULL);
  assert_path(cg->pids, NULL);
}

/* The writes of pure v2 enabling memory and pids down to gexec/inst/. */
#define V2_ENABLE_INST                                                  \
  "gexec/cgroup.subtree_control +memory\n"                             \
  "gexec/cgroup.subtree_control +pids\n"                               \
  "gexec/inst/cgroup.subtree_control +memory\n"                        \
  "gexec/inst/cgroup.subtree_control +pids\n"

/* The writes of a hybrid create of inst/run-1 with a 32 MiB limit. */
#define V1_MEMORY_32MIB                                                 \
  "memory/gexec/inst/run-1/memory.oom_control 0\n"                     \
  "memory/gexec/inst/run-1/memory.limit_in_bytes 33554432\n"           \
  "memory/gexec/inst/run-1/memory.memsw.limit_in_bytes 33554432\n"

#define EEXIST_FMT "mkdir %s: File exists (left over from an earlier run?)"

/* ---- probe and detect -------------------------------------------------- */

/* What a probe or a detect should find on one layout. Paths are relative
 * to ROOT ("" is ROOT itself, NULL none). */
typedef struct {
  fake_cg_layout layout;
  unsigned flags;
  const char *root_subtree; /* put in ROOT/cgroup.subtree_control first */
  int version, memory, pids, kill, swap;
  const char *v2, *mem, *pids_root;
  const char *desc;
  const char *subtree; /* ROOT/cgroup.subtree_control after, or NULL */
  const char *writes;
} layout_case;

#define V2_ENABLE_ALL                                                   \
  "cgroup.subtree_control +memory\ncgroup.subtree_control +pids\n"     \
  "gexec/cgroup.subtree_control +memory\n"                             \
  "gexec/cgroup.subtree_control +pids\n"

static const layout_case probe_cases[] = {
    {FAKE_CG_V2, 0, NULL, 2, 1, 1, 1, 1, "", NULL, NULL,
     "cgroup v2 memory+pids, kill", "memory pids\n", V2_ENABLE_ALL},
    {FAKE_CG_V2, FAKE_CG_NO_SWAP, NULL, 2, 1, 1, 1, 0, "", NULL, NULL,
     "cgroup v2 memory+pids (swap not limited), kill", "memory pids\n",
     V2_ENABLE_ALL},
    {FAKE_CG_V2, FAKE_CG_NO_MEMORY, NULL, 2, 0, 1, 1, 0, "", NULL, NULL,
     "cgroup v2 pids, kill", "pids\n",
     "cgroup.subtree_control +pids\ngexec/cgroup.subtree_control +pids\n"},
    {FAKE_CG_V2, FAKE_CG_NO_MEMORY | FAKE_CG_NO_PIDS, NULL, 0, 0, 0, 1, 0,
     "", NULL, NULL, "no cgroup limits, v2 kill", "", ""},
    {FAKE_CG_HYBRID, 0, NULL, 1, 1, 1, 1, 1, "unified", "memory", "pids",
     "cgroup v1 memory+pids, v2 kill", NULL, ""},
    {FAKE_CG_HYBRID, FAKE_CG_NO_SWAP, NULL, 1, 1, 1, 1, 0, "unified",
     "memory", "pids", "cgroup v1 memory+pids (swap not limited), v2 kill",
     NULL, ""},
    {FAKE_CG_HYBRID, FAKE_CG_NO_MEMORY, NULL, 1, 0, 1, 1, 0, "unified", NULL,
     "pids", "cgroup v1 pids, v2 kill", NULL, ""},
    {FAKE_CG_V1, 0, NULL, 1, 1, 1, 0, 1, NULL, "memory", "pids",
     "cgroup v1 memory+pids, no kill", NULL, ""},
    {FAKE_CG_NONE, 0, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, "no cgroups",
     NULL, ""},
};

/* Detection never writes. On pure v2 it reads what the root delegates;
 * it cannot see memory.swap.max (not in the root cgroup), so swap is
 * left to create(), which checks the leaf. */
static const layout_case detect_cases[] = {
    {FAKE_CG_V2, 0, NULL, 0, 0, 0, 1, 0, "", NULL, NULL,
     "no cgroup limits, v2 kill", "", ""},
    {FAKE_CG_V2, 0, "memory pids\n", 2, 1, 1, 1, 0, "", NULL, NULL,
     "cgroup v2 memory+pids (swap not limited), kill", "memory pids\n", ""},
    {FAKE_CG_V2, 0, "pids\n", 2, 0, 1, 1, 0, "", NULL, NULL,
     "cgroup v2 pids, kill", "pids\n", ""},
    {FAKE_CG_HYBRID, 0, NULL, 1, 1, 1, 1, 1, "unified", "memory", "pids",
     "cgroup v1 memory+pids, v2 kill", NULL, ""},
    {FAKE_CG_HYBRID, FAKE_CG_NO_SWAP, NULL, 1, 1, 1, 1, 0, "unified",
     "memory", "pids", "cgroup v1 memory+pids (swap not limited), v2 kill",
     NULL, ""},
    {FAKE_CG_V1, FAKE_CG_NO_PIDS, NULL, 1, 1, 0, 0, 1, NULL, "memory", NULL,
     "cgroup v1 memory, no kill", NULL, ""},
    {FAKE_CG_NONE, 0, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, "no cgroups",
     NULL, ""},
};

/* Runs @p fn on a fresh fake for each case and checks every field, the
 * writes, and that no gexec/ directory is left anywhere. */
static void check_layouts(const layout_case *cases, size_t n,
                          int (*fn)(const char *root, gxi_cgroup_caps *)) {
  static const char *const parents[] = {"gexec", "unified/gexec",
                                        "memory/gexec", "pids/gexec"};
  for (size_t i = 0; i < n; i++) {
    const layout_case *c = &cases[i];
    gxi_cgroup_caps caps;
    print_message("case %zu: %s\n", i, c->desc);
    fake = fake_cgroupfs_new(c->layout, c->flags);
    if (c->root_subtree)
      fake_cgroupfs_put(fake, "cgroup.subtree_control", c->root_subtree);
    assert_int_equal(fn(fake_cgroupfs_root(fake), &caps), 0);
    assert_int_equal(caps.version, c->version);
    assert_int_equal(caps.has_memory, c->memory);
    assert_int_equal(caps.has_pids, c->pids);
    assert_int_equal(caps.has_kill, c->kill);
    assert_int_equal(caps.has_swap_limit, c->swap);
    assert_path(caps.v2_root, c->v2);
    assert_path(caps.mem_root, c->mem);
    assert_path(caps.pids_root, c->pids_root);
    assert_string_equal(gxi_cgroup_describe(&caps), c->desc);
    if (c->subtree) assert_file("cgroup.subtree_control", c->subtree);
    assert_writes(c->writes);
    for (size_t j = 0; j < sizeof parents / sizeof parents[0]; j++)
      assert_false(exists(parents[j]));
    fake_cgroupfs_free(fake);
    fake = NULL;
  }
}

/* The probe on each layout: what it reports, the controllers it enables
 * on pure v2 (root and gexec/), and no probe cgroup left behind. */
static void probe_each_layout(void **state) {
  (void)state;
  check_layouts(probe_cases, sizeof probe_cases / sizeof probe_cases[0],
                gxi_cgroup_probe_at);
}

static void detect_each_layout(void **state) {
  (void)state;
  check_layouts(detect_cases, sizeof detect_cases / sizeof detect_cases[0],
                gxi_cgroup_detect_at);
}

/* An existing gexec/ stays, gets the controllers, and what is already
 * enabled is not written again. */
static void probe_v2_keeps_existing_parent(void **state) {
  gxi_cgroup_caps caps;
  char probe[32];
  (void)state;
  fake = fake_cgroupfs_new(FAKE_CG_V2, 0);
  fake_cgroupfs_put(fake, "cgroup.subtree_control", "memory pids\n");
  assert_int_equal(fake_cgroupfs_mkdir(fake, "gexec"), 0);
  assert_file("gexec/cgroup.controllers", "memory pids\n");
  assert_file("gexec/cgroup.subtree_control", "");
  assert_int_equal(gxi_cgroup_probe_at(fake_cgroupfs_root(fake), &caps), 0);
  assert_int_equal(caps.version, 2);
  assert_writes("gexec/cgroup.subtree_control +memory\n"
                "gexec/cgroup.subtree_control +pids\n");
  assert_file("gexec/cgroup.subtree_control", "memory pids\n");
  assert_int_equal(gxi_cgroup_probe_at(fake_cgroupfs_root(fake), &caps), 0);
  assert_writes("");
  assert_true(exists("gexec"));
  snprintf(probe, sizeof probe, "gexec/probe-%ld", (long)getpid());
  assert_false(exists(probe));
}

static void long_root_is_enametoolong(void **state) {
  char root[GXI_CGROUP_PATH_MAX];
  gxi_cgroup_caps caps;
  (void)state;
  memset(root, 'r', sizeof root);
  root[0] = '/';
  root[GXI_CGROUP_PATH_MAX - 64] = '\0';
  assert_int_equal(gxi_cgroup_probe_at(root, &caps), -ENAMETOOLONG);
  assert_int_equal(gxi_cgroup_detect_at(root, &caps), -ENAMETOOLONG);
  root[GXI_CGROUP_PATH_MAX - 65] = '\0'; /* fits: nothing there */
  assert_int_equal(gxi_cgroup_detect_at(root, &caps), 0);
  assert_string_equal(gxi_cgroup_describe(&caps), "no cgroups");
}

/* ---- create ------------------------------------------------------------ */

/* Pure v2: the leaf and its parents, the controllers enabled down to it,
 * and the limits, in this order and with these bytes. */
static void create_v2_writes_limits(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg, cg2;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  assert_int_equal(cg.version, 2);
  assert_path(cg.v2, "gexec/inst/run-1");
  assert_path(cg.mem, NULL);
  assert_path(cg.pids, NULL);
  assert_int_equal(cg.has_kill, 1);
  assert_int_equal(cg.swap_limited, 1);
  assert_string_equal(cg.note, "");
  assert_string_equal(gxi_cgroup_error(&cg), "");
  assert_writes(V2_ENABLE_INST
                "gexec/inst/run-1/memory.max 33554432\n"
                "gexec/inst/run-1/memory.swap.max 0\n"
                "gexec/inst/run-1/pids.max 16\n");
  assert_file("gexec/cgroup.subtree_control", "memory pids\n");
  assert_file("gexec/inst/cgroup.subtree_control", "memory pids\n");
  assert_file("gexec/inst/run-1/cgroup.controllers", "memory pids\n");
  assert_file("gexec/inst/run-1/memory.max", "33554432\n");
  assert_file("gexec/inst/run-1/memory.swap.max", "0\n");
  assert_file("gexec/inst/run-1/pids.max", "16\n");
  assert_file("gexec/inst/run-1/memory.high", "max\n");
  /* A second run of the instance: only its limits are written. */
  make(&caps, "inst/run-2", 1 * MiB, 1, &cg2);
  assert_writes("gexec/inst/run-2/memory.max 1048576\n"
                "gexec/inst/run-2/memory.swap.max 0\n"
                "gexec/inst/run-2/pids.max 1\n");
  /* A leaf directly under gexec/. */
  make(&caps, "solo", 0, 3, &cg2);
  assert_path(cg2.v2, "gexec/solo");
  assert_writes("gexec/solo/pids.max 3\n");
}

static void create_v2_without_limits(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  char why[GXI_CGROUP_MSG_MAX] = "";
  (void)state;
  assert_int_equal(gxi_cgroup_create(&caps, "inst/run-1", NULL, &cg, why,
                                     sizeof why),
                   0);
  assert_writes(V2_ENABLE_INST);
  assert_file("gexec/inst/run-1/memory.max", "max\n");
  assert_file("gexec/inst/run-1/memory.swap.max", "max\n");
  assert_file("gexec/inst/run-1/pids.max", "max\n");
  assert_int_equal(cg.swap_limited, 0);
  assert_int_equal(cg.has_kill, 1);
}

static void create_v2_without_swap_accounting(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, FAKE_CG_NO_SWAP);
  gxi_cgroup cg;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  assert_writes(V2_ENABLE_INST
                "gexec/inst/run-1/memory.max 33554432\n"
                "gexec/inst/run-1/pids.max 16\n");
  assert_false(exists("gexec/inst/run-1/memory.swap.max"));
  assert_int_equal(cg.swap_limited, 0);
  assert_string_equal(
      cg.note, "no memory.swap.max (swap accounting off): swap not limited");
}

/* Hybrid: limits in the v1 leaves (the memory limit before memsw, and
 * oom_kill_disable cleared although the parent set it), the unified leaf
 * for cgroup.kill only. */
static void create_hybrid_writes_v1_limits(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  (void)state;
  assert_int_equal(fake_cgroupfs_mkdir(fake, "memory/gexec"), 0);
  fake_cgroupfs_put(fake, "memory/gexec/memory.oom_control",
                    "oom_kill_disable 1\nunder_oom 0\noom_kill 0\n");
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  assert_int_equal(cg.version, 1);
  assert_path(cg.v2, "unified/gexec/inst/run-1");
  assert_path(cg.mem, "memory/gexec/inst/run-1");
  assert_path(cg.pids, "pids/gexec/inst/run-1");
  assert_int_equal(cg.has_kill, 1);
  assert_int_equal(cg.swap_limited, 1);
  assert_string_equal(cg.note, "");
  assert_writes(V1_MEMORY_32MIB
                "pids/gexec/inst/run-1/pids.max 16\n");
  assert_file("memory/gexec/inst/memory.oom_control",
              "oom_kill_disable 1\nunder_oom 0\noom_kill 0\n");
  assert_file("memory/gexec/inst/run-1/memory.oom_control",
              "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  assert_file("memory/gexec/inst/run-1/memory.limit_in_bytes", "33554432\n");
  assert_file("memory/gexec/inst/run-1/memory.memsw.limit_in_bytes",
              "33554432\n");
  assert_file("pids/gexec/inst/run-1/pids.max", "16\n");
  assert_file("unified/gexec/inst/run-1/cgroup.controllers", "");
  assert_file("unified/gexec/inst/cgroup.subtree_control", "");
}

static void create_hybrid_without_swap_accounting(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, FAKE_CG_NO_SWAP);
  gxi_cgroup cg;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  assert_writes("memory/gexec/inst/run-1/memory.oom_control 0\n"
                "memory/gexec/inst/run-1/memory.limit_in_bytes 33554432\n"
                "memory/gexec/inst/run-1/memory.swappiness 0\n");
  assert_file("memory/gexec/inst/run-1/memory.swappiness", "0\n");
  assert_int_equal(cg.swap_limited, 0);
  assert_string_equal(cg.note,
                      "no memory.memsw.limit_in_bytes (swap accounting off): "
                      "swap may not be limited; swappiness set to 0");
}

/* Which hierarchies get a leaf, by layout and limits: v1 memory only for
 * a memory limit, v1 pids for a pids limit or to track the run when
 * there is no cgroup.kill. */
static void create_picks_hierarchies(void **state) {
  static const struct {
    fake_cg_layout layout;
    uint64_t mem, pids;
    const char *v2, *memleaf, *pidsleaf;
    int kill;
  } cases[] = {
      {FAKE_CG_HYBRID, 0, 0, "unified/gexec/i/r", NULL, NULL, 1},
      {FAKE_CG_HYBRID, 0, 8, "unified/gexec/i/r", NULL, "pids/gexec/i/r", 1},
      {FAKE_CG_HYBRID, MiB, 0, "unified/gexec/i/r", "memory/gexec/i/r", NULL,
       1},
      {FAKE_CG_V1, 0, 0, NULL, NULL, "pids/gexec/i/r", 0},
      {FAKE_CG_V1, MiB, 0, NULL, "memory/gexec/i/r", "pids/gexec/i/r", 0},
      {FAKE_CG_V2, MiB, 8, "gexec/i/r", NULL, NULL, 1},
  };
  static const char *const all[] = {"gexec/i/r", "unified/gexec/i/r",
                                    "memory/gexec/i/r", "pids/gexec/i/r"};
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    gxi_cgroup_caps caps = start(cases[i].layout, 0);
    gxi_cgroup cg;
    int made = 0;
    print_message("case %zu\n", i);
    make(&caps, "i/r", cases[i].mem, cases[i].pids, &cg);
    assert_path(cg.v2, cases[i].v2);
    assert_path(cg.mem, cases[i].memleaf);
    assert_path(cg.pids, cases[i].pidsleaf);
    assert_int_equal(cg.has_kill, cases[i].kill);
    for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
      made += exists(all[j]);
    assert_int_equal(made, !!cases[i].v2 + !!cases[i].memleaf +
                               !!cases[i].pidsleaf);
    teardown(NULL);
  }
}

/* A name is "leaf" or "dir/leaf", each [A-Za-z0-9._-]+ not starting with
 * '.', at most GXI_CGROUP_NAME_MAX bytes; a refused one creates nothing. */
static void create_refuses_bad_names(void **state) {
  static const char *const bad[] = {
      "",     "a/b/c", "..",     ".",      ".hidden", "a/.x", "/a",
      "a/",   "a//b",  "sp ace", "a\\b",   "tab\t",   "\xc3\xa9", "a:b",
      "run*", "../x",  "x/..",   "a/b\n",
  };
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  char name[GXI_CGROUP_NAME_MAX + 2], want[GXI_CGROUP_MSG_MAX];
  char why[GXI_CGROUP_MSG_MAX];
  gxi_cgroup cg;
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    print_message("case '%s'\n", bad[i]);
    assert_int_equal(gxi_cgroup_create(&caps, bad[i], NULL, &cg, why,
                                       sizeof why),
                     -EINVAL);
    snprintf(want, sizeof want, "bad cgroup name '%.40s'", bad[i]);
    assert_string_equal(why, want);
    assert_string_equal(gxi_cgroup_error(&cg), want);
  }
  memset(name, 'a', sizeof name);
  name[GXI_CGROUP_NAME_MAX + 1] = '\0'; /* one too long */
  assert_int_equal(gxi_cgroup_create(&caps, name, NULL, &cg, why, sizeof why),
                   -EINVAL);
  name[1] = '/';
  assert_int_equal(gxi_cgroup_create(&caps, name, NULL, &cg, why, sizeof why),
                   -EINVAL);
  assert_writes("");
  assert_false(exists("gexec"));
  name[GXI_CGROUP_NAME_MAX] = '\0'; /* the longest: "a/aaa..." */
  make(&caps, name, 0, 1, &cg);
  assert_string_equal(cg.v2 + strlen(P("gexec/")), name);
  name[1] = 'a';
  make(&caps, name, 0, 1, &cg);
  assert_string_equal(cg.v2 + strlen(P("gexec/")), name);
}

/* An existing leaf is -EEXIST, and is left as it was. */
static void create_twice_is_eexist(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg, dup;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  create_fails(&caps, MiB, 2, -EEXIST, EEXIST_FMT, "gexec/inst/run-1", &dup);
  assert_writes("");
  assert_file("gexec/inst/run-1/memory.max", "33554432\n");
  assert_file("gexec/inst/run-1/pids.max", "16\n");
}

/* A limit that cannot be written (pids.max is a directory: root is not
 * stopped by file modes) fails the create and removes the leaf; the
 * parents stay (shared by runs); the same name can then be created. */
static void create_failure_rolls_back_v2(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  (void)state;
  fake_cgroupfs_sabotage(fake, "pids.max");
  create_fails(&caps, 32 * MiB, 16, -EISDIR,
               "write pids.max=16 in %s: Is a directory", "gexec/inst/run-1",
               &cg);
  assert_writes(V2_ENABLE_INST
                "gexec/inst/run-1/memory.max 33554432\n"
                "gexec/inst/run-1/memory.swap.max 0\n"
                "gexec/inst/run-1/pids.max 16 [Is a directory]\n");
  assert_false(exists("gexec/inst/run-1"));
  assert_true(exists("gexec/inst"));
  fake_cgroupfs_sabotage(fake, "");
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  assert_file("gexec/inst/run-1/pids.max", "16\n");
}

/* Hybrid: a failure after three leaves were made removes all three. */
static void create_failure_rolls_back_hybrid(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  (void)state;
  fake_cgroupfs_sabotage(fake, "pids.max");
  create_fails(&caps, 32 * MiB, 16, -EISDIR,
               "write pids.max=16 in %s: Is a directory",
               "pids/gexec/inst/run-1", &cg);
  assert_writes(V1_MEMORY_32MIB
                "pids/gexec/inst/run-1/pids.max 16 [Is a directory]\n");
  assert_false(exists("unified/gexec/inst/run-1"));
  assert_false(exists("memory/gexec/inst/run-1"));
  assert_false(exists("pids/gexec/inst/run-1"));
}

/* Hybrid: the third mkdir fails (a leaf of that name exists in the pids
 * hierarchy only); the two leaves made are removed, the other one is not
 * ours and stays. */
static void create_failed_mkdir_rolls_back(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  (void)state;
  assert_int_equal(fake_cgroupfs_mkdir(fake, "pids/gexec"), 0);
  assert_int_equal(fake_cgroupfs_mkdir(fake, "pids/gexec/inst"), 0);
  assert_int_equal(fake_cgroupfs_mkdir(fake, "pids/gexec/inst/run-1"), 0);
  create_fails(&caps, 32 * MiB, 16, -EEXIST, EEXIST_FMT,
               "pids/gexec/inst/run-1", &cg);
  assert_writes("");
  assert_false(exists("unified/gexec/inst/run-1"));
  assert_false(exists("memory/gexec/inst/run-1"));
  assert_file("pids/gexec/inst/run-1/pids.max", "max\n");
}

static void create_without_cgroups_is_enotsup(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_NONE, 0);
  gxi_cgroup cg;
  (void)state;
  create_fails(&caps, 0, 0, -ENOTSUP, "no usable cgroups (no cgroups)%s",
               NULL, &cg);
  assert_writes("");
}

/* ---- membership, fd, OOM ----------------------------------------------- */

static void add_writes_pid_to_every_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  char want[512], pid[24], line[32];
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  snprintf(pid, sizeof pid, "%ld", (long)getpid());
  snprintf(line, sizeof line, "%s\n", pid);
  assert_int_equal(gxi_cgroup_add(&cg, getpid()), 0);
  snprintf(want, sizeof want,
           "memory/gexec/inst/run-1/cgroup.procs %s\n"
           "pids/gexec/inst/run-1/cgroup.procs %s\n"
           "unified/gexec/inst/run-1/cgroup.procs %s\n",
           pid, pid, pid);
  assert_writes(want);
  assert_file("memory/gexec/inst/run-1/cgroup.procs", line);
  assert_file("pids/gexec/inst/run-1/cgroup.procs", line);
  assert_file("unified/gexec/inst/run-1/cgroup.procs", line);
}

/* For a process born in the cgroup2 leaf (CLONE_INTO_CGROUP): the v1
 * leaves only. */
static void add_v1_skips_the_v2_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  char want[512];
  long me = (long)getpid();
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_add_v1(&cg, getpid()), 0);
  snprintf(want, sizeof want,
           "memory/gexec/inst/run-1/cgroup.procs %ld\n"
           "pids/gexec/inst/run-1/cgroup.procs %ld\n",
           me, me);
  assert_writes(want);
  assert_file("unified/gexec/inst/run-1/cgroup.procs", "");
  /* Only a v2 leaf (no limits): nothing to write. */
  make(&caps, "inst/run-2", 0, 0, &cg);
  assert_int_equal(gxi_cgroup_add_v1(&cg, getpid()), 0);
  assert_writes("");
}

/* A spare's v1 leaves become a run's: renamed (paths follow), then
 * limited; a cgroup2 leaf cannot be renamed. */
static void spare_leaves_renamed_and_limited(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0), v1 = caps;
  gxi_cgroup cg, with_v2;
  char want[512];
  gxi_cgroup_limits lim = {64 * MiB, 17};
  (void)state;
  v1.v2_root[0] = '\0'; /* as the spare sees the host */
  v1.has_kill = 0;
  make(&v1, "inst/spare-9", 1ull << 62, 0, &cg);
  assert_int_equal(gxi_cgroup_rename(&caps, &cg, "inst/run-4"), 0);
  snprintf(want, sizeof want, "%s/memory/gexec/inst/run-4",
           fake_cgroupfs_root(fake));
  assert_string_equal(cg.mem, want);
  snprintf(want, sizeof want, "%s/pids/gexec/inst/run-4",
           fake_cgroupfs_root(fake));
  assert_string_equal(cg.pids, want);
  assert_file("pids/gexec/inst/run-4/pids.max", "max\n");
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_set_limits(&caps, &cg, &lim), 0);
  assert_writes("memory/gexec/inst/run-4/memory.oom_control 0\n"
                "memory/gexec/inst/run-4/memory.limit_in_bytes 67108864\n"
                "memory/gexec/inst/run-4/memory.memsw.limit_in_bytes 67108864\n"
                "pids/gexec/inst/run-4/pids.max 17\n");
  snprintf(want, sizeof want, "%s/memory/gexec/inst/spare-9",
           fake_cgroupfs_root(fake));
  assert_int_equal(access(want, F_OK), -1);
  assert_int_equal(gxi_cgroup_rename(&caps, &cg, "inst/../x"), -EINVAL);
  make(&caps, "inst/run-5", 0, 0, &with_v2);
  assert_int_equal(gxi_cgroup_rename(&caps, &with_v2, "inst/run-6"), -EXDEV);
}

/* A pid that is gone: the first write fails, the reason names it. */
static void add_failure_is_reported(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  char want[GXI_CGROUP_MSG_MAX + 64];
  pid_t pid;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  fake_cgroupfs_forget_writes(fake);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(0);
  assert_int_equal(waitpid(pid, NULL, 0), pid);
  assert_int_equal(gxi_cgroup_add(&cg, pid), -ESRCH);
  snprintf(want, sizeof want, "write cgroup.procs=%ld in %s: No such process",
           (long)pid, P("gexec/inst/run-1"));
  assert_string_equal(gxi_cgroup_error(&cg), want);
  snprintf(want, sizeof want,
           "gexec/inst/run-1/cgroup.procs %ld [No such process]\n", (long)pid);
  assert_writes(want);
  assert_file("gexec/inst/run-1/cgroup.procs", "");
}

static void v2_fd_opens_the_v2_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  struct stat a, b;
  int fd;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  fd = gxi_cgroup_v2_fd(&cg);
  assert_true(fd >= 0);
  assert_int_equal(fstat(fd, &a), 0);
  assert_int_equal(stat(P("gexec/inst/run-1"), &b), 0);
  assert_true(S_ISDIR(a.st_mode));
  assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  close(fd);
  assert_int_equal(gxi_cgroup_remove(&cg), 0);
  assert_int_equal(gxi_cgroup_v2_fd(&cg), -ENOENT); /* forgotten */
  teardown(NULL);
  caps = start(FAKE_CG_V1, 0); /* no cgroup2 */
  make(&caps, "inst/run-1", 0, 0, &cg);
  assert_int_equal(gxi_cgroup_v2_fd(&cg), -ENOENT);
  /* A leaf that is not there (any more): open()'s error. */
  snprintf(cg.v2, sizeof cg.v2, "%s", P("gexec/inst/run-9"));
  assert_int_equal(gxi_cgroup_v2_fd(&cg), -ENOENT);
}

#define EVENTS_V2(oom, oom_kill, group)                                    \
  "low 0\nhigh 0\nmax 3\noom " oom "\noom_kill " oom_kill                  \
  "\noom_group_kill " group "\n"

static void oom_killed_reads_memory_events(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  const char *ev = "gexec/inst/run-1/memory.events";
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0);
  fake_cgroupfs_put(fake, ev, EVENTS_V2("1", "0", "0"));
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0); /* OOM, nothing killed */
  fake_cgroupfs_put(fake, ev, EVENTS_V2("1", "0", "1"));
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0); /* not "oom_kill" */
  fake_cgroupfs_put(fake, ev, EVENTS_V2("2", "2", "0"));
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 1);
  fake_cgroupfs_put(fake, ev, "low 0\noom_kill x\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -EINVAL);
  fake_cgroupfs_put(fake, ev, "low 0\nhigh 0\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -ENOTSUP);
  assert_int_equal(unlink(P(ev)), 0);
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -ENOTSUP);
  assert_writes(""); /* reading only */
  /* A v2 leaf without the memory controller has no memory.events. */
  teardown(NULL);
  caps = start(FAKE_CG_V2, FAKE_CG_NO_MEMORY);
  make(&caps, "inst/run-1", 0, 4, &cg);
  assert_false(exists(ev));
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -ENOTSUP);
}

static void oom_killed_reads_v1_oom_control(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg, nomem;
  const char *oc = "memory/gexec/inst/run-1/memory.oom_control";
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0);
  fake_cgroupfs_put(fake, oc, "oom_kill_disable 0\nunder_oom 1\noom_kill 0\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 0);
  fake_cgroupfs_put(fake, oc, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), 1);
  make(&caps, "inst/run-2", 0, 16, &nomem); /* no memory leaf */
  assert_int_equal(gxi_cgroup_oom_killed(&nomem), -ENOTSUP);
  /* Before Linux 4.13, no oom_kill line: not guessed from failcnt. */
  teardown(NULL);
  caps = start(FAKE_CG_HYBRID, FAKE_CG_NO_OOM_KILL);
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  assert_file(oc, "oom_kill_disable 0\nunder_oom 0\n");
  fake_cgroupfs_put(fake, "memory/gexec/inst/run-1/memory.failcnt", "475\n");
  assert_int_equal(gxi_cgroup_oom_killed(&cg), -ENOTSUP);
}

/* ---- kill, remove, destroy, open, sweep -------------------------------- */

static void kill_once_writes_cgroup_kill(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_kill_once(&cg), 0); /* nothing listed */
  assert_writes("gexec/inst/run-1/cgroup.kill 1\n");
  assert_file("gexec/inst/run-1/cgroup.kill", "1\n");
  assert_int_equal(gxi_cgroup_kill(&cg), 0);
  assert_writes("gexec/inst/run-1/cgroup.kill 1\n");
  /* Told not to use it (has_kill cleared): never written. */
  cg.has_kill = 0;
  assert_int_equal(gxi_cgroup_kill(&cg), 0);
  assert_writes("");
}

/* Without cgroup2 there is no cgroup.kill: only cgroup.procs is read. */
static void kill_without_cgroup_kill_writes_nothing(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V1, 0);
  gxi_cgroup cg;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  assert_int_equal(cg.has_kill, 0);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_kill_once(&cg), 0);
  assert_int_equal(gxi_cgroup_kill(&cg), 0);
  assert_writes("");
}

static void kill_once_refuses_to_kill_the_caller(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  char procs[32], want[GXI_CGROUP_MSG_MAX + 32];
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  snprintf(procs, sizeof procs, "%ld\n", (long)getpid());
  fake_cgroupfs_put(fake, "gexec/inst/run-1/cgroup.procs", procs);
  assert_int_equal(gxi_cgroup_kill_once(&cg), -EDEADLK);
  snprintf(want, sizeof want, "the caller (pid %ld) is in %s",
           (long)getpid(), P("gexec/inst/run-1"));
  assert_string_equal(gxi_cgroup_error(&cg), want);
  assert_int_equal(gxi_cgroup_destroy(&cg), -EDEADLK);
  assert_true(exists("gexec/inst/run-1"));
}

/* A listed pid whose /proc/<pid>/cgroup does not name the leaf (a pid
 * reused since cgroup.procs was read) is counted but not signalled. */
static void kill_once_spares_a_pid_not_in_the_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  struct timespec ms50 = {0, 50 * 1000 * 1000};
  char procs[32];
  int st;
  pid_t pid;
  (void)state;
  make(&caps, "inst/run-1", 0, 0, &cg);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    for (;;) pause();
  }
  snprintf(procs, sizeof procs, "%ld\n", (long)pid);
  fake_cgroupfs_put(fake, "gexec/inst/run-1/cgroup.procs", procs);
  assert_int_equal(gxi_cgroup_kill_once(&cg), 1);
  nanosleep(&ms50, NULL);
  assert_int_equal(waitpid(pid, &st, WNOHANG), 0); /* still running */
  kill(pid, SIGKILL);
  assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* remove() of a populated leaf is -EBUSY and keeps it (and its path in
 * the handle); once empty it goes. */
static void remove_busy_leaf_is_ebusy(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_V2, 0);
  gxi_cgroup cg;
  char procs[32], want[GXI_CGROUP_MSG_MAX + 32];
  (void)state;
  make(&caps, "inst/run-1", 0, 5, &cg);
  snprintf(procs, sizeof procs, "%ld\n", (long)getpid());
  fake_cgroupfs_put(fake, "gexec/inst/run-1/cgroup.procs", procs);
  assert_int_equal(gxi_cgroup_remove(&cg), -EBUSY);
  snprintf(want, sizeof want, "rmdir %s: Device or resource busy",
           P("gexec/inst/run-1"));
  assert_string_equal(gxi_cgroup_error(&cg), want);
  assert_path(cg.v2, "gexec/inst/run-1");
  assert_file("gexec/inst/run-1/pids.max", "5\n");
  fake_cgroupfs_put(fake, "gexec/inst/run-1/cgroup.procs", "");
  assert_int_equal(gxi_cgroup_remove(&cg), 0);
  assert_false(exists("gexec/inst/run-1"));
  assert_path(cg.v2, NULL);
}

/* destroy(): cgroup.kill, then every leaf removed; the parents stay; a
 * second destroy does nothing. */
static void destroy_removes_every_leaf(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_destroy(&cg), 0);
  assert_writes("unified/gexec/inst/run-1/cgroup.kill 1\n");
  assert_false(exists("unified/gexec/inst/run-1"));
  assert_false(exists("memory/gexec/inst/run-1"));
  assert_false(exists("pids/gexec/inst/run-1"));
  assert_true(exists("unified/gexec/inst"));
  assert_true(exists("memory/gexec/inst"));
  assert_true(exists("pids/gexec/inst"));
  assert_path(cg.v2, NULL);
  assert_path(cg.mem, NULL);
  assert_path(cg.pids, NULL);
  assert_int_equal(gxi_cgroup_destroy(&cg), 0);
  assert_writes("");
}

static void open_finds_existing_leaves(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg, o;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 0, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_open(&caps, "inst/run-1", &o), 0);
  assert_int_equal(o.version, 1);
  assert_path(o.v2, "unified/gexec/inst/run-1");
  assert_path(o.mem, "memory/gexec/inst/run-1");
  assert_path(o.pids, NULL);
  assert_int_equal(o.has_kill, 1);
  assert_int_equal(gxi_cgroup_open(&caps, "inst/run-9", &o), -ENOENT);
  assert_int_equal(gxi_cgroup_open(&caps, "../x", &o), -EINVAL);
  assert_writes("");
  assert_false(exists("pids/gexec/inst/run-1"));
  /* Through the opened handle the leaves go. */
  assert_int_equal(gxi_cgroup_open(&caps, "inst/run-1", &o), 0);
  assert_int_equal(gxi_cgroup_destroy(&o), 0);
  assert_false(exists("unified/gexec/inst/run-1"));
  assert_false(exists("memory/gexec/inst/run-1"));
}

/* sweep() destroys every leaf of one instance in every hierarchy and
 * counts them once; remove_dir() then removes the instance's
 * directories; another instance is left alone. */
static void sweep_then_remove_dir(void **state) {
  gxi_cgroup_caps caps = start(FAKE_CG_HYBRID, 0);
  gxi_cgroup cg;
  char why[GXI_CGROUP_MSG_MAX] = "";
  int found = -1;
  const char *w;
  (void)state;
  make(&caps, "inst/run-1", 32 * MiB, 16, &cg);
  make(&caps, "inst/run-2", 0, 0, &cg);
  make(&caps, "other/run-1", 0, 16, &cg);
  fake_cgroupfs_forget_writes(fake);
  assert_int_equal(gxi_cgroup_remove_dir(&caps, "inst"), -EBUSY);
  assert_int_equal(gxi_cgroup_sweep(&caps, "inst", &found, why, sizeof why), 0);
  assert_int_equal(found, 2);
  assert_string_equal(why, "");
  w = fake_cgroupfs_writes(fake); /* readdir order: either run first */
  assert_true(strcmp(w, "unified/gexec/inst/run-1/cgroup.kill 1\n"
                        "unified/gexec/inst/run-2/cgroup.kill 1\n") == 0 ||
              strcmp(w, "unified/gexec/inst/run-2/cgroup.kill 1\n"
                        "unified/gexec/inst/run-1/cgroup.kill 1\n") == 0);
  fake_cgroupfs_forget_writes(fake);
  assert_false(exists("memory/gexec/inst/run-1"));
  assert_false(exists("pids/gexec/inst/run-1"));
  assert_int_equal(gxi_cgroup_remove_dir(&caps, "inst"), 0);
  assert_false(exists("unified/gexec/inst"));
  assert_false(exists("memory/gexec/inst"));
  assert_false(exists("pids/gexec/inst"));
  assert_true(exists("unified/gexec/other/run-1"));
  assert_true(exists("pids/gexec/other/run-1"));
  assert_int_equal(gxi_cgroup_remove_dir(&caps, "../other"), -EINVAL);
  assert_int_equal(gxi_cgroup_sweep(&caps, "inst", &found, why, sizeof why), 0);
  assert_int_equal(found, 0);
  assert_writes("");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(probe_each_layout, teardown),
      cmocka_unit_test_teardown(detect_each_layout, teardown),
      cmocka_unit_test_teardown(probe_v2_keeps_existing_parent, teardown),
      cmocka_unit_test_teardown(long_root_is_enametoolong, teardown),
      cmocka_unit_test_teardown(create_v2_writes_limits, teardown),
      cmocka_unit_test_teardown(create_v2_without_limits, teardown),
      cmocka_unit_test_teardown(create_v2_without_swap_accounting, teardown),
      cmocka_unit_test_teardown(create_hybrid_writes_v1_limits, teardown),
      cmocka_unit_test_teardown(create_hybrid_without_swap_accounting,
                                teardown),
      cmocka_unit_test_teardown(create_picks_hierarchies, teardown),
      cmocka_unit_test_teardown(create_refuses_bad_names, teardown),
      cmocka_unit_test_teardown(create_twice_is_eexist, teardown),
      cmocka_unit_test_teardown(create_failure_rolls_back_v2, teardown),
      cmocka_unit_test_teardown(create_failure_rolls_back_hybrid, teardown),
      cmocka_unit_test_teardown(create_failed_mkdir_rolls_back, teardown),
      cmocka_unit_test_teardown(create_without_cgroups_is_enotsup, teardown),
      cmocka_unit_test_teardown(add_writes_pid_to_every_leaf, teardown),
      cmocka_unit_test_teardown(add_v1_skips_the_v2_leaf, teardown),
      cmocka_unit_test_teardown(spare_leaves_renamed_and_limited, teardown),
      cmocka_unit_test_teardown(add_failure_is_reported, teardown),
      cmocka_unit_test_teardown(v2_fd_opens_the_v2_leaf, teardown),
      cmocka_unit_test_teardown(oom_killed_reads_memory_events, teardown),
      cmocka_unit_test_teardown(oom_killed_reads_v1_oom_control, teardown),
      cmocka_unit_test_teardown(kill_once_writes_cgroup_kill, teardown),
      cmocka_unit_test_teardown(kill_without_cgroup_kill_writes_nothing,
                                teardown),
      cmocka_unit_test_teardown(kill_once_refuses_to_kill_the_caller,
                                teardown),
      cmocka_unit_test_teardown(kill_once_spares_a_pid_not_in_the_leaf,
                                teardown),
      cmocka_unit_test_teardown(remove_busy_leaf_is_ebusy, teardown),
      cmocka_unit_test_teardown(destroy_removes_every_leaf, teardown),
      cmocka_unit_test_teardown(open_finds_existing_leaves, teardown),
      cmocka_unit_test_teardown(sweep_then_remove_dir, teardown),
  };
  return cmocka_run_group_tests_name("server/isolation/cgroup_fake", tests,
                                     NULL, NULL);
}
