/**
 * @file ping.h
 * `gexec ping`: the daemon's health and round-trip time.
 */
#ifndef GXC_PING_H
#define GXC_PING_H

#include "client/cli/args.h"
#include "client/gexec.h"

/**
 * Pings @p target (NULL: the library's default; @p shown is how to name
 * it, @p opts the connection's options, borrowed) @p a->ping_count
 * times, printing one line per reply on stdout.
 * Returns 0 when every reply was SERVING, 255 otherwise (the reason is
 * printed on stderr), 141 when stdout is a closed pipe.
 */
int gxc_ping(const gxc_args *a, const char *target, const char *shown,
             const gexec_conn_opts *opts);

#endif
