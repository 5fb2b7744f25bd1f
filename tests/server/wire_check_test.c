/* Unit tests for server/wire_check: gxd_wire_check_unknown on messages
 * unpacked by protobuf-c from bytes that carry fields the schema lacks
 * (packed by protobuf-c, then raw bytes appended for an unknown tag). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gexec/v1/exec.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "lib/gx_err.h"
#include "server/wire_check.h"

/* A growing byte string for hand-built wire data. */
typedef struct {
  uint8_t b[1024];
  size_t n;
} wbuf;

static void put_byte(wbuf *w, uint8_t c) {
  assert_true(w->n < sizeof w->b);
  w->b[w->n++] = c;
}

static void put_varint(wbuf *w, uint64_t v) {
  while (v >= 0x80) {
    put_byte(w, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  put_byte(w, (uint8_t)v);
}

static void put_key(wbuf *w, uint32_t num, unsigned wire_type) {
  put_varint(w, (uint64_t)num << 3 | wire_type);
}

/* Appends field @p num as a length-delimited copy of @p payload. */
static void put_ld(wbuf *w, uint32_t num, const wbuf *payload) {
  put_key(w, num, 2);
  put_varint(w, payload->n);
  assert_true(payload->n <= sizeof w->b - w->n);
  memcpy(w->b + w->n, payload->b, payload->n);
  w->n += payload->n;
}

/* Appends @p m as protobuf-c packs it. */
static void put_msg(wbuf *w, const ProtobufCMessage *m) {
  size_t n = protobuf_c_message_get_packed_size(m);
  assert_true(n <= sizeof w->b - w->n);
  w->n += protobuf_c_message_pack(m, w->b + w->n);
}

/* Appends field @p num of wire type @p wt, which the schema lacks. */
static void put_unknown(wbuf *w, uint32_t num, unsigned wt) {
  put_key(w, num, wt);
  switch (wt) {
    case 0: put_varint(w, 1); break;
    case 1: for (int i = 0; i < 8; i++) put_byte(w, 0x11); break;
    case 5: for (int i = 0; i < 4; i++) put_byte(w, 0x22); break;
    default:
      put_varint(w, 3);
      put_byte(w, 'a');
      put_byte(w, 'b');
      put_byte(w, 'c');
  }
}

static char why[512];

/* Unpacks @p w as a RunRequest and checks it; returns the status. */
static int check_run_request(const wbuf *w) {
  Gexec__V1__RunRequest *r = gexec__v1__run_request__unpack(NULL, w->n, w->b);
  if (!r) fail_msg("protobuf-c could not unpack the test's RunRequest");
  memset(why, 0, sizeof why);
  int st = gxd_wire_check_unknown(&r->base, why, sizeof why);
  gexec__v1__run_request__free_unpacked(r, NULL);
  return st;
}

/* Expects INVALID_ARGUMENT naming field @p num at @p path, exactly. */
static void expect_unknown(int st, const char *path, unsigned num) {
  char want[512];
  snprintf(want, sizeof want,
           "%s has field %u that this gexecd does not know (sent by a "
           "newer client?); refusing it rather than ignoring it",
           path, num);
  if (st != GX_STATUS_INVALID_ARGUMENT)
    fail_msg("status %d (%s), want INVALID_ARGUMENT: %s", st,
             gx_status_name(st), want);
  assert_string_equal(why, want);
}

static void expect_ok(int st) {
  if (st != GX_STATUS_OK) fail_msg("status %d: %s", st, why);
}

/* --------------------------------------------------- message builders */

/* Start{argv=["true"], env={A=1, B=2}, cwd="/", limits{pids=5}}, packed. */
static void put_start(wbuf *w) {
  static char *argv[] = {"true"};
  Gexec__V1__Start s = GEXEC__V1__START__INIT;
  Gexec__V1__Start__EnvEntry e[2] = {GEXEC__V1__START__ENV_ENTRY__INIT,
                                     GEXEC__V1__START__ENV_ENTRY__INIT};
  Gexec__V1__Start__EnvEntry *env[2] = {&e[0], &e[1]};
  Gexec__V1__Limits lim = GEXEC__V1__LIMITS__INIT;
  e[0].key = "A";
  e[0].value = "1";
  e[1].key = "B";
  e[1].value = "2";
  lim.pids = 5;
  s.argv = argv;
  s.n_argv = 1;
  s.env = env;
  s.n_env = 2;
  s.cwd = "/";
  s.limits = &lim;
  put_msg(w, &s.base);
}

static void put_env_entry(wbuf *w, char *key, char *value) {
  Gexec__V1__Start__EnvEntry e = GEXEC__V1__START__ENV_ENTRY__INIT;
  e.key = key;
  e.value = value;
  put_msg(w, &e.base);
}

static void put_limits(wbuf *w) {
  Gexec__V1__Limits l = GEXEC__V1__LIMITS__INIT;
  l.memory_bytes = 64 << 20;
  l.pids = 10;
  l.cpu_time_ms = 1000;
  l.open_files = 64;
  put_msg(w, &l.base);
}

static void put_signal(wbuf *w, int32_t n) {
  Gexec__V1__Signal s = GEXEC__V1__SIGNAL__INIT;
  s.number = n;
  put_msg(w, &s.base);
}

/* ------------------------------------------------------------- tests */

/* Every level populated, nothing unknown: OK. The stdin case also shows
 * that an inactive oneof member is not followed (stdin's bytes share the
 * storage of the start pointer). */
static void clean_messages_pass(void **state) {
  wbuf start = {0}, lim = {0}, sig = {0}, empty = {0}, w = {0};
  (void)state;
  put_start(&start);
  put_limits(&lim);
  put_ld(&start, 11, &lim); /* a second limits merges: still known */
  put_ld(&w, 1, &start);
  expect_ok(check_run_request(&w));
  w.n = 0;
  put_key(&w, 2, 2);
  put_varint(&w, 3);
  put_byte(&w, 'x');
  put_byte(&w, 'y');
  put_byte(&w, 'z');
  expect_ok(check_run_request(&w));
  w.n = 0;
  put_ld(&w, 3, &empty);
  expect_ok(check_run_request(&w));
  w.n = 0;
  put_signal(&sig, 15);
  put_ld(&w, 4, &sig);
  expect_ok(check_run_request(&w));
  w.n = 0;
  expect_ok(check_run_request(&w)); /* an empty RunRequest */
}

static void unknown_in_run_request(void **state) {
  wbuf w = {0};
  (void)state;
  put_key(&w, 2, 2); /* stdin "x" */
  put_varint(&w, 1);
  put_byte(&w, 'x');
  put_unknown(&w, 5, 0);
  expect_unknown(check_run_request(&w), "RunRequest", 5);
}

/* A field after Start.user (12, known since run-as), sent by a newer
 * client, is 13 or so; 12 itself passes. */
static void unknown_in_start(void **state) {
  wbuf start = {0}, w = {0}, known = {0}, w2 = {0};
  (void)state;
  put_start(&start);
  put_unknown(&start, 13, 2);
  put_ld(&w, 1, &start);
  expect_unknown(check_run_request(&w), "RunRequest.start", 13);
  put_start(&known);
  put_unknown(&known, 12, 2); /* a string: user */
  put_ld(&w2, 1, &known);
  expect_ok(check_run_request(&w2));
}

static void unknown_in_limits(void **state) {
  wbuf lim = {0}, start = {0}, w = {0};
  (void)state;
  put_limits(&lim);
  put_unknown(&lim, 9, 0);
  put_start(&start);
  put_ld(&start, 11, &lim);
  put_ld(&w, 1, &start);
  expect_unknown(check_run_request(&w), "RunRequest.start.limits", 9);
  assert_string_equal(why,
                      "RunRequest.start.limits has field 9 that this gexecd "
                      "does not know (sent by a newer client?); refusing it "
                      "rather than ignoring it");
}

/* A map entry is a message too: the second env entry has a field 3. */
static void unknown_in_env_entry(void **state) {
  wbuf e0 = {0}, e1 = {0}, start = {0}, w = {0};
  (void)state;
  put_env_entry(&e0, "A", "1");
  put_env_entry(&e1, "B", "2");
  put_unknown(&e1, 3, 2);
  put_key(&start, 1, 2); /* argv "true" */
  put_varint(&start, 4);
  for (const char *p = "true"; *p; p++) put_byte(&start, (uint8_t)*p);
  put_ld(&start, 2, &e0);
  put_ld(&start, 2, &e1);
  put_ld(&w, 1, &start);
  expect_unknown(check_run_request(&w), "RunRequest.start.env[1]", 3);
}

static void unknown_in_signal(void **state) {
  wbuf sig = {0}, w = {0};
  (void)state;
  put_signal(&sig, 15);
  put_unknown(&sig, 2, 0);
  put_ld(&w, 4, &sig);
  expect_unknown(check_run_request(&w), "RunRequest.signal", 2);
}

static void unknown_in_stdin_eof(void **state) {
  wbuf eof = {0}, w = {0};
  (void)state;
  put_unknown(&eof, 1, 0);
  put_ld(&w, 3, &eof);
  expect_unknown(check_run_request(&w), "RunRequest.stdin_eof", 1);
}

/* Every wire type is kept by protobuf-c, and so refused; so is the
 * largest field number protobuf allows. */
static void unknown_every_wire_type(void **state) {
  static const unsigned types[] = {0, 1, 2, 5};
  (void)state;
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    wbuf lim = {0}, start = {0}, w = {0};
    put_unknown(&lim, 536870911, types[i]);
    put_start(&start);
    put_ld(&start, 11, &lim);
    put_ld(&w, 1, &start);
    expect_unknown(check_run_request(&w), "RunRequest.start.limits",
                   536870911);
  }
}

/* A message's own unknown fields come first (in wire order), then its
 * sub-messages'. */
static void first_unknown_is_named(void **state) {
  wbuf lim = {0}, start = {0}, w = {0};
  (void)state;
  put_limits(&lim);
  put_unknown(&lim, 9, 0);
  put_start(&start);
  put_unknown(&start, 15, 0);
  put_ld(&start, 11, &lim);
  put_unknown(&start, 13, 0);
  put_ld(&w, 1, &start);
  expect_unknown(check_run_request(&w), "RunRequest.start", 15);
  put_unknown(&w, 7, 5);
  expect_unknown(check_run_request(&w), "RunRequest", 7);
}

static void unknown_in_health_check_request(void **state) {
  Grpc__Health__V1__HealthCheckRequest req =
      GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  Grpc__Health__V1__HealthCheckRequest *r;
  wbuf w = {0};
  (void)state;
  req.service = "gexec.v1.Exec";
  put_msg(&w, &req.base);
  r = grpc__health__v1__health_check_request__unpack(NULL, w.n, w.b);
  assert_non_null(r);
  expect_ok(gxd_wire_check_unknown(&r->base, why, sizeof why));
  grpc__health__v1__health_check_request__free_unpacked(r, NULL);
  put_unknown(&w, 2, 2);
  r = grpc__health__v1__health_check_request__unpack(NULL, w.n, w.b);
  assert_non_null(r);
  memset(why, 0, sizeof why);
  expect_unknown(gxd_wire_check_unknown(&r->base, why, sizeof why),
                 "HealthCheckRequest", 2);
  grpc__health__v1__health_check_request__free_unpacked(r, NULL);
}

/* The reason is cut at the caller's bound, never written past it. */
static void reason_bounded(void **state) {
  Gexec__V1__RunRequest *r;
  char small[16];
  wbuf w = {0};
  (void)state;
  put_unknown(&w, 5, 0);
  r = gexec__v1__run_request__unpack(NULL, w.n, w.b);
  assert_non_null(r);
  memset(small, 'z', sizeof small);
  assert_int_equal(gxd_wire_check_unknown(&r->base, small, 8),
                   GX_STATUS_INVALID_ARGUMENT);
  assert_string_equal(small, "RunRequ");
  assert_int_equal(small[8], 'z');
  assert_int_equal(gxd_wire_check_unknown(&r->base, NULL, 0),
                   GX_STATUS_INVALID_ARGUMENT);
  gexec__v1__run_request__free_unpacked(r, NULL);
}

/* ------------------------------------------ depth, on a recursive type */

/* gexec's schemas are not recursive, so the depth bound is tested on a
 * hand-written descriptor of `message Node { Node child = 1; }`. */
typedef struct node {
  ProtobufCMessage base;
  struct node *child;
} node;

static const ProtobufCMessageDescriptor node_descriptor;

static const ProtobufCFieldDescriptor node_fields[1] = {
    {"child", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0,
     offsetof(node, child), &node_descriptor, NULL, 0, 0, NULL, NULL},
};

static const ProtobufCMessageDescriptor node_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.Node", "Node", "Node", "t",
    sizeof(node), 1, node_fields, NULL, 0, NULL, NULL, NULL, NULL, NULL,
};

