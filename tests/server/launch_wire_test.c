/* Unit tests for server/launch_wire: the launch request (encode, decode,
 * every length check, a mutation fuzz) and the record stream. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/launch_wire.h"

/* The header: magic, argc, envc, allowc, strings_len, has_ids, uid,
 * gid, ngroups. */
#define HDR 40

static char *const argv3[] = {"sh", "-c", "echo $X", NULL};
static char *const env2[] = {"PATH=/bin", "X=a b", NULL};

static void encode_std(uint8_t **buf, size_t *len) {
  gxl_request r = {.cwd = "/var/tmp", .argv = argv3, .argc = 3,
                   .envp = env2, .envc = 2};
  assert_int_equal(gxl_request_encode(&r, buf, len), 0);
}

static void round_trip(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  encode_std(&buf, &len);
  /* header 40 bytes (no ids: four zeros), then the strings exactly */
  assert_int_equal(len, HDR + sizeof "/var/tmp" + sizeof "sh" + sizeof "-c" +
                            sizeof "echo $X" + sizeof "PATH=/bin" +
                            sizeof "X=a b");
  assert_memory_equal(buf, "GXLRQ3\n\0", 8);
  static const uint8_t zeros[16];
  assert_memory_equal(buf + 24, zeros, 16);
  gxl_request r;
  void *mem;
  char why[128];
  assert_int_equal(gxl_request_decode(buf, len, &r, &mem, why, sizeof why), 0);
  assert_string_equal(r.cwd, "/var/tmp");
  assert_int_equal(r.argc, 3);
  assert_int_equal(r.envc, 2);
  for (int i = 0; i < 3; i++) assert_string_equal(r.argv[i], argv3[i]);
  assert_null(r.argv[3]);
  for (int i = 0; i < 2; i++) assert_string_equal(r.envp[i], env2[i]);
  assert_null(r.envp[2]);
  assert_int_equal(r.allowc, 0);
  assert_null(r.allow[0]);
  assert_int_equal(r.has_ids, 0);
  free(mem);
  free(buf);
}

static void assert_refused(const uint8_t *buf, size_t len, const char *why_part);

/* The program constraint travels after the environment; an entry that
 * is neither an absolute path nor a glob that can match one is refused. */
static void allow_list(void **state) {
  (void)state;
  char *const allow[] = {"/usr/bin/id", "/bin/true", NULL};
  char *const rel[] = {"bin/true", NULL};
  gxl_request r = {.cwd = "/", .argv = argv3, .argc = 3, .envp = env2,
                   .envc = 2, .allow = allow, .allowc = 2};
  uint8_t *buf;
  size_t len;
  void *mem;
  char why[128];
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  assert_int_equal(len, HDR + sizeof "/" + sizeof "sh" + sizeof "-c" +
                            sizeof "echo $X" + sizeof "PATH=/bin" +
                            sizeof "X=a b" + sizeof "/usr/bin/id" +
                            sizeof "/bin/true");
  assert_int_equal(buf[16], 2);
  assert_int_equal(gxl_request_decode(buf, len, &r, &mem, why, sizeof why), 0);
  assert_int_equal(r.allowc, 2);
  assert_string_equal(r.allow[0], "/usr/bin/id");
  assert_string_equal(r.allow[1], "/bin/true");
  assert_null(r.allow[2]);
  assert_string_equal(r.envp[1], "X=a b");
  free(mem);
  free(buf);
  gxl_request bad = {.cwd = "/", .argv = argv3, .argc = 3, .envp = env2,
                     .envc = 2, .allow = rel, .allowc = 1};
  assert_int_equal(gxl_request_encode(&bad, &buf, &len), 0);
  assert_refused(buf, len, "an allowed program is neither an absolute path "
                           "nor a glob");
  free(buf);
  bad.allowc = GXL_REQUEST_MAX_ALLOW + 1;
  assert_int_equal(gxl_request_encode(&bad, &buf, &len), -E2BIG);
}

/* Decodes a request whose allow list is @p allow (@p n entries); returns
 * the decode result, the reason in @p why. */
static int decode_allow(char *const *allow, size_t n, char *why) {
  gxl_request r = {.cwd = "/", .argv = argv3, .argc = 3, .envp = env2,
                   .envc = 2, .allow = allow, .allowc = n};
  uint8_t *buf;
  size_t len;
  void *mem = NULL;
  why[0] = '\0';
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  int rc = gxl_request_decode(buf, len, &r, &mem, why, 128);
  if (rc == 0) {
    assert_int_equal(r.allowc, n);
    for (size_t i = 0; i < n; i++) assert_string_equal(r.allow[i], allow[i]);
  }
  free(mem);
  free(buf);
  return rc;
}

