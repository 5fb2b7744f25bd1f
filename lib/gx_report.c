#include "lib/gx_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define FMT "gexec-report v1 exit=%d signal=%d core=%d oom=%d " \
            "user_us=%" SCNu64 " sys_us=%" SCNu64 " maxrss_kb=%" SCNu64

int gx_report_format(const gx_report *r, char *buf, size_t len) {
  int n = snprintf(buf, len,
                   "gexec-report v1 exit=%d signal=%d core=%d oom=%d "
                   "user_us=%" PRIu64 " sys_us=%" PRIu64
                   " maxrss_kb=%" PRIu64 "\n",
                   r->exit_code, r->signal, r->core_dumped ? 1 : 0,
                   r->oom_killed ? 1 : 0, r->user_us, r->sys_us,
                   r->max_rss_kb);
  return n < 0 || (size_t)n >= len ? -1 : n;
}

int gx_report_parse(const char *line, gx_report *r) {
  memset(r, 0, sizeof *r);
  int n = 0;
  if (sscanf(line, FMT "%n", &r->exit_code, &r->signal, &r->core_dumped,
             &r->oom_killed, &r->user_us, &r->sys_us, &r->max_rss_kb,
             &n) != 7 || n == 0)
    return -1;
  if (r->signal < 0 || r->signal > 64 || (r->core_dumped & ~1) ||
      (r->oom_killed & ~1))
    return -1;
  return 0;
}
