/**
 * @file log.h
 * Structured logging: one JSON object per line on stderr.
 *
 * Every record has "ts" (RFC 3339, UTC, microseconds), "level" and either
 * "msg" (free text) or the fields of a structured event. Thread-safe: each
 * record is written with a single write(2).
 */
#ifndef GXD_LOG_H
#define GXD_LOG_H

#include <json-c/json.h>
#include <stddef.h>

/** Severity levels, most verbose first. */
typedef enum {
  GXD_LOG_DEBUG = 0,
  GXD_LOG_INFO = 1,
  GXD_LOG_WARN = 2,
  GXD_LOG_ERROR = 3,
} gxd_log_level;

/** Writes the current time as in every record's "ts" (RFC 3339, UTC,
 *  microseconds: "2026-11-30T15:18:14.123456Z") into @p buf (48 bytes
 *  suffice). */
void gxd_log_timestamp(char *buf, size_t len);

/** Sets the minimum level written; records below it are dropped. */
void gxd_log_set_level(gxd_log_level level);

/** Parses "debug", "info", "warn" or "error"; returns -1 if unknown. */
int gxd_log_parse_level(const char *name);

/** Returns nonzero if a record at @p level would be written. */
int gxd_log_enabled(gxd_log_level level);

/** Writes a free-text record ("msg" = the formatted text). */
void gxd_log(gxd_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Writes a structured record: "ts", "level", then the fields of @p fields.
 * Takes ownership of @p fields (it is released even if the level is off).
 */
void gxd_log_event(gxd_log_level level, json_object *fields);

#endif
