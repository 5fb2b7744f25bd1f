/**
 * @file fleet_report.h
 * What a fleet run prints once every host is done: the gathered output
 * (-b, --diff), the JSON document (--json), the summary on stderr, and the
 * exit status. Pure apart from writing to the gxc_out it is given.
 */
#ifndef GXC_FLEET_REPORT_H
#define GXC_FLEET_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "client/cli/fleet_host.h"
#include "client/cli/out.h"

/** Counts of a fleet run by outcome. */
typedef struct {
  size_t hosts, ok, failed, timed_out, unreachable, refused;
  int max_status;  /**< the largest per-host status (0 when all ok) */
} gxc_fleet_counts;

/** Counts @p n hosts. */
void gxc_fleet_count(const gxc_host *hosts, size_t n, gxc_fleet_counts *c);

/**
 * The fleet's exit status: 0 when every host's run exited 0; 255
 * (GXC_EXIT_ERROR) if one was unreachable or refused; else the largest
 * per-host status.
 */
int gxc_fleet_status(const gxc_host *hosts, size_t n);

/**
 * Writes the summary to @p err: for each distinct reason (gxc_host_reason)
 * other than success, in the order of its first host, one line
 * "gexec: HOSTS: REASON" with HOSTS folded (node[40-42]); then, if any
 * host did not succeed, "gexec: N hosts: A ok, B failed, C timed out,
 * D unreachable, E refused". Returns 0 or -1 (a write failed, or no
 * memory).
 */
int gxc_fleet_summary(const gxc_host *hosts, size_t n, gxc_out *err);

/**
 * -b: writes each distinct output once, in the order of its first host:
 * hosts whose stdout, stderr and status are byte-identical form a group,
 * printed as "---------------\nHOSTS (COUNT)\n---------------\n" and its
 * stdout on @p out (a newline added when it lacks one); its stderr goes
 * to @p err as lines prefixed "HOSTS: ". Hosts that never ran
 * (unreachable, refused) form no group. With @p diff, writes instead, for
 * each group other than the most common (the largest; the first on a
 * tie), a unified diff of its stdout against it, labelled
 * "HOSTS (N hosts)", and another of its stderr (labels ending
 * " (stderr)") when that differs. Returns 0, -1 (write failed) or -2 (no
 * memory).
 */
int gxc_fleet_gather(const gxc_host *hosts, size_t n, int diff, gxc_out *out,
                     gxc_out *err);

/**
 * --json: the document {"hosts": [...], "summary": {...}}: each host the
 * object of single-host `gexec run --json` (json_out.h) for its target
 * and @p argv, plus "address" and "identity" (the daemon's certificate
 * identity, null when unknown); the summary {"hosts", "ok", "failed",
 * "timed_out", "unreachable", "refused", "max_exit_code",
 * "wall_time_us"}. Returns a new reference, or NULL without memory.
 */
json_object *gxc_fleet_json(const gxc_host *hosts, size_t n,
                            const char *const *argv, int64_t wall_us);

/** The summary object of the JSON document (also for facts). NULL
 *  without memory. */
json_object *gxc_fleet_json_summary(const gxc_host *hosts, size_t n,
                                    int64_t wall_us);

/** Folds the names of @p hosts[idx[0..k)] into @p buf (nodeset.h);
 *  returns @p buf. */
const char *gxc_fleet_fold(const gxc_host *hosts, const size_t *idx, size_t k,
                           char *buf, size_t len);

#endif
