/**
 * @file cgroup_fake_util.h
 * Helpers shared by the tests of server/isolation/cgroup on a fake
 * cgroupfs (fake_cgroupfs.h): cgroup_fake_test.c (probe, detect, create)
 * and cgroup_fake_leaf_test.c (membership, fd, OOM, kill, remove,
 * destroy, open, sweep).
 *
 * Each test builds its own fake, the global `fake` (start(), or
 * fake_cgroupfs_new() directly), and teardown() removes it. ROOT is
 * fake_cgroupfs_root(fake); a "rel" path is relative to it. The assert_*
 * helpers, start() and make() fail the running cmocka test: call them
 * from a test only. Not thread-safe (one fake at a time).
 */
#ifndef GX_TEST_CGROUP_FAKE_UTIL_H
#define GX_TEST_CGROUP_FAKE_UTIL_H

#include <stdint.h>

#include "server/isolation/cgroup.h"
#include "tests/server/isolation/fake_cgroupfs.h"

/** One MiB, for the memory limits of the tests. */
#define MiB (1024ULL * 1024ULL)

/** The current test's fake, or NULL; owned by the test, freed by
 *  teardown(). */
extern fake_cgroupfs *fake;

/** cmocka teardown: frees `fake` and sets it to NULL (@p state is
 *  unused; a test may call teardown(NULL) to start again on another
 *  layout). Returns 0. */
int teardown(void **state);

/** ROOT/@p rel, in a buffer of the fake valid until its next call: one
 *  use per expression. */
const char *P(const char *rel);

/** 1 if ROOT/@p rel exists (file or directory), else 0. */
int exists(const char *rel);

/** Fails the test unless ROOT/@p rel can be read and holds exactly
 *  @p want. */
void assert_file(const char *rel, const char *want);

/** Fails the test unless the fake's journal holds exactly @p want; then
 *  empties it. */
void assert_writes(const char *want);

/** Fails the test unless @p got is ROOT/@p rel, or "" when @p rel is
 *  NULL. */
void assert_path(const char *got, const char *rel);

/** Makes `fake` of @p layout and @p flags, probes it (which must succeed)
 *  and empties the journal. Returns what the probe found. */
gxi_cgroup_caps start(fake_cg_layout layout, unsigned flags);

/** gxi_cgroup_create() of @p name with limits @p mem (bytes) and @p pids
 *  (0: no limit) into @p cg, which must succeed with an empty reason. */
void make(const gxi_cgroup_caps *caps, const char *name, uint64_t mem,
          uint64_t pids, gxi_cgroup *cg);

#endif
