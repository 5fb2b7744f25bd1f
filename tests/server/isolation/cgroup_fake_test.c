/*
 * Tests for server/isolation/cgroup on a fake cgroupfs (fake_cgroupfs.h):
 * probe, detect and create on layouts this host does not have (pure
 * cgroup v2 with memory and pids, v1 without cgroup2, no cgroups, no swap
 * accounting) and the layout-dependent choices, checked by the exact
 * bytes the module writes (the fake's journal) and the files it leaves.
 * What happens to a leaf once made (membership, fd, OOM, kill, remove,
 * destroy, open, sweep) is in cgroup_fake_leaf_test.c; what needs the
 * kernel itself (limits applying) is tested by cgroup_test on the real
 * filesystems.
 *
 * Each test builds its own fake (the global `fake`, cgroup_fake_util.h)
 * and the teardown removes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server/isolation/cgroup.h"
#include "tests/server/isolation/cgroup_fake_util.h"
#include "tests/server/isolation/fake_cgroupfs.h"

/* ---- helpers ----------------------------------------------------------- */

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
  };
  return cmocka_run_group_tests_name("server/isolation/cgroup_fake", tests,
                                     NULL, NULL);
}
