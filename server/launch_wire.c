/* The daemon <-> launcher contract; see launch_wire.h. */
#include "server/launch_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char magic[8] = "GXLRQ3\n";
/* magic, four counts, then has_ids, uid, gid, ngroups */
#define HEADER_LEN (sizeof magic + 8 * 4)
#define NO_ID 0xFFFFFFFFu

/* ------------------------------------------------------------ request */

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Appends @p n strings to @p p; returns the end. */
static uint8_t *put_strings(uint8_t *p, char *const *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(s[i]) + 1;
    memcpy(p, s[i], l);
    p += l;
  }
  return p;
}

/* Whether @p ids may be taken: a bounded list, and no id that set*id(2)
 * would read as "leave unchanged". */
static int ids_valid(const gxl_ids *ids) {
  if (ids->ngroups > GXL_REQUEST_MAX_GROUPS || ids->uid == NO_ID ||
      ids->gid == NO_ID)
    return 0;
  for (uint32_t i = 0; i < ids->ngroups; i++)
    if (ids->groups[i] == NO_ID) return 0;
  return 1;
}

/* Writes has_ids, uid, gid, ngroups and the groups at @p p; returns the
 * end. */
static uint8_t *put_ids(uint8_t *p, const gxl_request *r) {
  const gxl_ids *ids = &r->ids;
  uint32_t n = r->has_ids ? ids->ngroups : 0;
  put_u32(p, r->has_ids ? 1 : 0);
  put_u32(p + 4, r->has_ids ? ids->uid : 0);
  put_u32(p + 8, r->has_ids ? ids->gid : 0);
  put_u32(p + 12, n);
  for (uint32_t i = 0; i < n; i++) put_u32(p + 16 + 4 * i, ids->groups[i]);
  return p + 16 + 4 * n;
}

int gxl_request_encode(const gxl_request *r, uint8_t **out, size_t *len) {
  size_t bytes, idbytes = r->has_ids ? 4 * (size_t)r->ids.ngroups : 0;
  if (!r->cwd || (r->has_ids && !ids_valid(&r->ids))) return -EINVAL;
  if (r->argc > GXL_REQUEST_MAX_ARGS || r->envc > GXL_REQUEST_MAX_ENV ||
      r->allowc > GXL_REQUEST_MAX_ALLOW)
    return -E2BIG;
  bytes = strlen(r->cwd) + 1;
  for (size_t i = 0; i < r->argc && bytes <= GXL_REQUEST_MAX; i++)
    bytes += strlen(r->argv[i]) + 1;
  for (size_t i = 0; i < r->envc && bytes <= GXL_REQUEST_MAX; i++)
    bytes += strlen(r->envp[i]) + 1;
  for (size_t i = 0; i < r->allowc && bytes <= GXL_REQUEST_MAX; i++)
    bytes += strlen(r->allow[i]) + 1;
  if (bytes > GXL_REQUEST_MAX - HEADER_LEN - idbytes) return -E2BIG;
  uint8_t *buf = malloc(HEADER_LEN + idbytes + bytes);
  if (!buf) return -ENOMEM;
  memcpy(buf, magic, sizeof magic);
  put_u32(buf + 8, (uint32_t)r->argc);
  put_u32(buf + 12, (uint32_t)r->envc);
  put_u32(buf + 16, (uint32_t)r->allowc);
  put_u32(buf + 20, (uint32_t)bytes);
  uint8_t *p = put_ids(buf + 24, r);
  memcpy(p, r->cwd, strlen(r->cwd) + 1);
  p += strlen(r->cwd) + 1;
  p = put_strings(p, r->argv, r->argc);
  p = put_strings(p, r->envp, r->envc);
  put_strings(p, r->allow, r->allowc);
  *out = buf;
  *len = HEADER_LEN + idbytes + bytes;
  return 0;
}

static int bad(char *why, size_t len, const char *msg) {
  snprintf(why, len, "malformed launch request: %s", msg);
  return -EINVAL;
}

/* Points @p v[0..n-1] at the next @p n strings of @p *p (which are known
 * to be there) and NULL-terminates @p v. */
static void take_strings(char **p, char **v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    v[i] = *p;
    *p += strlen(*p) + 1;
  }
  v[n] = NULL;
}

/* Why the allow list @p allow is not valid (see launch_wire.h), or NULL:
 * each entry an absolute path or a glob that can match one, bounded. */
static const char *check_allow(char *const *allow, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!allow[i][0] || !strchr("/*?[", allow[i][0]))
      return "an allowed program is neither an absolute path nor a glob";
    if (strlen(allow[i]) > GXL_ALLOW_ENTRY_MAX)
      return "an allowed program is longer than 4095 bytes";
  }
  return NULL;
}

/* Reads the ids (the header is there, the groups not yet checked to
 * be); fills r->has_ids and r->ids. Returns 0 or -EINVAL. */
