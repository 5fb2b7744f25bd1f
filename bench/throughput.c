/* gexec_bench: sections 2 and 3, stdout and stdin throughput. See main.c and docs/BENCHMARKS.md. */
#include "bench/bench.h"

/* ------------------------------------------------ 2. stdout throughput */

static int remote_stdout(gexec_conn *c, uint64_t bytes, double *rate,
                         drained *d_out) {
  static const char what[] = "remote head -c N /dev/zero";
  char count[32];
  snprintf(count, sizeof count, "%" PRIu64, bytes);
  const char *const argv[] = {"/usr/bin/head", "-c", count, "/dev/zero",
                              NULL};
  gexec_spec s = {.argv = argv, .stdin_null = 1};
  gexec_proc *p;
  gexec_error e;
  drained d;
  int64_t t0 = gb_now_ns();
  int rc = gexec_proc_start(c, &s, &p, &e);
  if (rc != GEXEC_OK) return gb_fail_gexec(what, rc, &e);
  rc = gb_drain(p, &d, &e);
  int64_t ns = gb_now_ns() - t0;
  gexec_proc_free(p);
  if (rc != GEXEC_OK) return gb_fail_gexec(what, rc, &e);
  if (gb_check_drained(what, &d)) return -1;
  if (d.out != bytes)
    return gb_fail(what, "read %" PRIu64 " bytes, expected %" PRIu64, d.out,
                bytes);
  *rate = gb_gbps(bytes, ns);
  *d_out = d;
  return 0;
}

/* Spawns argv[0] with stdin from @p in_fd and stdout to @p out_fd (-1:
 * inherited). The fds should be O_CLOEXEC; dup2 clears it on 0 and 1. */
static int spawn_local(char *const *argv, int in_fd, int out_fd,
                       pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  int rc = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

/* Reads @p fd to EOF in LOCAL_READ pieces; keeps the first bytes. */
int64_t gb_read_to_eof(int fd, char *keep, size_t keep_len) {
  static uint8_t buf[LOCAL_READ];
  int64_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return total;
    if (keep && (uint64_t)total < keep_len - 1) {
      size_t k = (size_t)n < keep_len - 1 - (size_t)total
                     ? (size_t)n : keep_len - 1 - (size_t)total;
      memcpy(keep + total, buf, k);
      keep[total + (int64_t)k] = '\0';
    }
    total += n;
  }
}

static int local_stdout(uint64_t bytes, double *rate) {
  static const char what[] = "local head -c N /dev/zero";
  static char a0[] = "/usr/bin/head", a1[] = "-c", a3[] = "/dev/zero";
  char count[32];
  int fds[2];
  pid_t pid;
  snprintf(count, sizeof count, "%" PRIu64, bytes);
  char *const argv[] = {a0, a1, count, a3, NULL};
  if (pipe2(fds, O_CLOEXEC) != 0)
    return gb_fail(what, "pipe: %s", strerror(errno));
  int64_t t0 = gb_now_ns();
  int rc = spawn_local(argv, -1, fds[1], &pid);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return gb_fail(what, "posix_spawn: %s", strerror(rc));
  }
  int64_t got = gb_read_to_eof(fds[0], NULL, 0);
  close(fds[0]);
  rc = gb_wait_child(what, pid);
  int64_t ns = gb_now_ns() - t0;
  if (rc) return -1;
  if (got != (int64_t)bytes)
    return gb_fail(what, "read %" PRId64 " bytes, expected %" PRIu64, got, bytes);
  *rate = gb_gbps(bytes, ns);
  return 0;
}

static void throughput_row(const char *sec, const char *metric, int ok,
                           double remote, double local, int with_target) {
  row *w = gb_add_row(sec, metric);
  if (!ok) {
    SET(w->result, "FAILED");
    return;
  }
  SET(w->remote, "%.2f GB/s", remote);
  SET(w->local, "%.2f GB/s", local);
  SET(w->ratio, "%.2f×", remote / local);
  if (!with_target) return;
  SET(w->target, "≥ %.0f GB/s", GBPS_TARGET);
  SET(w->result, "%s", remote >= GBPS_TARGET ? "MET" : "MISSED");
}

void bench_stdout(const options *o, gexec_conn *c) {
  double r = 0, l = 0;
  drained d = {0};
  int ok = remote_stdout(c, o->bytes, &r, &d) == 0;
  ok = local_stdout(o->bytes, &l) == 0 && ok;
  char m[80];
  snprintf(m, sizeof m, "stdout: `head -c %" PRIu64 " /dev/zero`", o->bytes);
  throughput_row("2", m, ok, r, l, 1);
  if (!d.out_events) return;
  row *w = gb_add_row("2", "(context) stdout events read: count, mean / max size");
  SET(w->remote, "%" PRIu64 ", %.0f / %.0f KiB", d.out_events,
      (double)d.out / (double)d.out_events / 1024.0,
      (double)d.max_event / 1024.0);
  SET(w->local, "%u KiB reads", LOCAL_READ / 1024);
}

