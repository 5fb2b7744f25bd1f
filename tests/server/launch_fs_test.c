/* Unit tests for the fork-server messages of server/launch_wire (the
 * fixed binary protocol between gexecd and gexec-launch --serve): exact
 * layout, every refusal, and a mutation fuzz target. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/launch_wire.h"

static gxl_fs_msg run_msg(void) {
  gxl_fs_msg m = {.type = GXL_FS_RUN, .run_id = 0x0102030405060708ull};
  m.run.run_id = m.run_id;
  m.run.profile = GXI_PROFILE_RESTRICTED;
  m.run.mechs = gxi_profile_builtin(GXI_PROFILE_RESTRICTED)->mechs;
  m.run.limits = (gxi_limits){1ull << 30, 1024, 1500, 64};
  snprintf(m.run.cgroup, sizeof m.run.cgroup, "inst-1/run-7");
  return m;
}

static uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void run_layout_and_round_trip(void **state) {
  (void)state;
  uint8_t buf[GXL_FS_MSG_LEN];
  gxl_fs_msg m = run_msg(), d;
  char why[128];
  assert_int_equal(gxl_fs_encode(&m, buf), 0);
  assert_memory_equal(buf, "GXFS1\n\0\0", 8);
  assert_int_equal(le(buf + 8, 4), GXL_FS_RUN);
  assert_int_equal(le(buf + 12, 4), 0);
  assert_true(le(buf + 16, 8) == 0x0102030405060708ull);
  assert_int_equal(le(buf + 24, 4), GXI_PROFILE_RESTRICTED);
  assert_int_equal(le(buf + 28, 4), m.run.mechs);
  assert_true(le(buf + 32, 8) == 1ull << 30);
  assert_int_equal(le(buf + 40, 8), 1024);
  assert_int_equal(le(buf + 48, 8), 1500);
  assert_int_equal(le(buf + 56, 8), 64);
  assert_string_equal((char *)buf + 64, "inst-1/run-7");
  for (size_t i = 64 + strlen("inst-1/run-7"); i < GXL_FS_MSG_LEN; i++)
    assert_int_equal(buf[i], 0);
  assert_int_equal(gxl_fs_decode(buf, sizeof buf, &d, why, sizeof why), 0);
  assert_memory_equal(&d.run, &m.run, sizeof m.run);
  assert_int_equal(d.type, GXL_FS_RUN);
  assert_true(d.run_id == m.run_id);
}

static void replies_round_trip(void **state) {
  (void)state;
  uint8_t buf[GXL_FS_MSG_LEN];
  char why[128];
  gxl_fs_msg d, ms[] = {
      {.type = GXL_FS_KILL, .run_id = 9},
      {.type = GXL_FS_STARTED, .run_id = 9, .pid = 4242},
      {.type = GXL_FS_FAILED, .run_id = 9, .err = EAGAIN},
      {.type = GXL_FS_EXITED, .run_id = 9, .pid = 4242, .wait_status = 0x0900,
       .user_us = 11, .sys_us = 22, .max_rss_kb = 33},
  };
  for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
    assert_int_equal(gxl_fs_encode(&ms[i], buf), 0);
    assert_int_equal(gxl_fs_decode(buf, sizeof buf, &d, why, sizeof why), 0);
    assert_memory_equal(&d, &ms[i], sizeof d);
  }
  assert_int_equal(le(buf + 24, 4), 4242);
  assert_int_equal(le(buf + 28, 4), 0x0900);
  assert_int_equal(le(buf + 48, 8), 33);
}

static void assert_refused(const uint8_t *buf, size_t len, const char *part) {
  gxl_fs_msg d;
  char why[128] = "";
  assert_int_equal(gxl_fs_decode(buf, len, &d, why, sizeof why), -EINVAL);
  if (!strstr(why, part)) fail_msg("'%s' lacks '%s'", why, part);
  assert_int_equal(d.type, 0);
}

static void refusals(void **state) {
  (void)state;
  uint8_t good[GXL_FS_MSG_LEN], b[GXL_FS_MSG_LEN + 1];
  gxl_fs_msg m = run_msg();
  assert_int_equal(gxl_fs_encode(&m, good), 0);
  assert_refused(good, GXL_FS_MSG_LEN - 1, "wrong length");
  memcpy(b, good, sizeof good);
  b[GXL_FS_MSG_LEN] = 0;
  assert_refused(b, GXL_FS_MSG_LEN + 1, "wrong length");
#define MUTATE(off, val, part)                                           \
  do {                                                                   \
    memcpy(b, good, sizeof good);                                        \
    b[off] = (uint8_t)(val);                                             \
    assert_refused(b, GXL_FS_MSG_LEN, part);                             \
  } while (0)
  MUTATE(0, 'X', "no header");
  MUTATE(8, 0, "unknown message type");
  MUTATE(8, 6, "unknown message type");
  MUTATE(12, 1, "nonzero padding");
  MUTATE(GXL_FS_MSG_LEN - 1, 1, "nonzero padding");
  MUTATE(24, GXI_PROFILE_BUILTINS, "unknown profile");
  MUTATE(29, 0x08, "unknown mechanism bits"); /* bit 11 */
  MUTATE(64 + 3, ' ', "bad cgroup name");
  MUTATE(64 + 20, 'x', "bytes after the cgroup name");
  memcpy(b, good, sizeof good);
  memset(b + 64, 'a', GXI_CGROUP_NAME_MAX + 1);
  assert_refused(b, GXL_FS_MSG_LEN, "not terminated");
  memcpy(b, good, sizeof good);
  memset(b + 16, 0, 8);
  assert_refused(b, GXL_FS_MSG_LEN, "run id 0");
  /* a KILL carries nothing: a RUN body behind it is refused */
  b[8] = GXL_FS_KILL;
  memcpy(b, good, sizeof good);
  b[8] = GXL_FS_KILL;
  assert_refused(b, GXL_FS_MSG_LEN, "nonzero padding");
  /* replies: pid and errno must be positive */
  gxl_fs_msg st = {.type = GXL_FS_STARTED, .run_id = 1, .pid = 5};
  assert_int_equal(gxl_fs_encode(&st, b), 0);
  b[27] = 0x80; /* pid negative */
  assert_refused(b, GXL_FS_MSG_LEN, "pid out of range");
  st.pid = 0;
  assert_int_equal(gxl_fs_encode(&st, b), -EINVAL);
  gxl_fs_msg f = {.type = GXL_FS_FAILED, .run_id = 1, .err = 0};
  assert_int_equal(gxl_fs_encode(&f, b), -EINVAL);
