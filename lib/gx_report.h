/**
 * @file gx_report.h
 * The record gexec-launch writes to the daemon when a run ends: the
 * command's real end (the launcher's own exit status cannot carry a
 * signal death or an OOM kill faithfully). One text line:
 *   "gexec-report v1 exit=N signal=N core=0|1 oom=0|1 user_us=N
 *    sys_us=N maxrss_kb=N\n"
 */
#ifndef GX_REPORT_H
#define GX_REPORT_H

#include <stddef.h>
#include <stdint.h>

/** How a run's command ended. */
typedef struct {
  int exit_code; /**< valid when signal == 0 */
  int signal;
  int core_dumped;
  int oom_killed;
  uint64_t user_us, sys_us, max_rss_kb;
} gx_report;

/** Formats @p r into @p buf; returns the length, or -1 if it does not
 *  fit. */
int gx_report_format(const gx_report *r, char *buf, size_t len);

/** Parses one record (NUL-terminated); returns 0, or -1 if malformed. */
int gx_report_parse(const char *line, gx_report *r);

#endif
