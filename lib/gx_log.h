/**
 * @file gx_log.h
 * Structured logging: one JSON object per line on stderr.
 *
 * Every record has "ts" (RFC 3339, UTC, microseconds), "level" and either
 * "msg" (free text) or the fields of a structured event. Thread-safe: each
 * record is written with a single write(2).
 */
#ifndef GX_LOG_H
#define GX_LOG_H

#include <json-c/json.h>

/** Severity levels, most verbose first. */
typedef enum {
  GX_LOG_DEBUG = 0,
  GX_LOG_INFO = 1,
  GX_LOG_WARN = 2,
  GX_LOG_ERROR = 3,
} gx_log_level;

/** Sets the minimum level written; records below it are dropped. */
void gx_log_set_level(gx_log_level level);

/** Parses "debug", "info", "warn" or "error"; returns -1 if unknown. */
int gx_log_parse_level(const char *name);

/** Returns nonzero if a record at @p level would be written. */
int gx_log_enabled(gx_log_level level);

/** Writes a free-text record ("msg" = the formatted text). */
void gx_log(gx_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Writes a structured record: "ts", "level", then the fields of @p fields.
 * Takes ownership of @p fields (it is released even if the level is off).
 */
void gx_log_event(gx_log_level level, json_object *fields);

#endif
