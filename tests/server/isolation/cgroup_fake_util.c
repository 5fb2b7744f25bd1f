/* Helpers shared by the fake-cgroupfs tests of server/isolation/cgroup;
 * see cgroup_fake_util.h. */
#include "tests/server/isolation/cgroup_fake_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

fake_cgroupfs *fake;

int teardown(void **state) {
  (void)state;
  fake_cgroupfs_free(fake);
  fake = NULL;
  return 0;
}

/* ROOT/@p rel (in a buffer of the fake: one use per expression). */
const char *P(const char *rel) { return fake_cgroupfs_path(fake, rel); }

int exists(const char *rel) { return fake_cgroupfs_exists(fake, rel); }

void assert_file(const char *rel, const char *want) {
  const char *got = fake_cgroupfs_read(fake, rel);
  if (!got) fail_msg("%s cannot be read", rel);
  if (strcmp(got, want) != 0) fail_msg("%s is '%s', want '%s'", rel, got, want);
}

/* The journal holds exactly @p want; then it is emptied. */
void assert_writes(const char *want) {
  const char *got = fake_cgroupfs_writes(fake);
  if (strcmp(got, want) != 0)
    fail_msg("writes:\n%s-- want:\n%s--", got, want);
  fake_cgroupfs_forget_writes(fake);
}

/* @p got is ROOT/@p rel, or "" when @p rel is NULL. */
void assert_path(const char *got, const char *rel) {
  assert_string_equal(got, rel ? P(rel) : "");
}

/* A fake of @p layout, probed, with an empty journal. */
gxi_cgroup_caps start(fake_cg_layout layout, unsigned flags) {
  gxi_cgroup_caps caps;
  fake = fake_cgroupfs_new(layout, flags);
  assert_int_equal(gxi_cgroup_probe_at(fake_cgroupfs_root(fake), &caps), 0);
  fake_cgroupfs_forget_writes(fake);
  return caps;
}

/* gxi_cgroup_create() that must succeed. */
void make(const gxi_cgroup_caps *caps, const char *name, uint64_t mem,
          uint64_t pids, gxi_cgroup *cg) {
  gxi_cgroup_limits lim = {mem, pids};
  char why[GXI_CGROUP_MSG_MAX] = "";
  int rc = gxi_cgroup_create(caps, name, &lim, cg, why, sizeof why);
  if (rc != 0) fail_msg("create %s: %d (%s)", name, rc, why);
  assert_string_equal(why, "");
}