/* Links @p n[0..count-1] into a chain; marks the last one's field 4 as
 * unknown when @p unknown is set. */
static void chain(node *n, size_t count, ProtobufCMessageUnknownField *unk,
                  int unknown) {
  memset(n, 0, count * sizeof *n);
  for (size_t i = 0; i < count; i++) {
    n[i].base.descriptor = &node_descriptor;
    n[i].child = i + 1 < count ? &n[i + 1] : NULL;
  }
  n[count - 1].base.n_unknown_fields = unknown ? 1 : 0;
  n[count - 1].base.unknown_fields = unk;
}

static void depth_bounded(void **state) {
  node n[GXD_WIRE_MAX_DEPTH + 1];
  ProtobufCMessageUnknownField unk = {4, PROTOBUF_C_WIRE_TYPE_VARINT, 0,
                                      NULL};
  char path[256] = "Node";
  (void)state;
  for (int i = 1; i < GXD_WIRE_MAX_DEPTH; i++)
    strncat(path, ".child", sizeof path - strlen(path) - 1);
  chain(n, GXD_WIRE_MAX_DEPTH, &unk, 0);
  expect_ok(gxd_wire_check_unknown(&n[0].base, why, sizeof why));
  chain(n, GXD_WIRE_MAX_DEPTH, &unk, 1); /* the deepest level is checked */
  memset(why, 0, sizeof why);
  expect_unknown(gxd_wire_check_unknown(&n[0].base, why, sizeof why), path,
                 4);
  chain(n, GXD_WIRE_MAX_DEPTH + 1, &unk, 0);
  memset(why, 0, sizeof why);
  assert_int_equal(gxd_wire_check_unknown(&n[0].base, why, sizeof why),
                   GX_STATUS_INVALID_ARGUMENT);
  strncat(path, ".child nests messages more than 16 levels deep; refusing "
                "what this gexecd cannot check", sizeof path - strlen(path) - 1);
  assert_string_equal(why, path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(clean_messages_pass),
      cmocka_unit_test(unknown_in_run_request),
      cmocka_unit_test(unknown_in_start),
      cmocka_unit_test(unknown_in_limits),
      cmocka_unit_test(unknown_in_env_entry),
      cmocka_unit_test(unknown_in_signal),
      cmocka_unit_test(unknown_in_stdin_eof),
      cmocka_unit_test(unknown_every_wire_type),
      cmocka_unit_test(first_unknown_is_named),
      cmocka_unit_test(unknown_in_health_check_request),
      cmocka_unit_test(reason_bounded),
      cmocka_unit_test(depth_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
