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

static int check_env(const Gexec__V1__Start *s, size_t *bytes, char *why,
                     size_t len) {
  for (size_t i = 0; i < s->n_env; i++) {
    const char *k = s->env[i]->key, *v = s->env[i]->value;
    if (!k || !*k) return invalid(why, len, "env: empty variable name");
    if (strchr(k, '='))
      return invalid(why, len, "env: variable name '%.64s' contains '='", k);
    *bytes += strlen(k) + (v ? strlen(v) : 0) + 2;
  }
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

int gxd_validate_start(const Gexec__V1__Start *s, const gxd_limits *lim,
                       char *why, size_t len) {
  size_t bytes = 0;
  int st;
  if (s->n_argv == 0 || !s->argv[0] || !s->argv[0][0])
    return invalid(why, len, "argv is empty: name a program to run");
  if (s->n_argv > lim->max_argc)
    return invalid(why, len, "argv has %zu elements; the limit is %zu",
                   s->n_argv, lim->max_argc);
  if (s->n_env > lim->max_envc)
    return invalid(why, len, "env has %zu entries; the limit is %zu",
                   s->n_env, lim->max_envc);
  for (size_t i = 0; i < s->n_argv; i++) bytes += strlen(s->argv[i]) + 1;
  if ((st = check_env(s, &bytes, why, len)) != GX_STATUS_OK) return st;
  if (bytes > lim->max_arg_bytes)
    return invalid(why, len, "argv and env total %zu bytes; the limit is %zu",
                   bytes, lim->max_arg_bytes);
  if (s->cwd && s->cwd[0] && s->cwd[0] != '/')
    return invalid(why, len, "cwd '%.200s' must be an absolute path", s->cwd);
  if (s->cwd && strlen(s->cwd) >= PATH_MAX)
    return invalid(why, len, "cwd is longer than %d bytes", PATH_MAX - 1);
  if (s->timeout_ms > lim->max_timeout_ms)
    return invalid(why, len,
                   "timeout_ms %llu exceeds the daemon's maximum of %llu ms "
                   "(0 means the maximum)",
                   (unsigned long long)s->timeout_ms,
                   (unsigned long long)lim->max_timeout_ms);
  if (s->kill_grace_ms > lim->max_grace_ms)
    return invalid(why, len, "kill_grace_ms %u exceeds the maximum of %u ms",
                   s->kill_grace_ms, lim->max_grace_ms);
  return check_modes(s, why, len);
}

int gxd_validate_signal(int32_t number, char *why, size_t len) {
  if (number < 1 || number > 64)
    return invalid(why, len,
                   "signal %d is not a valid signal number (1..64)", number);
  return GX_STATUS_OK;
}
