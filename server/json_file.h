/**
 * @file json_file.h
 * The daemon's JSON configuration files (--profiles, --policy): read
 * with a size cap, parsed strictly (json-c's JSON_TOKENER_STRICT: no
 * comments, no single quotes, no trailing text), and the small helpers
 * every checker of such a file needs. Every error starts with the file's
 * name. Pure apart from gxd_json_read reading the file.
 */
#ifndef GXD_JSON_FILE_H
#define GXD_JSON_FILE_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>

/** Most keys one object may have for gxd_json_check_keys. */
#define GXD_JSON_MAX_KEYS 64
/** Deepest nesting gxd_json_check_keys follows (json-c's default). */
#define GXD_JSON_MAX_DEPTH 32

/**
 * Reads all of @p file, at most @p max bytes. On success *@p out is a
 * malloc'd NUL-terminated copy (the caller frees it) of *@p len bytes and
 * 0 is returned; else -1 with "FILE: cannot read: ..." or "FILE: larger
 * than N bytes" in @p why.
 */
int gxd_json_read(const char *file, size_t max, char **out, size_t *len,
                  char *why, size_t why_len);

/**
 * Parses @p len bytes of @p text as one strict JSON value. Returns it
 * (the caller's reference: json_object_put), or NULL with "FILE: not
 * valid JSON at line N: ..." in @p why.
 */
json_object *gxd_json_parse(const char *file, const char *text, size_t len,
                            char *why, size_t why_len);

/**
 * Checks the object keys of @p text (valid JSON, as gxd_json_parse
 * accepted it): no object has a key twice (json-c would keep the last
 * one silently), no key is written with a backslash escape (so that
 * "\u0061llow" cannot pass for "allow"), no object has more than
 * GXD_JSON_MAX_KEYS keys. Returns 0, or -1 with "FILE: line N: ..." in
 * @p why.
 */
int gxd_json_check_keys(const char *file, const char *text, size_t len,
                        char *why, size_t why_len);

/**
 * The array under @p key of @p root, which must be an object with that
 * one key, or NULL with the reason in @p why ("FILE: expected an object
 * with a \"KEY\" array, not ...", "FILE: unknown key 'x' (expected
 * KEY)", "FILE: no \"KEY\" array", "FILE: KEY: expected an array, not
 * ..."). The array is borrowed from @p root.
 */
json_object *gxd_json_top_array(const char *file, json_object *root,
                                const char *key, char *why, size_t why_len);

/**
 * Writes an error about entry @p index of the file's top array to
 * @p why: "FILE: KIND 'NAME': MESSAGE", or "FILE: KINDs[INDEX]: MESSAGE"
 * while the entry has no accepted @p name (NULL); MESSAGE is @p fmt
 * with @p ap, cut to 400 bytes.
 */
void gxd_json_entry_verr(char *why, size_t why_len, const char *file,
                         const char *kind, const char *name, size_t index,
                         const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

/** The first key of object @p obj that is not in the NULL-terminated
 *  @p keys, or NULL when all are. */
const char *gxd_json_unknown_key(json_object *obj, const char *const *keys);

/** The string in @p v, or NULL if it is not one or holds a NUL byte. */
const char *gxd_json_text(json_object *v);

/** What @p v is, for messages: "a string", "a number", "an array"... */
const char *gxd_json_type_name(json_object *v);

#endif