/* Globs (the policy's allow.commands) pass: "*" alone, ones starting with
 * '/' or a wildcard; empty, relative and overlong entries do not. */
static void allow_list_globs(void **state) {
  (void)state;
  char why[128];
  char *const globs[] = {"*", "/usr/bin/*", "*/bin/df", "?usr/bin/x",
                         "[/]usr/bin/y", "/bin/d[fu]", NULL};
  assert_int_equal(decode_allow(globs, 6, why), 0);
  char *const empty[] = {"/bin/ls", "", NULL};
  assert_int_equal(decode_allow(empty, 2, why), -EINVAL);
  assert_string_equal(why, "malformed launch request: an allowed program is "
                           "neither an absolute path nor a glob");
  char *const rel[] = {"bin/*", NULL};
  assert_int_equal(decode_allow(rel, 1, why), -EINVAL);
  char *long_entry = malloc(GXL_ALLOW_ENTRY_MAX + 2);
  memset(long_entry, 'a', GXL_ALLOW_ENTRY_MAX + 1);
  long_entry[0] = '/';
  long_entry[GXL_ALLOW_ENTRY_MAX + 1] = '\0';
  char *const too_long[] = {long_entry, NULL};
  assert_int_equal(decode_allow(too_long, 1, why), -EINVAL);
  assert_string_equal(why, "malformed launch request: an allowed program is "
                           "longer than 4095 bytes");
  long_entry[GXL_ALLOW_ENTRY_MAX] = '\0'; /* 4095 bytes: fine */
  assert_int_equal(decode_allow(too_long, 1, why), 0);
  free(long_entry);
}

static void empty_env_and_empty_strings(void **state) {
  (void)state;
  char *const argv[] = {"", "", NULL};
  char *const env[] = {NULL};
  gxl_request r = {.cwd = "/", .argv = argv, .argc = 2, .envp = env,
                   .envc = 0};
  uint8_t *buf;
  size_t len;
  void *mem;
  char why[128];
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  assert_int_equal(gxl_request_decode(buf, len, &r, &mem, why, sizeof why), 0);
  assert_int_equal(r.argc, 2);
  assert_string_equal(r.argv[1], "");
  assert_int_equal(r.envc, 0);
  assert_null(r.envp[0]);
  free(mem);
  free(buf);
}

/* A run's user: has_ids 1, uid, gid, ngroups, then the groups, before
 * the strings; all little-endian, decoded back exactly. */
static void ids_round_trip(void **state) {
  (void)state;
  gxl_request r = {.cwd = "/", .argv = argv3, .argc = 3, .envp = env2,
                   .envc = 2, .has_ids = 1,
                   .ids = {.uid = 65534, .gid = 0x01020304, .ngroups = 3,
                           .groups = {65534, 27, 0}}};
  static const uint8_t want[] = {1, 0, 0, 0,       0xfe, 0xff, 0, 0,
                                 4, 3, 2, 1,       3, 0, 0, 0,
                                 0xfe, 0xff, 0, 0, 27, 0, 0, 0,
                                 0, 0, 0, 0,       '/', 0};
  uint8_t *buf;
  size_t len;
  void *mem;
  char why[128];
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  assert_int_equal(len, HDR + 12 + sizeof "/" + sizeof "sh" + sizeof "-c" +
                            sizeof "echo $X" + sizeof "PATH=/bin" +
                            sizeof "X=a b");
  assert_memory_equal(buf + 24, want, sizeof want);
  gxl_request d;
  assert_int_equal(gxl_request_decode(buf, len, &d, &mem, why, sizeof why), 0);
  assert_int_equal(d.has_ids, 1);
  assert_int_equal(d.ids.uid, 65534);
  assert_int_equal(d.ids.gid, 0x01020304);
  assert_int_equal(d.ids.ngroups, 3);
  assert_int_equal(d.ids.groups[0], 65534);
  assert_int_equal(d.ids.groups[1], 27);
  assert_int_equal(d.ids.groups[2], 0);
  assert_string_equal(d.cwd, "/");
  assert_string_equal(d.envp[1], "X=a b");
  free(mem);
  free(buf);
  /* root with no groups at all is a valid user too */
  r.ids = (gxl_ids){0};
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  assert_int_equal(gxl_request_decode(buf, len, &d, &mem, why, sizeof why), 0);
  assert_int_equal(d.has_ids, 1);
  assert_int_equal(d.ids.uid + d.ids.gid + d.ids.ngroups, 0);
  free(mem);
  free(buf);
}

