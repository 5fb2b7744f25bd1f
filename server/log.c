#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static volatile int min_level = GXD_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void gxd_log_set_level(gxd_log_level level) { min_level = level; }

int gxd_log_enabled(gxd_log_level level) { return (int)level >= min_level; }

int gxd_log_parse_level(const char *name) {
  for (int i = 0; i < 4; i++)
    if (strcmp(name, level_names[i]) == 0) return i;
  return -1;
}

void gxd_log_timestamp(char *buf, size_t len) {
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%06ldZ", (long)tv.tv_usec);
}

static void emit(gxd_log_level level, json_object *fields) {
  char ts[48];
  gxd_log_timestamp(ts, sizeof ts);
  json_object *rec = json_object_new_object();
  json_object_object_add(rec, "ts", json_object_new_string(ts));
  json_object_object_add(rec, "level",
                         json_object_new_string(level_names[level]));
  json_object_object_foreach(fields, key, val) {
    json_object_object_add(rec, key, json_object_get(val));
  }
  size_t len = 0;
  const char *s = json_object_to_json_string_length(
      rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  struct iovec iov[2] = {{(void *)s, len}, {"\n", 1}};
  ssize_t w = writev(STDERR_FILENO, iov, 2); /* one record, one syscall */
  (void)w;
  json_object_put(rec);
}

void gxd_log_event(gxd_log_level level, json_object *fields) {
  if (gxd_log_enabled(level)) emit(level, fields);
  json_object_put(fields);
}

void gxd_log(gxd_log_level level, const char *fmt, ...) {
  if (!gxd_log_enabled(level)) return;
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_object *f = json_object_new_object();
  json_object_object_add(f, "msg", json_object_new_string(msg));
  gxd_log_event(level, f);
}