/* ------------------------------------------------- 3. stdin throughput */

static int check_count(const char *what, const char *text, uint64_t bytes) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text)
    return gb_fail(what, "wc printed '%.40s', not a number", text);
  if (v != bytes)
    return gb_fail(what, "wc counted %llu bytes, %" PRIu64 " were sent", v,
                bytes);
  return 0;
}

static int send_stdin(gexec_proc *p, const uint8_t *buf, uint64_t bytes,
                      gexec_error *e) {
  for (uint64_t off = 0; off < bytes; off += WRITE_CHUNK) {
    size_t n = bytes - off < WRITE_CHUNK ? (size_t)(bytes - off) : WRITE_CHUNK;
    int rc = gexec_proc_write(p, buf, n, e);
    if (rc != GEXEC_OK) return rc;
  }
  return gexec_proc_close_stdin(p, e);
}

static int remote_stdin(gexec_conn *c, const uint8_t *buf, uint64_t bytes,
                        double *rate) {
  static const char what[] = "remote wc -c";
  static const char *const argv[] = {"/usr/bin/wc", "-c", NULL};
  gexec_spec s = {.argv = argv};
  gexec_proc *p;
  gexec_error e;
  drained d;
  int64_t t0 = gb_now_ns();
  int rc = gexec_proc_start(c, &s, &p, &e);
  if (rc != GEXEC_OK) return gb_fail_gexec(what, rc, &e);
  rc = send_stdin(p, buf, bytes, &e);
  if (rc == GEXEC_OK) rc = gb_drain(p, &d, &e);
  int64_t ns = gb_now_ns() - t0;
  gexec_proc_free(p);
  if (rc != GEXEC_OK) return gb_fail_gexec(what, rc, &e);
  if (gb_check_drained(what, &d) || check_count(what, d.text, bytes)) return -1;
  *rate = gb_gbps(bytes, ns);
  return 0;
}

static int local_feed(int fd, const uint8_t *buf, uint64_t bytes) {
  for (uint64_t off = 0; off < bytes; off += WRITE_CHUNK) {
    size_t n = bytes - off < WRITE_CHUNK ? (size_t)(bytes - off) : WRITE_CHUNK;
    if (gb_write_all(fd, buf, n) != 0) return -1;
  }
  return 0;
}

static int local_stdin(const uint8_t *buf, uint64_t bytes, double *rate) {
  static const char what[] = "local wc -c";
  static char a0[] = "/usr/bin/wc", a1[] = "-c";
  char *const argv[] = {a0, a1, NULL};
  char text[64] = "";
  int in[2], out[2];
  pid_t pid;
  if (pipe2(in, O_CLOEXEC) != 0)
    return gb_fail(what, "pipe: %s", strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return gb_fail(what, "pipe: %s", strerror(errno));
  }
  int64_t t0 = gb_now_ns();
  int rc = spawn_local(argv, in[0], out[1], &pid);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return gb_fail(what, "posix_spawn: %s", strerror(rc));
  }
  int wr = local_feed(in[1], buf, bytes);
  close(in[1]);
  int64_t got = gb_read_to_eof(out[0], text, sizeof text);
  close(out[0]);
  rc = gb_wait_child(what, pid);
  int64_t ns = gb_now_ns() - t0;
  if (wr != 0 || got < 0) return gb_fail(what, "pipe I/O failed");
  if (rc || check_count(what, text, bytes)) return -1;
  *rate = gb_gbps(bytes, ns);
  return 0;
}

void bench_stdin(const options *o, gexec_conn *c) {
  double r = 0, l = 0;
  uint8_t *buf = malloc(WRITE_CHUNK);
  if (!buf) {
    gb_fail("stdin", "out of memory");
    return;
  }
  memset(buf, 'x', WRITE_CHUNK);
  int ok = remote_stdin(c, buf, o->bytes, &r) == 0;
  ok = local_stdin(buf, o->bytes, &l) == 0 && ok;
  free(buf);
  char m[80];
  snprintf(m, sizeof m, "stdin: %" PRIu64 " bytes into `wc -c`, 1 MiB writes",
           o->bytes);
  throughput_row("3", m, ok, r, l, 0);
}
