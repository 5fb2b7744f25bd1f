/* Unit tests of server/audit.c on a bare libuv loop and real files. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/audit.h"
#include "tests/server/scratch.h"

static uv_loop_t loop;

typedef struct {
  gxd_audit_waiter w;
  int fired;
  int err;
} waiter;

static void on_synced(gxd_audit_waiter *w, int err) {
  waiter *x = (waiter *)w;
  x->fired++;
  x->err = err;
}

/* The lines of @p path, parsed; *n gets their count. */
static json_object *lines_of(const char *path, int *n) {
  static char buf[1 << 16];
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  assert_true(len >= 0);
  buf[len] = '\0';
  json_object *arr = json_object_new_array();
  char *save = NULL;
  *n = 0;
  assert_true(len == 0 || buf[len - 1] == '\n'); /* whole lines only */
  for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    json_object *o = json_tokener_parse(l);
    assert_non_null(o);
    json_object_array_add(arr, o);
    (*n)++;
  }
  return arr;
}

static const char *field(json_object *arr, int i, const char *key) {
  json_object *v;
  if (!json_object_object_get_ex(json_object_array_get_idx(arr, i), key, &v))
    return NULL;
  return json_object_get_string(v);
}

static json_object *record(const char *decision) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "event", json_object_new_string("decision"));
  json_object_object_add(r, "decision", json_object_new_string(decision));
  return r;
}

static int setup(void **state) {
  (void)state;
  return uv_loop_init(&loop);
}

static int teardown(void **state) {
  (void)state;
  uv_run(&loop, UV_RUN_DEFAULT);
  return uv_loop_close(&loop);
}

/* Without --audit-sync: each record is one line, "ts" first, written
 * at once (nothing to wait for); the file is created 0600. */
static void writes_lines(void **state) {
  (void)state;
  gxd_audit *a;
  char why[256];
  const char *path = gxt_at("plain.log");
  assert_int_equal(gxd_audit_open(&loop, path, 0, &a, why, sizeof why), 0);
  uint64_t s1 = 0, s2 = 0;
  json_object *r = record("allowed");
  assert_int_equal(gxd_audit_write(a, r, &s1), 0);
  json_object_put(r);
  r = record("denied");
  assert_int_equal(gxd_audit_write(a, r, &s2), 0);
  json_object_put(r);
  assert_int_equal(s1, 1);
  assert_int_equal(s2, 2);
  int n;
  json_object *arr = lines_of(path, &n);
  assert_int_equal(n, 2);
  assert_string_equal(field(arr, 0, "decision"), "allowed");
  assert_string_equal(field(arr, 1, "decision"), "denied");
  assert_int_equal(strlen(field(arr, 0, "ts")), 27); /* RFC 3339, us */
  struct json_object_iterator it =
      json_object_iter_begin(json_object_array_get_idx(arr, 0));
  assert_string_equal(json_object_iter_peek_name(&it), "ts"); /* first */
  json_object_put(arr);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  gxd_audit_close(a);
}

/* With --audit-sync: a record must be waited for; the callback comes
 * from the loop, never from inside gxd_audit_wait; two records written
 * before a sync are covered together. */
