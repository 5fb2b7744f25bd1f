#include "server/validate.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/gx_err.h"

const gxd_limits gxd_default_limits = {
    .max_argc = 4096,
    .max_envc = 1024,
    .max_arg_bytes = 1u << 20,
    .max_timeout_ms = 24ull * 3600 * 1000,
    .max_grace_ms = 60000,
    .max_open_files = GXD_LIMIT_OPEN_FILES_MAX,
};

/* ------------------------------------------------------------ wire scan */

typedef struct {
  const uint8_t *p, *end;
} cursor;

static int read_varint(cursor *c, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64 && c->p < c->end; shift += 7) {
    uint8_t b = *c->p++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return 0;
  }
  return -1;
}

/* Reads one field; for length-delimited ones sets *sub to the payload. */
static int next_field(cursor *c, uint32_t *num, cursor *sub) {
  uint64_t key, v;
  if (read_varint(c, &key) != 0) return -1;
  *num = (uint32_t)(key >> 3);
  sub->p = sub->end = NULL;
  switch (key & 7) {
    case 0: return read_varint(c, &v);
    case 1: if (c->end - c->p < 8) return -1; c->p += 8; return 0;
    case 5: if (c->end - c->p < 4) return -1; c->p += 4; return 0;
    case 2:
      if (read_varint(c, &v) != 0 || v > (uint64_t)(c->end - c->p)) return -1;
      sub->p = c->p;
      sub->end = c->p + v;
      c->p += v;
      return 0;
    default: return -1;
  }
}

static int has_nul(const cursor *s) {
  return s->p && memchr(s->p, 0, (size_t)(s->end - s->p)) != NULL;
}

static const char *scan_env_entry(cursor c) {
  uint32_t num;
  cursor sub;
  while (c.p < c.end && next_field(&c, &num, &sub) == 0)
    if ((num == 1 || num == 2) && has_nul(&sub))
      return num == 1 ? "env name" : "env value";
  return NULL;
}

static const char *scan_start(cursor c) {
  uint32_t num;
  cursor sub;
  while (c.p < c.end && next_field(&c, &num, &sub) == 0) {
    if (num == 1 && has_nul(&sub)) return "argv";
    if (num == 3 && has_nul(&sub)) return "cwd";
    if (num == 10 && has_nul(&sub)) return "profile";
    if (num == 12 && has_nul(&sub)) return "user";
    if (num == 2 && sub.p) {
      const char *f = scan_env_entry(sub);
      if (f) return f;
    }
  }
  return NULL; /* malformed bytes are left to the real parser */
}

const char *gxd_wire_find_nul(const uint8_t *buf, size_t len) {
  cursor c = {buf, buf + len}, sub;
  uint32_t num;
  /* a repeated `start` decodes as the last one: scan every occurrence */
  while (c.p < c.end && next_field(&c, &num, &sub) == 0) {
    const char *f = num == 1 && sub.p ? scan_start(sub) : NULL;
    if (f) return f;
  }
  return NULL;
}

/* ---------------------------------------------------------------- UTF-8 */

/* Length of the UTF-8 sequence led by @p c (0: @p c cannot lead one)
 * and the range its second byte must fall in, which is what excludes
 * overlong forms, surrogates and code points above U+10FFFF. */
static int utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) return 2; /* C0, C1: overlong ASCII */
  if (c >= 0xE0 && c <= 0xEF) {
    if (c == 0xE0) *lo = 0xA0; /* below U+0800: overlong */
    if (c == 0xED) *hi = 0x9F; /* U+D800..DFFF: surrogates */
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (c == 0xF0) *lo = 0x90; /* below U+10000: overlong */
    if (c == 0xF4) *hi = 0x8F; /* above U+10FFFF */
    return 4;
  }
  return 0; /* a continuation byte, or F5..FF */
}

long gxd_utf8_invalid_at(const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (s[i]) {
    unsigned char lo = 0x80, hi = 0xBF;
    int n = s[i] < 0x80 ? 1 : utf8_lead(s[i], &lo, &hi);
    /* each byte is read only after the one before it proved non-NUL */
    if (n == 0 || (n > 1 && (s[i + 1] < lo || s[i + 1] > hi)))
      return (long)i;
    for (int k = 2; k < n; k++)
      if ((s[i + k] & 0xC0) != 0x80) return (long)i;
    i += (size_t)n;
  }
  return -1;
}

/* Bytes of the valid UTF-8 string @p s to print within @p max without
 * cutting a character in two (for "%.*s"). */
static int utf8_cut(const char *s, int max) {
  size_t n = strnlen(s, (size_t)max);
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  return (int)n;
}

/* ----------------------------------------------------------- semantics */

