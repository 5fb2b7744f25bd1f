/**
 * @file scratch.h
 * A scratch directory for unit tests that need real files: made once
 * per test group under $TEST_TMPDIR, with helpers that abort the test on
 * failure.
 */
#ifndef GXT_SCRATCH_H
#define GXT_SCRATCH_H

#include <sys/types.h>

/** Makes the scratch directory "<$TEST_TMPDIR>/<@p name>.XXXXXX".
 *  Returns 0 or -1 (a cmocka group setup result). */
int gxt_scratch_setup(const char *name);

/** The scratch directory. */
const char *gxt_scratch_root(void);

/** root + "/" + @p rel, in a rotating static buffer (8 at a time). */
const char *gxt_at(const char *rel);

/** mkdir root/@p rel (an existing one is fine). */
void gxt_make_dir(const char *rel);

/** Writes @p body to root/@p rel with exactly @p mode (despite umask). */
void gxt_make_file(const char *rel, const char *body, mode_t mode);

#endif