static void sync_waits(void **state) {
  (void)state;
  gxd_audit *a;
  char why[256];
  assert_int_equal(gxd_audit_open(&loop, gxt_at("sync.log"), 1, &a, why,
                                  sizeof why), 0);
  uint64_t s1, s2;
  json_object *r = record("allowed");
  assert_int_equal(gxd_audit_write(a, r, &s1), 1);
  assert_int_equal(gxd_audit_write(a, r, &s2), 1);
  json_object_put(r);
  waiter w1 = {0}, w2 = {0}, w3 = {0};
  assert_int_equal(gxd_audit_wait(a, s1, &w1.w, on_synced), 0);
  assert_int_equal(gxd_audit_wait(a, s2, &w2.w, on_synced), 0);
  assert_int_equal(gxd_audit_wait(a, s2, &w3.w, on_synced), 0);
  gxd_audit_cancel(a, &w3.w); /* its run went away */
  assert_int_equal(w1.fired + w2.fired, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(w1.fired, 1);
  assert_int_equal(w1.err, 0);
  assert_int_equal(w2.fired, 1);
  assert_int_equal(w2.err, 0);
  assert_int_equal(w3.fired, 0);
  gxd_audit_cancel(a, &w3.w); /* not linked: fine */
  gxd_audit_close(a);
}

/* A log that cannot be written refuses the record with the errno (the
 * daemon then refuses the run); an unopenable one says why. */
static void unwritable(void **state) {
  (void)state;
  gxd_audit *a;
  char why[256];
  uint64_t seq = 99;
  assert_int_equal(gxd_audit_open(&loop, "/dev/full", 0, &a, why, sizeof why),
                   0);
  json_object *r = record("allowed");
  assert_int_equal(gxd_audit_write(a, r, &seq), -ENOSPC);
  assert_int_equal(seq, 99); /* untouched */
  json_object_put(r);
  gxd_audit_close(a);
  assert_int_equal(gxd_audit_open(&loop, gxt_at("no/such/dir.log"), 0, &a,
                                  why, sizeof why), -1);
  char want[512];
  snprintf(want, sizeof want, "cannot open the audit log %s: No such file "
           "or directory", gxt_at("no/such/dir.log"));
  assert_string_equal(why, want);
}

/* SIGHUP after a rotation: new records go to the new file, the old file
 * keeps the old ones (and, with sync, is synced before it is closed). */
static void reopen_after_rotation(void **state) {
  (void)state;
  gxd_audit *a;
  char why[256];
  const char *path = gxt_at("rot.log"), *old = gxt_at("rot.log.1");
  assert_int_equal(gxd_audit_open(&loop, path, 1, &a, why, sizeof why), 0);
  uint64_t seq;
  json_object *r = record("allowed");
  assert_int_equal(gxd_audit_write(a, r, &seq), 1);
  assert_int_equal(rename(path, old), 0);
  assert_int_equal(gxd_audit_reopen(a, why, sizeof why), 0);
  json_object_put(r);
  r = record("denied");
  assert_int_equal(gxd_audit_write(a, r, &seq), 1);
  json_object_put(r);
  waiter w = {0};
  assert_int_equal(gxd_audit_wait(a, seq, &w.w, on_synced), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(w.fired, 1);
  assert_int_equal(w.err, 0);
  int n;
  json_object *arr = lines_of(old, &n);
  assert_int_equal(n, 1);
  assert_string_equal(field(arr, 0, "decision"), "allowed");
  json_object_put(arr);
  arr = lines_of(path, &n);
  assert_int_equal(n, 1);
  assert_string_equal(field(arr, 0, "decision"), "denied");
  json_object_put(arr);
  gxd_audit_close(a);
}

/* Closing with a waiter: it is told -ECANCELED; a sync in flight is
 * completed by the loop before the log's memory goes (ASan checks). */
static void close_cancels_waiters(void **state) {
  (void)state;
  gxd_audit *a;
  char why[256];
  assert_int_equal(gxd_audit_open(&loop, gxt_at("close.log"), 1, &a, why,
                                  sizeof why), 0);
  uint64_t seq;
  json_object *r = record("allowed");
  assert_int_equal(gxd_audit_write(a, r, &seq), 1);
  json_object_put(r);
  waiter w = {0};
  assert_int_equal(gxd_audit_wait(a, seq, &w.w, on_synced), 0);
  gxd_audit_close(a);
  assert_int_equal(w.fired, 1);
  assert_int_equal(w.err, -ECANCELED);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(w.fired, 1);
}

/* Long strings are cut at GXD_AUDIT_STRING_MAX, never inside a UTF-8
 * character, and the record says so. */
static void long_strings_cut(void **state) {
  (void)state;
  static char big[GXD_AUDIT_STRING_MAX + 64];
  memset(big, 'a', sizeof big - 1);
  /* a 2-byte character across the cut: é = C3 A9 */
  big[GXD_AUDIT_STRING_MAX - 1] = (char)0xC3;
  big[GXD_AUDIT_STRING_MAX] = (char)0xA9;
  json_object *r = json_object_new_object();
  gxd_audit_add_string(r, "short", "ok");
  json_object *v;
  assert_false(json_object_object_get_ex(r, "truncated", &v));
  gxd_audit_add_string(r, "cwd", big);
  assert_true(json_object_object_get_ex(r, "cwd", &v));
  assert_int_equal(json_object_get_string_len(v), GXD_AUDIT_STRING_MAX - 1);
  assert_true(json_object_object_get_ex(r, "truncated", &v));
  assert_true(json_object_get_boolean(v));
  json_object_put(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(writes_lines, setup, teardown),
      cmocka_unit_test_setup_teardown(sync_waits, setup, teardown),
      cmocka_unit_test_setup_teardown(unwritable, setup, teardown),
      cmocka_unit_test_setup_teardown(reopen_after_rotation, setup, teardown),
      cmocka_unit_test_setup_teardown(close_cancels_waiters, setup, teardown),
      cmocka_unit_test(long_strings_cut),
  };
  if (gxt_scratch_setup("audit_test") != 0) return 1;
  return cmocka_run_group_tests_name("server/audit", tests, NULL, NULL);
}