/* What set*id(2) reads as "unchanged" (-1), or more groups than the
 * bound, is never encoded. */
static void ids_encode_refusals(void **state) {
  (void)state;
  gxl_request r = {.cwd = "/", .argv = argv3, .argc = 3, .envp = env2,
                   .envc = 2, .has_ids = 1, .ids = {.uid = 1, .gid = 1}};
  uint8_t *buf = NULL;
  size_t len;
  r.ids.uid = 0xFFFFFFFFu;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), -EINVAL);
  r.ids.uid = 1;
  r.ids.gid = 0xFFFFFFFFu;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), -EINVAL);
  r.ids.gid = 1;
  r.ids.ngroups = 2;
  r.ids.groups[1] = 0xFFFFFFFFu;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), -EINVAL);
  r.ids.groups[1] = 2;
  r.ids.ngroups = GXL_REQUEST_MAX_GROUPS + 1;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), -EINVAL);
  assert_null(buf);
  r.ids.ngroups = GXL_REQUEST_MAX_GROUPS; /* the bound itself is fine */
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  assert_int_equal(len, HDR + 4 * GXL_REQUEST_MAX_GROUPS + sizeof "/" +
                            sizeof "sh" + sizeof "-c" + sizeof "echo $X" +
                            sizeof "PATH=/bin" + sizeof "X=a b");
  free(buf);
  /* without has_ids the ids are not sent, whatever they hold */
  r.has_ids = 0;
  r.ids.uid = 0xFFFFFFFFu;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  static const uint8_t zeros[16];
  assert_memory_equal(buf + 24, zeros, 16);
  free(buf);
}

static void put32(uint8_t *p, uint32_t v);

