/* The JSON object of `gexec run --json`: see json_out.h. */
#include "client/cli/json_out.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/exitcode.h"

/* ------------------------------------------------------------ UTF-8 */

/* Classifies a lead byte: how many continuation bytes follow, and the
 * allowed range of the first one (RFC 3629 / Unicode table 3-7).
 * Returns -1 for a byte that cannot start a sequence. */
static int utf8_lead(uint8_t b, uint8_t *lo, uint8_t *hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (b < 0x80) return 0;
  if (b >= 0xC2 && b <= 0xDF) return 1;
  if (b == 0xE0) return *lo = 0xA0, 2;
  if (b == 0xED) return *hi = 0x9F, 2;
  if (b >= 0xE1 && b <= 0xEF) return 2;
  if (b == 0xF0) return *lo = 0x90, 3;
  if (b == 0xF4) return *hi = 0x8F, 3;
  if (b >= 0xF1 && b <= 0xF3) return 3;
  return -1;
}

/* Returns the length of the valid sequence at @p s (1..4), or minus the
 * length of its maximal invalid subpart (at least 1). */
static int utf8_seq(const uint8_t *s, size_t len) {
  uint8_t lo, hi;
  int need = utf8_lead(s[0], &lo, &hi);
  if (need < 0) return -1;
  for (int i = 1; i <= need; i++) {
    if ((size_t)i >= len || s[i] < lo || s[i] > hi) return -i;
    lo = 0x80;
    hi = 0xBF;
  }
  return need + 1;
}

int gxc_utf8_valid(const uint8_t *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    int n = utf8_seq(s + i, len - i);
    if (n < 0) return 0;
    i += (size_t)n;
  }
  return 1;
}

size_t gxc_utf8_lossy(const uint8_t *s, size_t len, char *out, size_t cap) {
  static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
  size_t i = 0, o = 0;
  while (i < len && o + 4 <= cap) {
    int n = utf8_seq(s + i, len - i);
    if (n > 0) {
      memcpy(out + o, s + i, (size_t)n);
      o += (size_t)n;
      i += (size_t)n;
    } else {
      memcpy(out + o, fffd, sizeof fffd);
      o += sizeof fffd;
      i += (size_t)-n;
    }
  }
  if (cap) out[o < cap ? o : cap - 1] = '\0';
  return o;
}

/* ----------------------------------------------------------- base64 */

size_t gxc_base64(const uint8_t *s, size_t len, char *out, size_t cap) {
  static const char abc[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len && o + 5 <= cap; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16;
    if (i + 1 < len) v |= (uint32_t)s[i + 1] << 8;
    if (i + 2 < len) v |= s[i + 2];
    out[o++] = abc[v >> 18];
    out[o++] = abc[(v >> 12) & 63];
    out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? abc[v & 63] : '=';
  }
  if (cap) out[o] = '\0';
  return o;
}

/* ---------------------------------------------------- json-c helpers */

/* Adds @p v (a new reference, NULL only when allocation failed) under
 * @p key. Returns 0, or -1 after releasing @p v. */
static int put(json_object *o, const char *key, json_object *v) {
  if (!v || json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return -1;
  }
  return 0;
}

static int put_null(json_object *o, const char *key) {
  return json_object_object_add(o, key, NULL) == 0 ? 0 : -1;
}

/* Returns a JSON string of @p s as UTF-8, invalid sequences replaced. */
static json_object *new_text(const uint8_t *s, size_t len) {
  if (len > INT_MAX / 3 - 1) return NULL;
  if (gxc_utf8_valid(s, len))
    return json_object_new_string_len((const char *)s, (int)len);
  size_t cap = 3 * len + 1;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  size_t n = gxc_utf8_lossy(s, len, buf, cap);
  json_object *v = json_object_new_string_len(buf, (int)n);
  free(buf);
  return v;
}

static json_object *new_cstr(const char *s) {
  return new_text((const uint8_t *)s, strlen(s));
}

static json_object *new_base64(const uint8_t *s, size_t len) {
  if (len > (size_t)INT_MAX / 4 * 3 - 3) return NULL;
  size_t cap = 4 * ((len + 2) / 3) + 1;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  size_t n = gxc_base64(s, len, buf, cap);
  json_object *v = json_object_new_string_len(buf, (int)n);
  free(buf);
  return v;
}

/* ------------------------------------------------------------ fields */

static int add_head(json_object *o, const gxc_json_run *r) {
  int rc = r->target ? put(o, "target", new_cstr(r->target))
                     : put_null(o, "target");
  if (rc != 0) return -1;
  json_object *argv = json_object_new_array();
  if (put(o, "argv", argv) != 0) return -1;
  for (size_t i = 0; r->argv && r->argv[i]; i++) {
    json_object *s = new_cstr(r->argv[i]);
    if (!s || json_object_array_add(argv, s) != 0)
      return json_object_put(s), -1;
  }
  return 0;
}

/* Adds exit_code and signal: exactly one of them is a number. */
static int add_status(json_object *o, const gxc_json_run *r) {
  const gexec_exit *e = &r->exit;
  if (!r->has_exit) return put_null(o, "exit_code") | put_null(o, "signal");
  if (e->signal)
    return put_null(o, "exit_code") |
           put(o, "signal", json_object_new_int(e->signal));
  return put(o, "exit_code", json_object_new_int(e->exit_code)) |
         put_null(o, "signal");
}