#undef MUTATE
}

/* The fuzz target: any bytes either decode to a message that encodes
 * back to the same bytes, or are refused with a reason; never a crash or
 * an over-read (run under ASan). Also a libFuzzer entry point when built
 * with -fsanitize=fuzzer -DGXL_FS_LIBFUZZER. */
static int fuzz_one(const uint8_t *data, size_t len) {
  gxl_fs_msg m;
  char why[128];
  uint8_t again[GXL_FS_MSG_LEN];
  if (gxl_fs_decode(data, len, &m, why, sizeof why) != 0) return why[0] ? 0 : 1;
  if (gxl_fs_encode(&m, again) != 0) return 1;
  return memcmp(again, data, GXL_FS_MSG_LEN) != 0;
}

#ifdef GXL_FS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  if (fuzz_one(data, len)) __builtin_trap();
  return 0;
}
#endif

static void mutation_fuzz(void **state) {
  (void)state;
  uint8_t seeds[5][GXL_FS_MSG_LEN], b[GXL_FS_MSG_LEN + 8];
  gxl_fs_msg m = run_msg();
  gxl_fs_msg r[4] = {{.type = GXL_FS_KILL, .run_id = 3},
                     {.type = GXL_FS_STARTED, .run_id = 3, .pid = 7},
                     {.type = GXL_FS_FAILED, .run_id = 3, .err = 12},
                     {.type = GXL_FS_EXITED, .run_id = 3, .pid = 7}};
  assert_int_equal(gxl_fs_encode(&m, seeds[0]), 0);
  for (int i = 0; i < 4; i++) assert_int_equal(gxl_fs_encode(&r[i], seeds[i + 1]), 0);
  uint32_t seed = 12345;
  int decoded = 0;
  for (int iter = 0; iter < 50000; iter++) {
    memcpy(b, seeds[iter % 5], GXL_FS_MSG_LEN);
    int flips = 1 + iter % 4;
    for (int f = 0; f < flips; f++) {
      seed = seed * 1103515245u + 12345u;
      b[(seed >> 8) % GXL_FS_MSG_LEN] = (uint8_t)(seed >> 20);
    }
    seed = seed * 1103515245u + 12345u;
    size_t len = (seed >> 16) % 64 == 0 ? (seed >> 4) % (GXL_FS_MSG_LEN + 8)
                                        : GXL_FS_MSG_LEN;
    assert_int_equal(fuzz_one(b, len), 0);
    gxl_fs_msg d;
    char why[128];
    decoded += gxl_fs_decode(b, len, &d, why, sizeof why) == 0;
  }
  /* flips in counters and names keep some messages valid */
  assert_true(decoded > 1000);
}