/* The decoder holds the ids to the same rules, and to the length. */
static void ids_decode_refusals(void **state) {
  (void)state;
  gxl_request r = {.cwd = "/", .argv = argv3, .argc = 3, .envp = env2,
                   .envc = 2, .has_ids = 1,
                   .ids = {.uid = 7, .gid = 8, .ngroups = 2,
                           .groups = {8, 9}}};
  uint8_t *buf, *c;
  size_t len;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  c = malloc(len + 4);
  static const struct {
    size_t at;
    uint32_t v;
    const char *why;
  } bad[] = {
      {24, 2, "ids without a user"},        /* has_ids not 0 or 1 */
      {28, 0xFFFFFFFFu, "an id is -1"},     /* uid */
      {32, 0xFFFFFFFFu, "an id is -1"},     /* gid */
      {HDR + 4, 0xFFFFFFFFu, "an id is -1"}, /* a group */
      {36, GXL_REQUEST_MAX_GROUPS + 1, "group count out of range"},
      {36, 3, "length does not match"}, /* a group more */
      {36, 1, "length does not match"}, /* a group less */
      {36, 0x40000000u, "group count out of range"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memcpy(c, buf, len);
    put32(c + bad[i].at, bad[i].v);
    assert_refused(c, len, bad[i].why);
  }
  /* has_ids 0 with ids is not "no user" */
  memcpy(c, buf, len);
  put32(c + 24, 0);
  assert_refused(c, len, "ids without a user");
  /* the previous version's magic */
  memcpy(c, buf, len);
  memcpy(c, "GXLRQ2\n\0", 8);
  assert_refused(c, len, "no header");
  /* a header cut inside the ids */
  for (size_t n = 24; n < HDR + 8; n++) assert_refused(buf, n, "");
  free(c);
  free(buf);
}

/* Decoding @p len bytes fails with -EINVAL and a reason. */
static void assert_refused(const uint8_t *buf, size_t len, const char *why_part) {
  gxl_request r;
  void *mem = (void *)1;
  char why[128] = "";
  assert_int_equal(gxl_request_decode(buf, len, &r, &mem, why, sizeof why),
                   -EINVAL);
  assert_null(mem);
  if (!strstr(why, why_part)) fail_msg("'%s' lacks '%s'", why, why_part);
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void malformed_requests(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  encode_std(&buf, &len);
  uint8_t *copy = malloc(len + 8);
  assert_refused(buf, 7, "no header");
  memcpy(copy, buf, len);
  copy[0] = 'X';
  assert_refused(copy, len, "no header");
  /* every truncation is refused */
  for (size_t n = 0; n < len; n++) assert_refused(buf, n, "");
  /* trailing bytes */
  memcpy(copy, buf, len);
  copy[len] = 'z';
  assert_refused(copy, len + 1, "length does not match");
  /* counts that do not match the strings */
  memcpy(copy, buf, len);
  put32(copy + 8, 4);
  assert_refused(copy, len, "string count");
  memcpy(copy, buf, len);
  put32(copy + 12, 1);
  assert_refused(copy, len, "string count");
  memcpy(copy, buf, len);
  put32(copy + 8, 0);
  assert_refused(copy, len, "count out of range");
  memcpy(copy, buf, len);
  put32(copy + 12, GXL_REQUEST_MAX_ENV + 1);
  assert_refused(copy, len, "count out of range");
  memcpy(copy, buf, len);
  put32(copy + 16, 1);
  assert_refused(copy, len, "string count");
  memcpy(copy, buf, len);
  put32(copy + 16, GXL_REQUEST_MAX_ALLOW + 1);
  assert_refused(copy, len, "count out of range");
  /* a string without its terminator at the end */
  memcpy(copy, buf, len);
  copy[len - 1] = 'x';
  assert_refused(copy, len, "string count");
  free(copy);
  free(buf);
}

/* Random byte flips, truncations and length changes never crash or
 * over-read (run under ASan), and whatever decodes is consistent. */
static void fuzz_one(const uint8_t *buf, size_t len);

static void mutation_fuzz(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  encode_std(&buf, &len);
  fuzz_one(buf, len);
  free(buf);
  gxl_request r = {.cwd = "/w", .argv = argv3, .argc = 3, .envp = env2,
                   .envc = 2, .has_ids = 1,
                   .ids = {.uid = 1000, .gid = 1000, .ngroups = 2,
                           .groups = {1000, 24}}};
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  fuzz_one(buf, len);
  free(buf);
}

static void fuzz_one(const uint8_t *buf, size_t len) {
  uint32_t seed = 12345;
  for (int iter = 0; iter < 20000; iter++) {
    size_t n = len;
    uint8_t *m = malloc(len);
    memcpy(m, buf, len);
    for (int k = 0; k < 1 + iter % 4; k++) {
      seed = seed * 1103515245u + 12345u;
      m[(seed >> 8) % len] = (uint8_t)(seed >> 16);
    }
    if (iter % 3 == 0) n = (seed >> 4) % (len + 1);
    gxl_request r;
    void *mem;
    char why[128];
    if (gxl_request_decode(m, n, &r, &mem, why, sizeof why) == 0) {
      assert_non_null(r.argv[r.argc - 1]);
      assert_null(r.argv[r.argc]);
      assert_null(r.envp[r.envc]);
      assert_true(r.ids.ngroups <= GXL_REQUEST_MAX_GROUPS);
      assert_true(!r.has_ids || (r.ids.uid != 0xFFFFFFFFu &&
                                 r.ids.gid != 0xFFFFFFFFu));
      free(mem);
    }
    free(m);
  }
}

static void too_large_to_encode(void **state) {
  (void)state;
  size_t big = GXL_REQUEST_MAX;
  char *s = malloc(big);
  memset(s, 'a', big - 1);
  s[big - 1] = '\0';
  char *const argv[] = {s, NULL};
  char *const env[] = {NULL};
  gxl_request r = {.cwd = "/", .argv = argv, .argc = 1, .envp = env};
  uint8_t *buf;
  size_t len;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), -E2BIG);
  free(s);
}

static void read_from_memfd(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  encode_std(&buf, &len);
  int fd = memfd_create("t", MFD_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, buf, len), (ssize_t)len);
  gxl_request r;
  void *mem;
  char why[128];
  /* read from offset 0 whatever the file position */
  assert_int_equal(gxl_request_read_fd(fd, &r, &mem, why, sizeof why), 0);
  assert_string_equal(r.argv[2], "echo $X");
  free(mem);
  close(fd);
  free(buf);
}

/* The largest request encode makes is one read_fd takes; a byte more is
 * refused as too large. */
