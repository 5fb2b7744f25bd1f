/**
 * @file flood.h
 * Integration-test support: many Run streams opened at once on one
 * connection to a real gexecd (gx_rpc directly, no libgexec), each
 * sending its start message right away, as a client starting many runs
 * does; counts what came back.
 */
#ifndef GXT_FLOOD_H
#define GXT_FLOOD_H

#include "tests/integration/harness.h"

/** The streams of one gxt_flood_start. */
typedef struct gxt_flood gxt_flood;

/** What the streams got: `started`, RESOURCE_EXHAUSTED, another status
 *  before `started`; the first refusal ("<code> <message>"). */
typedef struct {
  int started, exhausted, other;
  char first_refusal[200];
} gxt_flood_counts;

/** Opens @p n (at most 10,000) Run streams at once on one new connection
 *  to @p d, each sending the start of @p argv (stdin null), and waits up
 *  to 120 s until each got `started` or its status. Aborts the test on
 *  failure to start them. Free with gxt_flood_end. */
gxt_flood *gxt_flood_start(const gxt_daemon *d, const char *const *argv,
                           int n);

/** The counts so far. */
gxt_flood_counts gxt_flood_counts_of(gxt_flood *f);

/** Cancels the started runs, waits up to 120 s for every stream's end
 *  (asserting it), closes the connection and frees @p f. */
void gxt_flood_end(gxt_flood *f);

#endif