/* Descriptors this process has open. */
static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  while (d && readdir(d)) n++;
  if (d) closedir(d);
  return n;
}

/* A message sent with @p n descriptors of our own making (raw sendmsg:
 * the helper refuses wrong counts). */
static void send_raw(int sock, const uint8_t *buf, size_t len, int n) {
  int fds[8];
  union {
    char b[CMSG_SPACE(8 * sizeof(int))];
    struct cmsghdr align;
  } cm;
  struct iovec iov = {(void *)buf, len};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  for (int i = 0; i < n; i++) fds[i] = dup(0);
  if (n) {
    mh.msg_control = cm.b;
    mh.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
  }
  assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
  for (int i = 0; i < n; i++) close(fds[i]);
}

/* The transport: a RUN arrives with its five descriptors (the very files
 * sent); a wrong count, descriptors on a KILL, or garbage are -EPROTO
 * with every descriptor closed and the raw run id kept; nothing waiting
 * is 0; a closed peer is -EPIPE. */
static void send_and_receive(void **state) {
  (void)state;
  int sv[2], p[2], fds[GXL_FS_RUN_FDS], got[GXL_FS_RUN_FDS];
  char why[128];
  uint64_t raw;
  gxl_fs_msg m = run_msg(), r;
  uint8_t buf[GXL_FS_MSG_LEN];
  struct stat a, b;
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  assert_int_equal(pipe(p), 0);
  for (int i = 0; i < GXL_FS_RUN_FDS; i++) fds[i] = p[i % 2];
  int before = open_fds();
  assert_int_equal(gxl_fs_recv(sv[1], &r, got, &raw, why, sizeof why), 0);
  assert_int_equal(gxl_fs_send(sv[0], &m, fds, GXL_FS_RUN_FDS, 0), 0);
  assert_int_equal(gxl_fs_recv(sv[1], &r, got, &raw, why, sizeof why), 1);
  assert_memory_equal(&r.run, &m.run, sizeof m.run);
  for (int i = 0; i < GXL_FS_RUN_FDS; i++) {
    assert_int_equal(fstat(got[i], &a), 0);
    assert_int_equal(fstat(fds[i], &b), 0);
    assert_true(a.st_ino == b.st_ino);
    close(got[i]);
  }
  assert_int_equal(open_fds(), before);
  /* a RUN with three descriptors, a KILL with one */
  assert_int_equal(gxl_fs_encode(&m, buf), 0);
  send_raw(sv[0], buf, sizeof buf, 3);
  assert_int_equal(gxl_fs_recv(sv[1], &r, got, &raw, why, sizeof why), -EPROTO);
  assert_string_equal(why, "malformed fork-server message: wrong number of "
                           "descriptors");
  assert_true(raw == m.run_id);
  for (int i = 0; i < GXL_FS_RUN_FDS; i++) assert_int_equal(got[i], -1);
  gxl_fs_msg k = {.type = GXL_FS_KILL, .run_id = 5};
  assert_int_equal(gxl_fs_encode(&k, buf), 0);
  send_raw(sv[0], buf, sizeof buf, 1);
  assert_int_equal(gxl_fs_recv(sv[1], &r, got, &raw, why, sizeof why), -EPROTO);
  assert_int_equal(open_fds(), before);
  /* garbage: the run id field as sent */
  buf[0] = 'X';
  send_raw(sv[0], buf, sizeof buf, 0);
  assert_int_equal(gxl_fs_recv(sv[1], &r, got, &raw, why, sizeof why), -EPROTO);
  assert_int_equal(raw, 5);
  /* an invalid message is not sent at all */
  k.run_id = 0;
  assert_int_equal(gxl_fs_send(sv[0], &k, NULL, 0, 0), -EINVAL);
  close(sv[0]);
  assert_int_equal(gxl_fs_recv(sv[1], &r, got, &raw, why, sizeof why), -EPIPE);
  close(sv[1]);
  close(p[0]);
  close(p[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(run_layout_and_round_trip),
      cmocka_unit_test(replies_round_trip),
      cmocka_unit_test(refusals),
      cmocka_unit_test(mutation_fuzz),
      cmocka_unit_test(send_and_receive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