static void read_fd_bounds(void **state) {
  (void)state;
  size_t slen = GXL_REQUEST_MAX - HDR - 2 - 2 - 1; /* header, "/", "x", NUL */
  char *arg = malloc(slen + 1);
  memset(arg, 'a', slen);
  arg[slen] = '\0';
  char *const argv[] = {"x", arg, NULL};
  char *const env[] = {NULL};
  gxl_request r = {.cwd = "/", .argv = argv, .argc = 2, .envp = env};
  uint8_t *buf;
  size_t len;
  assert_int_equal(gxl_request_encode(&r, &buf, &len), 0);
  assert_int_equal(len, GXL_REQUEST_MAX);
  int fd = memfd_create("t", MFD_CLOEXEC);
  assert_int_equal(write(fd, buf, len), (ssize_t)len);
  void *mem;
  char why[128];
  assert_int_equal(gxl_request_read_fd(fd, &r, &mem, why, sizeof why), 0);
  assert_int_equal(strlen(r.argv[1]), slen);
  free(mem);
  assert_int_equal(write(fd, "z", 1), 1);
  assert_int_equal(gxl_request_read_fd(fd, &r, &mem, why, sizeof why),
                   -EINVAL);
  assert_non_null(strstr(why, "too large"));
  close(fd);
  free(buf);
  free(arg);
}

/* ------------------------------------------------------------ records */

static void format_records(void **state) {
  (void)state;
  char line[GXL_LINE_MAX];
  gxl_record ok = {.kind = GXL_REC_EXEC_OK, .pid = 4242};
  assert_int_equal(gxl_record_format(&ok, line, sizeof line), 26);
  assert_string_equal(line, "gexec-exec v1 ok pid=4242\n");
  gxl_record f = {.kind = GXL_REC_EXEC_FAIL, .what = GXL_FAIL_CWD, .err = 2};
  gxl_record_format(&f, line, sizeof line);
  assert_string_equal(line, "gexec-exec v1 fail what=cwd errno=2\n");
  gxl_record d = {.kind = GXL_REC_EXEC_FAIL, .what = GXL_FAIL_DENIED,
                  .err = EPERM};
  gxl_record_format(&d, line, sizeof line);
  assert_string_equal(line, "gexec-exec v1 fail what=denied errno=1\n");
  gxl_reader rd;
  gxl_record back;
  gxl_reader_init(&rd);
  assert_int_equal(gxl_reader_push(&rd, line, strlen(line)), 0);
  assert_int_equal(gxl_reader_next(&rd, &back), 1);
  assert_int_equal(back.kind, GXL_REC_EXEC_FAIL);
  assert_int_equal(back.what, GXL_FAIL_DENIED);
  assert_int_equal(back.err, EPERM);
  gxl_record u = {.kind = GXL_REC_EXEC_FAIL, .what = GXL_FAIL_USER,
                  .err = EAGAIN};
  gxl_record_format(&u, line, sizeof line);
  assert_string_equal(line, "gexec-exec v1 fail what=user errno=11\n");
  assert_int_equal(gxl_reader_push(&rd, line, strlen(line)), 0);
  assert_int_equal(gxl_reader_next(&rd, &back), 1);
  assert_int_equal(back.what, GXL_FAIL_USER);
  assert_int_equal(back.err, EAGAIN);
  gxl_record e = {.kind = GXL_REC_ERROR};
  snprintf(e.reason, sizeof e.reason, "two\nlines");
  gxl_record_format(&e, line, sizeof line);
  assert_string_equal(line, "gexec-error v1 two lines\n");
  gxl_record r = {.kind = GXL_REC_REPORT,
                  .report = {.exit_code = 3, .signal = 0, .oom_killed = 1,
                             .user_us = 10, .sys_us = 20, .max_rss_kb = 30}};
  gxl_record_format(&r, line, sizeof line);
  assert_string_equal(line, "gexec-report v1 exit=3 signal=0 core=0 oom=1 "
                            "user_us=10 sys_us=20 maxrss_kb=30\n");
  assert_int_equal(gxl_record_format(&r, line, 10), -1);
}

static void reader_in_pieces(void **state) {
  (void)state;
  const char *stream = "gexec-exec v1 ok pid=7\ngexec-report v1 exit=0 signal=9 "
                       "core=1 oom=0 user_us=1 sys_us=2 maxrss_kb=3\n";
  gxl_reader rd;
  gxl_record rec;
  gxl_reader_init(&rd);
  int seen = 0;
  for (const char *p = stream; *p; p++) { /* one byte at a time */
    assert_int_equal(gxl_reader_push(&rd, p, 1), 0);
    int got;
    while ((got = gxl_reader_next(&rd, &rec)) == 1) {
      if (seen == 0) {
        assert_int_equal(rec.kind, GXL_REC_EXEC_OK);
        assert_int_equal(rec.pid, 7);
      }
      if (seen == 1) {
        assert_int_equal(rec.kind, GXL_REC_REPORT);
        assert_int_equal(rec.report.signal, 9);
        assert_int_equal(rec.report.core_dumped, 1);
        assert_int_equal(rec.report.max_rss_kb, 3);
      }
      seen++;
    }
    assert_int_equal(got, 0);
  }
  assert_int_equal(seen, 2);
}

