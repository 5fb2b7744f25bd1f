/* Shared by the gxd_config tests (config_test.c, config_listen_test.c):
 * parsing a command line into one config and checking the reason. */
#ifndef GXT_CONFIG_FIXTURE_H
#define GXT_CONFIG_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "server/config.h"

#define assert_contains(hay, needle)                                   \
  do {                                                                 \
    if (!strstr((hay), (needle)))                                      \
      fail_msg("'%s' does not contain '%s'", (hay), (needle));         \
  } while (0)

/** The config and reason of the last parse. */
extern gxd_config cfg;
extern char why[512];

/** Runs gxd_config_parse on a NULL-terminated @p argv. */
int parse(char **argv);
/** Parses expecting -1 with @p needle in the reason. */
void parse_fails(char **argv, const char *needle);
/** Runs a parse with stdout sent to a file; returns what it printed. */
char *parse_capturing_stdout(char **argv, int *rc);
/** Parses "gexecd OPT VALUE"; expects it accepted with *@p field == @p want. */
void value_ok(const char *opt, const char *value, const uint64_t *field,
              uint64_t want);
/** Expects "gexecd OPT VALUE" refused with exactly "invalid value 'VALUE'
 *  for OPT: expected @p expect". */
void refuses(const char *opt, const char *value, const char *expect);

#endif
