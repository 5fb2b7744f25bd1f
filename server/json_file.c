/* The daemon's JSON configuration files; see json_file.h. */
#include "server/json_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gxd_json_read(const char *file, size_t max, char **out, size_t *len,
                  char *why, size_t why_len) {
  char *buf = malloc(max + 2);
  size_t n = 0;
  ssize_t r = 0;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || !buf) {
    snprintf(why, why_len, "%s: cannot read: %s", file,
             strerror(fd < 0 ? errno : ENOMEM));
    goto fail;
  }
  while (n <= max && ((r = read(fd, buf + n, max + 1 - n)) > 0 ||
                      (r < 0 && errno == EINTR)))
    n += r > 0 ? (size_t)r : 0;
  if (r < 0) {
    snprintf(why, why_len, "%s: cannot read: %s", file, strerror(errno));
    goto fail;
  }
  if (n > max) {
    snprintf(why, why_len, "%s: larger than %zu bytes", file, max);
    goto fail;
  }
  close(fd);
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
fail:
  if (fd >= 0) close(fd);
  free(buf);
  return -1;
}

/* Line of byte @p off in @p text, from 1. */
static unsigned line_of(const char *text, size_t off) {
  unsigned line = 1;
  for (size_t i = 0; i < off; i++) line += text[i] == '\n';
  return line;
}

json_object *gxd_json_parse(const char *file, const char *text, size_t len,
                            char *why, size_t why_len) {
  json_tokener *tok = json_tokener_new();
  json_object *root = NULL;
  if (!tok || len > INT32_MAX) {
    snprintf(why, why_len, "%s: out of memory", file);
    goto out;
  }
  /* strict: no trailing text, no comments, no single quotes */
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  root = json_tokener_parse_ex(tok, text, (int)len);
  enum json_tokener_error e = json_tokener_get_error(tok);
  if (!root || e != json_tokener_success) {
    if (e == json_tokener_continue) e = json_tokener_error_parse_eof;
    snprintf(why, why_len, "%s: not valid JSON at line %u: %s", file,
             line_of(text, json_tokener_get_parse_end(tok)),
             json_tokener_error_desc(e));
    json_object_put(root);
    root = NULL;
  }
out:
  if (tok) json_tokener_free(tok);
  return root;
}

/* ---------------------------------------------------------- key check */

#define TEXT_OF(x) #x
#define TEXT(x) TEXT_OF(x)
#define KEYS_MAX_TEXT TEXT(GXD_JSON_MAX_KEYS)

/* One open object or array of the text being scanned. */
typedef struct {
  int object;     /* 1: an object; 0: an array */
  int expect_key; /* the next string is a key */
  size_t n;       /* keys seen */
  uint32_t off[GXD_JSON_MAX_KEYS], len[GXD_JSON_MAX_KEYS];
} level;

typedef struct {
  const char *file, *text;
  char *why;
  size_t why_len;
} scan;

static int scan_err(const scan *s, size_t at, const char *what, size_t klen,
                    const char *key) {
  snprintf(s->why, s->why_len, "%s: line %u: %s '%.*s'", s->file,
           line_of(s->text, at), what, (int)(klen > 40 ? 40 : klen), key);
  return -1;
}

/* The end of the string whose opening quote is at @p i (its closing
 * quote's offset). */
static size_t string_end(const char *t, size_t len, size_t i) {
  for (i++; i < len && t[i] != '"'; i++)
    if (t[i] == '\\') i++;
  return i;
}

/* Records the key at @p off (@p klen bytes, quotes excluded) in @p l. */
static int take_key(const scan *s, level *l, size_t off, size_t klen) {
  const char *key = s->text + off;
  if (memchr(key, '\\', klen))
    return scan_err(s, off, "a key written with an escape:", klen, key);
  for (size_t k = 0; k < l->n; k++)
    if (l->len[k] == klen && memcmp(s->text + l->off[k], key, klen) == 0)
      return scan_err(s, off, "duplicate key", klen, key);
  if (l->n == GXD_JSON_MAX_KEYS)
    return scan_err(s, off,
                    "more than " KEYS_MAX_TEXT
                    " keys in one object, "
                    "at",
                    klen, key);
  l->off[l->n] = (uint32_t)off;
  l->len[l->n++] = (uint32_t)klen;
  l->expect_key = 0;
  return 0;
}

int gxd_json_check_keys(const char *file, const char *text, size_t len,
                        char *why, size_t why_len) {
  level stack[GXD_JSON_MAX_DEPTH];
  scan s = {file, text, why, why_len};
  int depth = 0;
  if (len > INT32_MAX) return scan_err(&s, 0, "too large", 0, "");
  for (size_t i = 0; i < len; i++) {
    level *top = depth ? &stack[depth - 1] : NULL;
    char c = text[i];
    if (c == '"') {
      size_t end = string_end(text, len, i);
      if (top && top->object && top->expect_key &&
          take_key(&s, top, i + 1, end - i - 1) != 0)
        return -1;
      i = end;
    } else if (c == '{' || c == '[') {
      if (depth == GXD_JSON_MAX_DEPTH)
        return scan_err(&s, i, "nested too deep at", 1, &text[i]);
      stack[depth++] = (level){.object = c == '{', .expect_key = c == '{'};
    } else if (c == '}' || c == ']') {
      depth -= depth > 0;
    } else if (c == ',' && top && top->object) {
      top->expect_key = 1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------ values */

void gxd_json_entry_verr(char *why, size_t why_len, const char *file,
                         const char *kind, const char *name, size_t index,
                         const char *fmt, va_list ap) {
  char msg[400];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (name)
    snprintf(why, why_len, "%s: %s '%s': %s", file, kind, name, msg);
  else
    snprintf(why, why_len, "%s: %ss[%zu]: %s", file, kind, index, msg);
}

const char *gxd_json_unknown_key(json_object *obj, const char *const *keys) {
  json_object_object_foreach(obj, key, val) {
    (void)val;
    size_t k = 0;
    while (keys[k] && strcmp(keys[k], key) != 0) k++;
    if (!keys[k]) return key;
  }
  return NULL;
}

json_object *gxd_json_top_array(const char *file, json_object *root,
                                const char *key, char *why, size_t why_len) {
  const char *const keys[] = {key, NULL};
  const char *other;
  json_object *arr;
  if (!json_object_is_type(root, json_type_object)) {
    snprintf(why, why_len,
             "%s: expected an object with a \"%s\" array, "
             "not %s",
             file, key, gxd_json_type_name(root));
    return NULL;
  }
  if ((other = gxd_json_unknown_key(root, keys))) {
    snprintf(why, why_len, "%s: unknown key '%.40s' (expected %s)", file, other,
             key);
    return NULL;
  }
  if (!json_object_object_get_ex(root, key, &arr)) {
    snprintf(why, why_len, "%s: no \"%s\" array", file, key);
    return NULL;
  }
  if (!json_object_is_type(arr, json_type_array)) {
    snprintf(why, why_len, "%s: %s: expected an array, not %s", file, key,
             gxd_json_type_name(arr));
    return NULL;
  }
  return arr;
}

const char *gxd_json_text(json_object *v) {
  if (!json_object_is_type(v, json_type_string)) return NULL;
  const char *s = json_object_get_string(v);
  return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

const char *gxd_json_type_name(json_object *v) {
  switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a fraction";
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string:
      return gxd_json_text(v) ? "a string" : "a string with a NUL byte";
  }
  return "something else";
}