static int parse_one(const char *line, gxl_record *rec) {
  gxl_reader rd;
  gxl_reader_init(&rd);
  if (gxl_reader_push(&rd, line, strlen(line)) != 0) return -2;
  return gxl_reader_next(&rd, rec);
}

static void reader_refuses_bad_records(void **state) {
  (void)state;
  gxl_record rec;
  const char *bad[] = {
      "hello\n",
      "gexec-exec v1 okay\n",
      "gexec-exec v1 ok\n",
      "gexec-exec v1 ok pid=0\n",
      "gexec-exec v1 ok pid=-3\n",
      "gexec-exec v1 ok pid=12345678901\n",
      "gexec-report v1 exit=99999999999 signal=0 core=0 oom=0 user_us=1 sys_us=2 maxrss_kb=3\n",
      "gexec-exec v1 fail what=disk errno=2\n",
      "gexec-exec v1 fail what=cwd errno=0\n",
      "gexec-exec v1 fail what=cwd errno=2 extra\n",
      "gexec-report v1 exit=0 signal=65 core=0 oom=0 user_us=1 sys_us=2 maxrss_kb=3\n",
      "gexec-report v1 exit=256 signal=0 core=0 oom=0 user_us=1 sys_us=2 maxrss_kb=3\n",
      "gexec-report v1 exit=0 signal=0 core=2 oom=0 user_us=1 sys_us=2 maxrss_kb=3\n",
      "gexec-report v1 exit=0 signal=0 core=0 oom=0 user_us=1 sys_us=2\n",
      "gexec-report v1 exit=0 signal=0 core=0 oom=0 user_us=1 sys_us=2 maxrss_kb=3 x\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (parse_one(bad[i], &rec) != -1) fail_msg("accepted: %s", bad[i]);
  assert_int_equal(parse_one("gexec-exec v1 fail what=program errno=13\n", &rec), 1);
  assert_int_equal(rec.what, GXL_FAIL_PROGRAM);
  assert_int_equal(rec.err, 13);
  assert_int_equal(parse_one("gexec-error v1 mount: EPERM\n", &rec), 1);
  assert_string_equal(rec.reason, "mount: EPERM");
}

static void reader_bounds(void **state) {
  (void)state;
  gxl_reader rd;
  gxl_record rec;
  char junk[GXL_LINE_MAX];
  memset(junk, 'a', sizeof junk);
  gxl_reader_init(&rd);
  /* a line longer than GXL_LINE_MAX without a newline is malformed */
  assert_int_equal(gxl_reader_push(&rd, junk, sizeof junk), 0);
  assert_int_equal(gxl_reader_next(&rd, &rec), -1);
  /* the buffer never takes more than it has room for */
  assert_int_equal(gxl_reader_push(&rd, junk, gxl_reader_room(&rd) + 1), -1);
  /* a NUL inside a line is malformed */
  gxl_reader_init(&rd);
  assert_int_equal(gxl_reader_push(&rd, "gexec-exec v1 ok pid=1\0\n", 24), 0);
  assert_int_equal(gxl_reader_next(&rd, &rec), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip),
      cmocka_unit_test(allow_list),
      cmocka_unit_test(allow_list_globs),
      cmocka_unit_test(ids_round_trip),
      cmocka_unit_test(ids_encode_refusals),
      cmocka_unit_test(ids_decode_refusals),
      cmocka_unit_test(empty_env_and_empty_strings),
      cmocka_unit_test(malformed_requests),
      cmocka_unit_test(mutation_fuzz),
      cmocka_unit_test(too_large_to_encode),
      cmocka_unit_test(read_from_memfd),
      cmocka_unit_test(read_fd_bounds),
      cmocka_unit_test(format_records),
      cmocka_unit_test(reader_in_pieces),
      cmocka_unit_test(reader_refuses_bad_records),
      cmocka_unit_test(reader_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
