/**
 * @file facts_cli.h
 * `gexec facts`: one host (-H: a block of "path: value" lines, or its
 * JSON) or a fleet (-w: the fleet driver with the facts kind; a table or
 * one JSON document).
 */
#ifndef GXC_FACTS_CLI_H
#define GXC_FACTS_CLI_H

#include "client/cli/args.h"
#include "client/cli/fleet.h"
#include "client/gexec.h"

/** Asks @p target (NULL: the default; shown as @p shown) for its facts
 *  and prints them; returns the exit status (0, 255, 126/127 as for a
 *  run's refusal, 141 for a closed stdout). */
int gxc_facts_one(const gxc_args *a, const char *target, const char *shown,
                  const gexec_conn_opts *opts);

/** The kind of `gexec facts -w`. */
extern const gxc_fleet_kind gxc_fleet_facts_kind;

#endif