static int take_ids(const uint8_t *buf, size_t len, gxl_request *r,
                    char *why, size_t why_len) {
  uint32_t has = get_u32(buf + 24);
  gxl_ids *ids = &r->ids;
  memset(ids, 0, sizeof *ids);
  ids->uid = get_u32(buf + 28);
  ids->gid = get_u32(buf + 32);
  ids->ngroups = get_u32(buf + 36);
  if (has > 1 || (!has && (ids->uid || ids->gid || ids->ngroups)))
    return bad(why, why_len, "ids without a user");
  if (ids->ngroups > GXL_REQUEST_MAX_GROUPS)
    return bad(why, why_len, "group count out of range");
  if (len - HEADER_LEN < 4 * (size_t)ids->ngroups)
    return bad(why, why_len, "length does not match");
  for (uint32_t i = 0; i < ids->ngroups; i++)
    ids->groups[i] = get_u32(buf + HEADER_LEN + 4 * i);
  if (has && !ids_valid(ids)) return bad(why, why_len, "an id is -1");
  r->has_ids = (int)has;
  return 0;
}

int gxl_request_decode(const uint8_t *buf, size_t len, gxl_request *r,
                       void **mem, char *why, size_t why_len) {
  *mem = NULL;
  memset(r, 0, sizeof *r);
  if (len < HEADER_LEN || memcmp(buf, magic, sizeof magic) != 0)
    return bad(why, why_len, "no header");
  uint32_t argc = get_u32(buf + 8), envc = get_u32(buf + 12);
  uint32_t allowc = get_u32(buf + 16), slen = get_u32(buf + 20);
  if (argc == 0 || argc > GXL_REQUEST_MAX_ARGS || envc > GXL_REQUEST_MAX_ENV ||
      allowc > GXL_REQUEST_MAX_ALLOW)
    return bad(why, why_len, "argument or environment count out of range");
  if (len > GXL_REQUEST_MAX) return bad(why, why_len, "length does not match");
  if (take_ids(buf, len, r, why, why_len) != 0) return -EINVAL;
  size_t idbytes = 4 * (size_t)r->ids.ngroups;
  if (slen != len - HEADER_LEN - idbytes || slen == 0)
    return bad(why, why_len, "length does not match");
  const uint8_t *s = buf + HEADER_LEN + idbytes;
  size_t nuls = 0;
  for (size_t i = 0; i < slen; i++) nuls += s[i] == 0;
  if (nuls != 1 + (size_t)argc + envc + allowc || s[slen - 1] != 0)
    return bad(why, why_len, "string count does not match");
  /* one block: argv, envp and allow arrays, then a copy of the strings */
  size_t ptrs = (size_t)argc + 1 + envc + 1 + allowc + 1;
  char **v = malloc(ptrs * sizeof *v + slen);
  if (!v) return -ENOMEM;
  char *p = (char *)(v + ptrs);
  memcpy(p, s, slen);
  r->cwd = p;
  p += strlen(p) + 1;
  take_strings(&p, v, argc);
  take_strings(&p, v + argc + 1, envc);
  take_strings(&p, v + argc + 1 + envc + 1, allowc);
  r->argv = v;
  r->argc = argc;
  r->envp = v + argc + 1;
  r->envc = envc;
  r->allow = v + argc + 1 + envc + 1;
  r->allowc = allowc;
  const char *allow_bad = check_allow(r->allow, allowc);
  if (allow_bad) {
    free(v);
    return bad(why, why_len, allow_bad);
  }
  *mem = v;
  return 0;
}