static int add_flags(json_object *o, const gxc_json_run *r) {
  const gexec_exit *e = &r->exit;
  int trunc = r->capture_truncated || (r->has_exit && e->output_truncated);
  int rc = 0;
  if (r->has_exit) {
    rc |= put(o, "core_dumped", json_object_new_boolean(e->core_dumped));
    rc |= put(o, "timed_out", json_object_new_boolean(e->timed_out));
    rc |= put(o, "oom_killed", json_object_new_boolean(e->oom_killed));
  } else {
    rc |= put_null(o, "core_dumped") | put_null(o, "timed_out") |
          put_null(o, "oom_killed");
  }
  return rc | put(o, "output_truncated", json_object_new_boolean(trunc));
}

static int add_usage(json_object *o, const gxc_json_run *r) {
  static const char *const keys[4] = {"user_time_us", "system_time_us",
                                      "max_rss_kb", "wall_time_us"};
  const gexec_exit *e = &r->exit;
  const uint64_t vals[4] = {e->user_time_us, e->system_time_us,
                            e->max_rss_kb, e->wall_time_us};
  uint32_t pid = r->has_exit && e->pid ? e->pid : r->pid;
  uint64_t run_id = r->has_exit && e->run_id ? e->run_id : r->run_id;
  int rc = pid ? put(o, "pid", json_object_new_int64(pid))
               : put_null(o, "pid");
  rc |= run_id ? put(o, "run_id", json_object_new_uint64(run_id))
               : put_null(o, "run_id");
  for (int i = 0; i < 4; i++)
    rc |= r->has_exit ? put(o, keys[i], json_object_new_uint64(vals[i]))
                      : put_null(o, keys[i]);
  return rc;
}

int gxc_isolation_reported(const gexec_isolation *i) {
  return i->profile[0] || i->namespaces[0] || i->cgroup[0] ||
         i->description[0] || i->seccomp || i->uid || i->read_only_root ||
         i->no_new_privs;
}

/* Adds the comma-separated @p list as an array of strings. */
static int add_names(json_object *o, const char *key, const char *list) {
  json_object *arr = json_object_new_array();
  if (put(o, key, arr) != 0) return -1;
  while (*list) {
    size_t n = strcspn(list, ",");
    if (n > 0) {
      json_object *s = new_text((const uint8_t *)list, n);
      if (!s || json_object_array_add(arr, s) != 0)
        return json_object_put(s), -1;
    }
    list += n;
    if (*list == ',') list++;
  }
  return 0;
}

/* Adds "isolation": the object, or null when there is none to show. */
static int add_isolation(json_object *o, const gxc_json_run *r) {
  const gexec_isolation *i = &r->exit.isolation;
  if (!r->has_exit || !gxc_isolation_reported(i))
    return put_null(o, "isolation");
  json_object *v = json_object_new_object();
  if (put(o, "isolation", v) != 0) return -1;
  int rc = i->profile[0] ? put(v, "profile", new_cstr(i->profile))
                         : put_null(v, "profile");
  if (rc || add_names(v, "namespaces", i->namespaces) != 0) return -1;
  rc = i->cgroup[0] ? put(v, "cgroup", new_cstr(i->cgroup))
                    : put_null(v, "cgroup");
  return rc | put(v, "seccomp", json_object_new_boolean(i->seccomp)) |
         put(v, "uid", json_object_new_int64(i->uid)) |
         put(v, "read_only_root",
             json_object_new_boolean(i->read_only_root)) |
         put(v, "no_new_privs", json_object_new_boolean(i->no_new_privs)) |
         put(v, "description", new_cstr(i->description));
}

/* Adds "NAME" and, when the bytes are not UTF-8, "NAME_base64". */
static int add_stream(json_object *o, const char *name, const uint8_t *s,
                      size_t len) {
  static const uint8_t empty[1] = {0};
  char key[32];
  if (!s) s = empty, len = 0;
  if (put(o, name, new_text(s, len)) != 0) return -1;
  if (gxc_utf8_valid(s, len)) return 0;
  snprintf(key, sizeof key, "%s_base64", name);
  return put(o, key, new_base64(s, len));
}

static int add_error(json_object *o, const gxc_json_run *r) {
  if (r->rc == GEXEC_OK) return put_null(o, "error");
  int st = gxc_status_of(r->rc, r->error);
  const char *msg = r->error && r->error->message[0] ? r->error->message
                                                     : gexec_strerror(r->rc);
  json_object *e = json_object_new_object();
  if (put(o, "error", e) != 0) return -1;
  return put(e, "status", new_cstr(gexec_status_name(st))) |
         put(e, "code", json_object_new_int(st)) |
         put(e, "message", new_cstr(msg));
}

json_object *gxc_json_build(const gxc_json_run *r) {
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  if (add_head(o, r) || add_status(o, r) || add_flags(o, r) ||
      add_usage(o, r) || add_isolation(o, r) || add_stream(o, "stdout", r->out, r->out_len) ||
      add_stream(o, "stderr", r->err, r->err_len) || add_error(o, r)) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

const char *gxc_json_text(json_object *obj, size_t *len) {
  return json_object_to_json_string_length(
      obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}