static int invalid(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(char *why, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
  return GX_STATUS_INVALID_ARGUMENT;
}

/* Refuses @p str (NULL counts as empty) unless it is valid UTF-8, as
 * proto3 requires of a string; @p what names it in the reason. */
static int utf8_only(const char *str, const char *what, char *why,
                     size_t len) {
  long at = str ? gxd_utf8_invalid_at(str) : -1;
  if (at < 0) return GX_STATUS_OK;
  return invalid(why, len, "%s is not valid UTF-8 (byte offset %ld)", what,
                 at);
}

static int check_utf8(const Gexec__V1__Start *s, char *why, size_t len) {
  char what[96];
  int st = GX_STATUS_OK;
  for (size_t i = 0; i < s->n_argv && st == GX_STATUS_OK; i++) {
    snprintf(what, sizeof what, "argv[%zu]", i);
    st = utf8_only(s->argv[i], what, why, len);
  }
  for (size_t i = 0; i < s->n_env && st == GX_STATUS_OK; i++) {
    const char *k = s->env[i]->key;
    snprintf(what, sizeof what, "env[%zu] name", i);
    st = utf8_only(k, what, why, len);
    if (st != GX_STATUS_OK) break;
    snprintf(what, sizeof what, "env '%.*s' value", utf8_cut(k ? k : "", 64),
             k ? k : "");
    st = utf8_only(s->env[i]->value, what, why, len);
  }
  if (st == GX_STATUS_OK) st = utf8_only(s->cwd, "cwd", why, len);
  if (st == GX_STATUS_OK) st = utf8_only(s->profile, "profile", why, len);
  if (st == GX_STATUS_OK) st = utf8_only(s->user, "user", why, len);
  return st;
}

/* The PATH a program name is looked up in: bounded, or the lookup is. */
static int check_path(const char *v, char *why, size_t len) {
  size_t elements = 1, bytes = strlen(v);
  for (const char *p = strchr(v, ':'); p; p = strchr(p + 1, ':'))
    elements++;
  if (elements > GXD_MAX_PATH_ENTRIES)
    return invalid(why, len, "env PATH has %zu elements; the limit is %d",
                   elements, GXD_MAX_PATH_ENTRIES);
  if (bytes > GXD_MAX_PATH_BYTES)
    return invalid(why, len, "env PATH is %zu bytes long; the limit is %d",
                   bytes, GXD_MAX_PATH_BYTES);
  return GX_STATUS_OK;
}

static int check_env(const Gexec__V1__Start *s, size_t *bytes, char *why,
                     size_t len) {
  for (size_t i = 0; i < s->n_env; i++) {
    const char *k = s->env[i]->key, *v = s->env[i]->value;
    if (!k || !*k) return invalid(why, len, "env: empty variable name");
    if (strchr(k, '='))
      return invalid(why, len, "env: variable name '%.*s' contains '='",
                     utf8_cut(k, 64), k);
    if (v && !strcmp(k, "PATH") && check_path(v, why, len) != GX_STATUS_OK)
      return GX_STATUS_INVALID_ARGUMENT;
    *bytes += strlen(k) + (v ? strlen(v) : 0) + 2;
  }
  return GX_STATUS_OK;
}

/* Each limit is 0 (the profile's default) or within its range. */
static int check_limits(const Gexec__V1__Limits *l, const gxd_limits *lim,
                        char *why, size_t len) {
  if (!l) return GX_STATUS_OK;
  const struct {
    const char *name;
    uint64_t v, min, max;
  } r[4] = {
      {"memory_bytes", l->memory_bytes, GXD_LIMIT_MEMORY_MIN,
       GXD_LIMIT_MEMORY_MAX},
      {"pids", l->pids, GXD_LIMIT_PIDS_MIN, GXD_LIMIT_PIDS_MAX},
      {"cpu_time_ms", l->cpu_time_ms, GXD_LIMIT_CPU_TIME_MIN_MS,
       GXD_LIMIT_CPU_TIME_MAX_MS},
      {"open_files", l->open_files, GXD_LIMIT_OPEN_FILES_MIN,
       lim->max_open_files},
  };
  for (int i = 0; i < 4; i++)
    if (r[i].v && (r[i].v < r[i].min || r[i].v > r[i].max))
      return invalid(why, len,
                     "limits.%s %llu is outside %llu..%llu (0 means the "
                     "profile's default)", r[i].name,
                     (unsigned long long)r[i].v,
                     (unsigned long long)r[i].min,
                     (unsigned long long)r[i].max);
  return GX_STATUS_OK;
}

static int check_modes(const Gexec__V1__Start *s, char *why, size_t len) {
  if ((unsigned)s->stdin_mode > GEXEC__V1__STDIN_MODE__STDIN_NULL)
    return invalid(why, len, "stdin_mode %d is not a known mode",
                   (int)s->stdin_mode);
  if ((unsigned)s->stdout_mode > GEXEC__V1__OUTPUT_MODE__OUTPUT_DISCARD)
    return invalid(why, len,
                   "stdout_mode %d is not valid (PIPE or DISCARD; "
                   "OUTPUT_TO_STDOUT applies to stderr only)",
                   (int)s->stdout_mode);
  if ((unsigned)s->stderr_mode > GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT)
    return invalid(why, len, "stderr_mode %d is not a known mode",
                   (int)s->stderr_mode);
  if (s->stderr_mode == GEXEC__V1__OUTPUT_MODE__OUTPUT_TO_STDOUT &&
      s->stdout_mode != GEXEC__V1__OUTPUT_MODE__OUTPUT_PIPE)
    return invalid(why, len,
                   "stderr_mode OUTPUT_TO_STDOUT needs stdout_mode "
                   "OUTPUT_PIPE");
  return GX_STATUS_OK;
}

static int check_counts(const Gexec__V1__Start *s, const gxd_limits *lim,
                        char *why, size_t len) {
  if (s->n_argv == 0 || !s->argv[0] || !s->argv[0][0])
    return invalid(why, len, "argv is empty: name a program to run");
  if (s->n_argv > lim->max_argc)
    return invalid(why, len, "argv has %zu elements; the limit is %zu",
                   s->n_argv, lim->max_argc);
  if (s->n_env > lim->max_envc)
    return invalid(why, len, "env has %zu entries; the limit is %zu",
                   s->n_env, lim->max_envc);
  return GX_STATUS_OK;
}

static int check_strings(const Gexec__V1__Start *s, const gxd_limits *lim,
                         char *why, size_t len) {
  size_t bytes = 0;
  int st;
  for (size_t i = 0; i < s->n_argv; i++) bytes += strlen(s->argv[i]) + 1;
  if ((st = check_env(s, &bytes, why, len)) != GX_STATUS_OK) return st;
  if (bytes > lim->max_arg_bytes)
    return invalid(why, len, "argv and env total %zu bytes; the limit is %zu",
                   bytes, lim->max_arg_bytes);
  if (s->cwd && s->cwd[0] && s->cwd[0] != '/')
    return invalid(why, len, "cwd '%.*s' must be an absolute path",
                   utf8_cut(s->cwd, 200), s->cwd);
  if (s->cwd && strlen(s->cwd) >= PATH_MAX)
    return invalid(why, len, "cwd is longer than %d bytes", PATH_MAX - 1);
  return GX_STATUS_OK;
}

int gxd_validate_start(const Gexec__V1__Start *s, const gxd_limits *lim,
                       char *why, size_t len) {
  int st = check_counts(s, lim, why, len);
  if (st == GX_STATUS_OK) st = check_utf8(s, why, len);
  if (st == GX_STATUS_OK) st = check_strings(s, lim, why, len);
  if (st != GX_STATUS_OK) return st;
  if (s->timeout_ms > lim->max_timeout_ms)
    return invalid(why, len,
                   "timeout_ms %llu exceeds the daemon's maximum of %llu ms "
                   "(0 means the maximum)",
                   (unsigned long long)s->timeout_ms,
                   (unsigned long long)lim->max_timeout_ms);
  if (s->kill_grace_ms > lim->max_grace_ms)
    return invalid(why, len, "kill_grace_ms %u exceeds the maximum of %u ms",
                   s->kill_grace_ms, lim->max_grace_ms);
  if ((st = check_limits(s->limits, lim, why, len)) != GX_STATUS_OK)
    return st;
  if (s->user && s->user[0] &&
      (st = gxd_validate_user_name(s->user, why, len)) != GX_STATUS_OK)
    return st;
  return check_modes(s, why, len);
}

static int name_char(char c, int first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         (c == '-' && !first);
}

int gxd_validate_user_name(const char *name, char *why, size_t len) {
  static const char rule[] =
      "a user name is 1 to 32 bytes of [A-Za-z0-9_.-], not starting "
      "with '-'";
  size_t n = name ? strnlen(name, GXD_USER_NAME_MAX + 1) : 0, digits = 0;
  if (n == 0) return invalid(why, len, "user is empty (%s)", rule);
  if (n > GXD_USER_NAME_MAX)
    return invalid(why, len, "user is longer than %d bytes (%s)",
                   GXD_USER_NAME_MAX, rule);
  for (size_t i = 0; i < n; i++) {
    if (!name_char(name[i], i == 0))
      return invalid(why, len, "user '%.*s' is not a valid user name (%s)",
                     utf8_cut(name, 64), name, rule);
    digits += name[i] >= '0' && name[i] <= '9';
  }
  if (digits == n)
    return invalid(why, len, "user '%s' is a number: name the user (a "
                   "numeric uid is not accepted)", name);
  return GX_STATUS_OK;
}

int gxd_validate_signal(int32_t number, char *why, size_t len) {
  if (number < 1 || number > 64)
    return invalid(why, len,
                   "signal %d is not a valid signal number (1..64)", number);
  return GX_STATUS_OK;
}