int gxl_request_read_fd(int fd, gxl_request *r, void **mem, char *why,
                        size_t why_len) {
  size_t cap = 64 * 1024, len = 0;
  uint8_t *buf = malloc(cap);
  int rc = -ENOMEM;
  *mem = NULL;
  if (!buf) return rc;
  for (;;) {
    if (len == cap) { /* one byte beyond the maximum tells "too large" */
      size_t ncap = cap * 2 > GXL_REQUEST_MAX ? GXL_REQUEST_MAX + 1 : cap * 2;
      uint8_t *nb = cap > GXL_REQUEST_MAX ? NULL : realloc(buf, ncap);
      if (!nb) {
        rc = cap > GXL_REQUEST_MAX ? bad(why, why_len, "too large") : rc;
        goto out;
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t n = pread(fd, buf + len, cap - len, (off_t)len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = -errno;
      snprintf(why, why_len, "reading the launch request: %s", strerror(errno));
      goto out;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  rc = gxl_request_decode(buf, len, r, mem, why, why_len);
out:
  free(buf);
  return rc;
}

/* ------------------------------------------------------------ records */

#define REPORT_FMT                                                       \
  "gexec-report v1 exit=%d signal=%d core=%d oom=%d user_us=%" PRIu64  \
  " sys_us=%" PRIu64 " maxrss_kb=%" PRIu64 "\n"
/* field widths keep every number in range of its type (no overflow) */
#define REPORT_SCAN                                                        \
  "gexec-report v1 exit=%3d signal=%2d core=%1d oom=%1d user_us=%19" SCNu64 \
  " sys_us=%19" SCNu64 " maxrss_kb=%19" SCNu64 "%n"

static const char *what_name(gxl_fail_what w) {
  return w == GXL_FAIL_CWD      ? "cwd"
         : w == GXL_FAIL_DENIED ? "denied"
         : w == GXL_FAIL_USER   ? "user"
                                : "program";
}

int gxl_record_format(const gxl_record *rec, char *buf, size_t len) {
  int n = -1;
  const gxl_report *r = &rec->report;
  switch (rec->kind) {
    case GXL_REC_EXEC_OK:
      n = snprintf(buf, len, "gexec-exec v1 ok pid=%d\n", rec->pid);
      break;
    case GXL_REC_EXEC_FAIL:
      n = snprintf(buf, len, "gexec-exec v1 fail what=%s errno=%d\n",
                   what_name(rec->what), rec->err);
      break;
    case GXL_REC_ERROR: {
      char reason[sizeof rec->reason];
      snprintf(reason, sizeof reason, "%s", rec->reason);
      for (char *c = reason; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
      n = snprintf(buf, len, "gexec-error v1 %.400s\n", reason);
      break;
    }
    case GXL_REC_REPORT:
      n = snprintf(buf, len, REPORT_FMT, r->exit_code, r->signal,
                   r->core_dumped ? 1 : 0, r->oom_killed ? 1 : 0, r->user_us,
                   r->sys_us, r->max_rss_kb);
      break;
  }
  return n < 0 || (size_t)n >= len ? -1 : n;
}

void gxl_reader_init(gxl_reader *r) { r->len = 0; }

size_t gxl_reader_room(const gxl_reader *r) { return sizeof r->buf - r->len; }

int gxl_reader_push(gxl_reader *r, const void *data, size_t len) {
  if (len > gxl_reader_room(r)) return -1;
  memcpy(r->buf + r->len, data, len);
  r->len += len;
  return 0;
}

static int parse_report(const char *line, gxl_report *r) {
  int n = 0;
  memset(r, 0, sizeof *r);
  if (sscanf(line, REPORT_SCAN, &r->exit_code, &r->signal, &r->core_dumped,
             &r->oom_killed, &r->user_us, &r->sys_us, &r->max_rss_kb,
             &n) != 7 || line[n] != '\0')
    return -1;
  if (r->exit_code < 0 || r->exit_code > 255 || r->signal < 0 ||
      r->signal > 64 || (r->core_dumped & ~1) || (r->oom_killed & ~1))
    return -1;
  return 0;
}

static int parse_fail(const char *line, gxl_record *rec) {
  char what[16];
  int n = 0;
  if (sscanf(line, "gexec-exec v1 fail what=%15[a-z] errno=%4d%n", what,
             &rec->err, &n) != 2 || line[n] != '\0' || rec->err <= 0 ||
      rec->err > 4095)
    return -1;
  if (strcmp(what, "cwd") == 0) rec->what = GXL_FAIL_CWD;
  else if (strcmp(what, "program") == 0) rec->what = GXL_FAIL_PROGRAM;
  else if (strcmp(what, "denied") == 0) rec->what = GXL_FAIL_DENIED;
  else if (strcmp(what, "user") == 0) rec->what = GXL_FAIL_USER;
  else return -1;
  return 0;
}

/* Parses one line (without its newline). */
static int parse_line(const char *line, gxl_record *rec) {
  static const char err_prefix[] = "gexec-error v1 ";
  memset(rec, 0, sizeof *rec);
  if (strncmp(line, "gexec-exec v1 ok ", 17) == 0) {
    int n = 0;
    rec->kind = GXL_REC_EXEC_OK;
    if (sscanf(line, "gexec-exec v1 ok pid=%9d%n", &rec->pid, &n) != 1 ||
        line[n] != '\0' || rec->pid <= 0)
      return -1;
    return 0;
  }
  if (strncmp(line, "gexec-exec v1 fail ", 19) == 0) {
    rec->kind = GXL_REC_EXEC_FAIL;
    return parse_fail(line, rec);
  }
  if (strncmp(line, err_prefix, sizeof err_prefix - 1) == 0) {
    rec->kind = GXL_REC_ERROR;
    snprintf(rec->reason, sizeof rec->reason, "%.399s",
             line + sizeof err_prefix - 1);
    return 0;
  }
  rec->kind = GXL_REC_REPORT;
  return parse_report(line, &rec->report);
}

int gxl_reader_next(gxl_reader *r, gxl_record *rec) {
  char *nl = memchr(r->buf, '\n', r->len);
  if (!nl) return r->len >= GXL_LINE_MAX ? -1 : 0;
  size_t n = (size_t)(nl - r->buf);
  if (n + 1 > GXL_LINE_MAX || memchr(r->buf, '\0', n)) return -1;
  char line[GXL_LINE_MAX];
  memcpy(line, r->buf, n);
  line[n] = '\0';
  r->len -= n + 1;
  memmove(r->buf, nl + 1, r->len);
  return parse_line(line, rec) == 0 ? 1 : -1;
}
