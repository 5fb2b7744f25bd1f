/* Unit tests for client/cli/udiff: unified diffs.
 *
 * Three kinds of evidence:
 *  - fixed expected texts for the basic shapes (written out here, so the
 *    format is pinned even without GNU diff);
 *  - byte-for-byte equality with GNU diff 3.8 (`/usr/bin/diff -u --label a
 *    --label b`, run on files under $TEST_TMPDIR by fork/exec) on a table
 *    of cases and on 500 seeded random pairs: there each diff must also
 *    turn a into b (a patch applier below) and have as many '-' and '+'
 *    lines as GNU's. Plain `diff -u` may pick another alignment of the
 *    same length (its discard_confusing_lines pass), `diff -u -d`
 *    (--minimal) picks the same one as udiff: byte equality is checked
 *    against that;
 *  - bounds: a failing sink, 200,000-line inputs, the edit-distance and
 *    size fallbacks. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/cli/udiff.h"

#define OUT_MAX ((size_t)256 << 20)

/* A growable byte buffer (the sink's and the texts'). */
typedef struct {
  char *p;
  size_t len, cap;
  int calls, fail_at; /* fail_at: the call that returns -1 (0: never) */
} buf;

static void buf_add(buf *b, const char *p, size_t len) {
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + len + 1) cap *= 2;
    assert_true(cap <= OUT_MAX);
    b->p = realloc(b->p, cap);
    assert_non_null(b->p);
    b->cap = cap;
  }
  if (len > 0) memcpy(b->p + b->len, p, len);
  b->len += len;
  b->p[b->len] = '\0';
}

static void buf_printf(buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof tmp);
  buf_add(b, tmp, (size_t)n);
}

static int sink(void *ud, const char *data, size_t len) {
  buf *b = ud;
  assert_true(len > 0);
  b->calls++;
  if (b->fail_at != 0 && b->calls >= b->fail_at) {
    assert_int_equal(b->calls, b->fail_at); /* never called again */
    return -1;
  }
  buf_add(b, data, len);
  return 0;
}

/* udiff of two byte strings with labels "a" and "b"; the caller frees. */
static buf udiff_of(const char *a, size_t a_len, const char *b, size_t b_len) {
  buf out = {0};
  assert_int_equal(gxc_udiff(a, a_len, b, b_len, "a", "b", sink, &out), 0);
  buf_add(&out, "", 0);
  return out;
}

static void write_file(const char *path, const char *p, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, p, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
}

static void tmp_path(char *path, size_t cap, const char *name) {
  const char *dir = getenv("TEST_TMPDIR");
  int n = snprintf(path, cap, "%s/%s", dir ? dir : "/tmp", name);
  assert_true(n > 0 && (size_t)n < cap);
}

/* GNU diff's output: `diff -u [flag] --label a --label b A B`. */
static buf gnu_diff(const char *a, size_t a_len, const char *b, size_t b_len,
                    const char *flag) {
  char pa[4096], pb[4096];
  tmp_path(pa, sizeof pa, "udiff_a");
  tmp_path(pb, sizeof pb, "udiff_b");
  write_file(pa, a, a_len);
  write_file(pb, b, b_len);
  int fds[2];
  assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char *argv[] = {"diff", "-u",     (char *)flag, "--label", "a", "--label",
                    "b",    pa,       pb,           NULL};
    dup2(fds[1], 1);
    if (flag == NULL) memmove(&argv[2], &argv[3], 7 * sizeof argv[0]);
    execv("/usr/bin/diff", argv);
    _exit(127);
  }
  close(fds[1]);
  buf out = {0};
  char tmp[65536];
  ssize_t n;
  while ((n = read(fds[0], tmp, sizeof tmp)) > 0) buf_add(&out, tmp, (size_t)n);
  close(fds[0]);
  buf_add(&out, "", 0);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) <= 1);
  return out;
}

/* The '-' and '+' lines of a diff (not its "---"/"+++" headers). */
static size_t changed_lines(const buf *d) {
  size_t n = 0;
  for (size_t i = 0; i < d->len;) {
    const char *nl = memchr(d->p + i, '\n', d->len - i);
    size_t end = nl ? (size_t)(nl - d->p) + 1 : d->len;
    int header = end - i >= 4 && (memcmp(d->p + i, "--- ", 4) == 0 ||
                                  memcmp(d->p + i, "+++ ", 4) == 0);
    if (!header && (d->p[i] == '-' || d->p[i] == '+')) n++;
    i = end;
  }
  return n;
}

/* ---- a patch applier: applies a unified diff to a, returns b ---- */

typedef struct {
  const char *p;
  size_t len, pos, line; /* line: how many lines were read */
} reader;

/* The next line of @p r (with its '\n'); 0 at the end. */
static int next_line(reader *r, const char **line, size_t *len) {
  if (r->pos >= r->len) return 0;
  const char *nl = memchr(r->p + r->pos, '\n', r->len - r->pos);
  size_t end = nl ? (size_t)(nl - r->p) + 1 : r->len;
  *line = r->p + r->pos;
  *len = end - r->pos;
  r->pos = end;
  r->line++;
  return 1;
}

/* A hunk body line: its prefix and text; a following "\ No newline"
 * marker takes the text's '\n' away. */
static int body_line(reader *d, char *prefix, const char **text,
                     size_t *len) {
  const char *l = NULL;
  size_t n = 0;
  size_t save = d->pos;
  if (!next_line(d, &l, &n) || l[0] == '@') {
    d->pos = save;
    return 0;
  }
  *prefix = l[0];
  *text = l + 1;
  *len = n - 1;
  save = d->pos;
  if (next_line(d, &l, &n) && l[0] == '\\') {
    assert_true(*len > 0 && (*text)[*len - 1] == '\n');
    --*len;
  } else {
    d->pos = save;
  }
  return 1;
}

static void take_a_line(reader *a, const char *text, size_t len, buf *out) {
  const char *l = NULL;
  size_t n = 0;
  assert_true(next_line(a, &l, &n));
  assert_int_equal(n, len);
  assert_memory_equal(l, text, len);
  if (out) buf_add(out, l, n);
}

static void apply_hunk(reader *a, reader *d, const char *hdr, buf *out) {
  unsigned long l0, s0 = 1, l1, s1 = 1;
  if (sscanf(hdr, "@@ -%lu,%lu +%lu,%lu @@", &l0, &s0, &l1, &s1) != 4 &&
      sscanf(hdr, "@@ -%lu +%lu,%lu @@", &l0, &l1, &s1) != 3 &&
      sscanf(hdr, "@@ -%lu,%lu +%lu @@", &l0, &s0, &l1) != 3) {
    assert_int_equal(sscanf(hdr, "@@ -%lu +%lu @@", &l0, &l1), 2);
  }
  unsigned long start = s0 == 0 ? l0 : l0 - 1, seen0 = 0, seen1 = 0;
  const char *l = NULL;
  size_t n = 0;
  assert_true(a->line <= start);
  while (a->line < start) {
    assert_true(next_line(a, &l, &n));
    buf_add(out, l, n);
  }
  char prefix;
  const char *text;
  while (body_line(d, &prefix, &text, &n)) {
    assert_true(prefix == ' ' || prefix == '-' || prefix == '+');
    if (prefix != '+') take_a_line(a, text, n, prefix == ' ' ? out : NULL);
    if (prefix == '+') buf_add(out, text, n);
    seen0 += prefix != '+';
    seen1 += prefix != '-';
  }
  assert_int_equal(seen0, s0);
  assert_int_equal(seen1, s1);
}

/* Applies @p diff (headers "--- a", "+++ b") to @p a. */
static buf apply(const char *a, size_t a_len, const buf *diff) {
  reader ra = {a, a_len, 0, 0}, rd = {diff->p, diff->len, 0, 0};
  buf out = {0};
  const char *l = NULL;
  size_t n = 0;
  char hdr[256];
  buf_add(&out, "", 0);
  if (diff->len == 0) {
    buf_add(&out, a, a_len);
    return out;
  }
  assert_true(next_line(&rd, &l, &n) && n == 6 && !memcmp(l, "--- a\n", 6));
  assert_true(next_line(&rd, &l, &n) && n == 6 && !memcmp(l, "+++ b\n", 6));
  while (next_line(&rd, &l, &n)) {
    assert_true(n < sizeof hdr && l[0] == '@');
    memcpy(hdr, l, n);
    hdr[n] = '\0';
    apply_hunk(&ra, &rd, hdr, &out);
  }
  while (next_line(&ra, &l, &n)) buf_add(&out, l, n);
  return out;
}

/* Asserts that @p diff turns @p a into @p b. */
static void assert_applies(const buf *a, const buf *b, const buf *diff) {
  buf back = apply(a->p, a->len, diff);
  assert_int_equal(back.len, b->len);
  assert_memory_equal(back.p, b->p, b->len);
  free(back.p);
}

static void assert_same(const buf *got, const buf *want) {
  assert_int_equal(got->len, want->len);
  assert_memory_equal(got->p, want->p, got->len);
}

/* ---- fixed expected outputs ---- */

static void expect(const char *a, const char *b, const char *want) {
  buf got = udiff_of(a, strlen(a), b, strlen(b));
  assert_string_equal(got.p, want);
  free(got.p);
}

static void inserts(void **state) {
  (void)state;
  expect("b\nc\nd\n", "a\nb\nc\nd\n",
         "--- a\n+++ b\n@@ -1,3 +1,4 @@\n+a\n b\n c\n d\n");
  expect("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nX\n5\n6\n7\n8\n",
         "--- a\n+++ b\n@@ -2,6 +2,7 @@\n 2\n 3\n 4\n+X\n 5\n 6\n 7\n");
  expect("1\n2\n3\n4\n5\n", "1\n2\n3\n4\n5\n6\n",
         "--- a\n+++ b\n@@ -3,3 +3,4 @@\n 3\n 4\n 5\n+6\n");
}

static void deletes_and_changes(void **state) {
  (void)state;
  expect("1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\n5\n6\n7\n",
         "--- a\n+++ b\n@@ -1,7 +1,6 @@\n 1\n 2\n 3\n-4\n 5\n 6\n 7\n");
  expect("1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nX\nY\n5\n6\n7\n",
         "--- a\n+++ b\n@@ -1,7 +1,8 @@\n 1\n 2\n 3\n-4\n+X\n+Y\n 5\n 6\n"
         " 7\n");
  expect("only\n", "", "--- a\n+++ b\n@@ -1 +0,0 @@\n-only\n");
  expect("", "1\n2\n", "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+1\n+2\n");
  expect("x\n", "y\n", "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n");
}

/* Changes 6 common lines apart share a hunk; 7 apart, they do not. */
static void hunks_merge_within_context(void **state) {
  (void)state;
  expect("X\n1\n2\n3\n4\n5\n6\nY\n", "x\n1\n2\n3\n4\n5\n6\ny\n",
         "--- a\n+++ b\n@@ -1,8 +1,8 @@\n-X\n+x\n 1\n 2\n 3\n 4\n 5\n 6\n"
         "-Y\n+y\n");
  expect("X\n1\n2\n3\n4\n5\n6\n7\nY\n", "x\n1\n2\n3\n4\n5\n6\n7\ny\n",
         "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-X\n+x\n 1\n 2\n 3\n"
         "@@ -6,4 +6,4 @@\n 5\n 6\n 7\n-Y\n+y\n");
}

static void no_newline_at_end(void **state) {
  (void)state;
  const char *nonl = "\\ No newline at end of file\n";
  buf w = {0};
  buf_printf(&w, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n 1\n-2\n+2\n%s", nonl);
  expect("1\n2\n", "1\n2", w.p);
  w.len = 0;
  buf_printf(&w, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n 1\n-2\n%s+2\n", nonl);
  expect("1\n2", "1\n2\n", w.p);
  w.len = 0;
  buf_printf(&w, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n 1\n-2\n%s+3\n%s", nonl,
             nonl);
  expect("1\n2", "1\n3", w.p);
  w.len = 0;
  buf_printf(&w, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-1\n+2\n x\n%s", nonl);
  expect("1\nx", "2\nx", w.p);
  free(w.p);
}

/* Identical texts: the sink is never called. */
static void identical_writes_nothing(void **state) {
  buf out = {0};
  (void)state;
  assert_int_equal(gxc_udiff("a\nb", 3, "a\nb", 3, "a", "b", sink, &out), 0);
  assert_int_equal(gxc_udiff(NULL, 0, NULL, 0, "a", "b", sink, &out), 0);
  assert_int_equal(out.calls, 0);
}

/* The labels are written as given. */
static void labels(void **state) {
  buf out = {0};
  (void)state;
  assert_int_equal(gxc_udiff("1\n", 2, "2\n", 2, "node[01-40,42]",
                             "node07 (3 hosts)", sink, &out),
                   0);
  assert_string_equal(out.p,
                      "--- node[01-40,42]\n+++ node07 (3 hosts)\n"
                      "@@ -1 +1 @@\n-1\n+2\n");
  free(out.p);
}

/* ---- against GNU diff ---- */

static void same_as_gnu(const char *a, size_t a_len, const char *b,
                        size_t b_len, const char *flag) {
  buf got = udiff_of(a, a_len, b, b_len);
  buf want = gnu_diff(a, a_len, b, b_len, flag);
  assert_same(&got, &want);
  free(got.p);
  free(want.p);
}

#define S(lit) lit, sizeof(lit) - 1

static void table_same_as_gnu(void **state) {
  (void)state;
  same_as_gnu(S("b\nc\nd\n"), S("a\nb\nc\nd\n"), NULL);
  same_as_gnu(S(""), S("x\n"), NULL);
  same_as_gnu(S("x\n"), S(""), NULL);
  same_as_gnu(S(""), S("x"), NULL);
  same_as_gnu(S("x"), S(""), NULL);
  same_as_gnu(S("x"), S("x\n"), NULL);
  same_as_gnu(S("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n"),
              S("a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\nm\nn\n"), NULL);
  same_as_gnu(S("a\nb\nc\nd\ne\nf\ng\nh\ni\n"),
              S("a\nb\nc\nd\ne\nf\ng\nh\ni\nj"), NULL);
  /* Repeated lines: where the change goes among equal ones. */
  same_as_gnu(S("x\nx\nx\n"), S("x\nx\nx\nx\n"), NULL);
  same_as_gnu(S("a\nx\nx\nb\n"), S("a\nx\nb\n"), NULL);
  same_as_gnu(S("{\n  a\n}\n{\n  b\n}\n"), S("{\n  a\n}\n{\n  c\n}\n{\n  b\n}\n"),
              NULL);
  same_as_gnu(S("1\r\n2\r\n"), S("1\n2\r\n"), NULL);
  same_as_gnu(S("line one\n\n\nline four\n"), S("\nline one\n\nline four\n"),
              NULL);
  /* NUL bytes (GNU needs -a to treat them as text). */
  same_as_gnu(S("a\0b\nc\n\0\n"), S("a\0b\nC\n\0\n"), "-a");
  same_as_gnu(S("\0\0\n"), S("\0\n"), "-a");
}

/* Host-like outputs: a long listing with scattered edits. */
static void listing_same_as_gnu(void **state) {
  buf a = {0}, b = {0};
  (void)state;
  for (int i = 0; i < 300; i++) {
    buf_printf(&a, "/usr/lib/x86_64-linux-gnu/lib%03d.so.%d\n", i, i % 7);
    if (i % 37 == 5) continue;
    if (i % 53 == 8) buf_printf(&b, "/opt/extra/%d\n", i);
    buf_printf(&b, "/usr/lib/x86_64-linux-gnu/lib%03d.so.%d\n", i,
               i % 41 == 3 ? 9 : i % 7);
  }
  same_as_gnu(a.p, a.len, b.p, b.len, NULL);
  free(a.p);
  free(b.p);
}

/* A random text of up to 12 lines over "a".."c", sometimes without the
 * final '\n'. */
static void random_text(buf *t, unsigned *seed) {
  int n = rand_r(seed) % 13;
  t->len = 0;
  buf_add(t, "", 0);
  for (int i = 0; i < n; i++) {
    char l[2] = {(char)('a' + rand_r(seed) % 3), '\n'};
    buf_add(t, l, 2);
  }
  if (t->len > 0 && rand_r(seed) % 5 == 0) t->p[--t->len] = '\0';
}

static void random_pairs(void **state) {
  unsigned seed = 20261130;
  buf a = {0}, b = {0};
  (void)state;
  for (int i = 0; i < 500; i++) {
    random_text(&a, &seed);
    random_text(&b, &seed);
    buf got = udiff_of(a.p, a.len, b.p, b.len);
    assert_applies(&a, &b, &got);
    buf gnu = gnu_diff(a.p, a.len, b.p, b.len, NULL);
    assert_int_equal(changed_lines(&got), changed_lines(&gnu));
    buf minimal = gnu_diff(a.p, a.len, b.p, b.len, "-d");
    assert_same(&got, &minimal);
    free(got.p);
    free(gnu.p);
    free(minimal.p);
  }
  free(a.p);
  free(b.p);
}

/* ---- bounds ---- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Lines "line <i>\n" for i in [0, n), with @p every-th line changed. */
static void numbered(buf *t, int n, int every, const char *tag) {
  for (int i = 0; i < n; i++) {
    if (every > 0 && i % every == every / 2) buf_printf(t, "%s %d\n", tag, i);
    else buf_printf(t, "line %d\n", i);
  }
}

/* A failing sink stops the diff: -1, and no call after the failing one
 * (the sink asserts that). */
static void sink_failure_stops(void **state) {
  buf a = {0}, b = {0}, out = {.fail_at = 1};
  (void)state;
  assert_int_equal(gxc_udiff("1\n", 2, "2\n", 2, "a", "b", sink, &out), -1);
  assert_int_equal(out.calls, 1);
  numbered(&a, 20000, 10, "old");
  numbered(&b, 20000, 10, "new");
  out = (buf){.fail_at = 3};
  assert_int_equal(gxc_udiff(a.p, a.len, b.p, b.len, "a", "b", sink, &out),
                   -1);
  assert_int_equal(out.calls, 3);
  free(out.p);
  free(a.p);
  free(b.p);
}

/* The diff of 200,000 numbered lines against the same with every
 * @p every-th line changed, made within @p max_s seconds; it must turn
 * one into the other. Leaves the texts in @p a and @p b. */
static buf timed_numbered(int every, double max_s, buf *a, buf *b) {
  numbered(a, 200000, every, "old");
  numbered(b, 200000, every, "new");
  double t0 = now_s();
  buf got = udiff_of(a->p, a->len, b->p, b->len);
  double dt = now_s() - t0;
  fprintf(stderr, "200,000 lines, one in %d changed: %.3f s\n", every, dt);
  assert_true(dt < max_s);
  assert_applies(a, b, &got);
  return got;
}

/* 200,000 lines with 10 changes: fast, and what GNU diff writes. */
static void large_input_is_fast(void **state) {
  buf a = {0}, b = {0};
  (void)state;
  buf got = timed_numbered(20000, 5.0, &a, &b);
  assert_int_equal(changed_lines(&got), 20);
  buf want = gnu_diff(a.p, a.len, b.p, b.len, NULL);
  assert_same(&got, &want);
  free(got.p);
  free(want.p);
  free(a.p);
  free(b.p);
}

/* 200,000 lines with 9,524 changes (19,048 lines, near the edit bound):
 * still minimal, and bounded in time. */
static void many_changes_are_bounded(void **state) {
  buf a = {0}, b = {0};
  (void)state;
  buf got = timed_numbered(21, 20.0, &a, &b);
  assert_int_equal(changed_lines(&got), 2 * 9524);
  free(got.p);
  free(a.p);
  free(b.p);
}

/* Texts with a common head and tail around @p k lines replaced by @p k
 * others, a common line every 100 of them: edit distance 2 * k. Returns
 * the '-' and '+' lines of the diff, which must turn a into b. */
static size_t replaced_middle(int k, buf *got) {
  buf a = {0}, b = {0};
  buf_add(&a, S("h1\nh2\nh3\nh4\n"));
  buf_add(&b, S("h1\nh2\nh3\nh4\n"));
  for (int i = 0; i < k; i++) {
    if (i % 100 == 0) {
      buf_printf(&a, "common %d\n", i);
      buf_printf(&b, "common %d\n", i);
    }
    buf_printf(&a, "a%d\n", i);
    buf_printf(&b, "b%d\n", i);
  }
  buf_add(&a, S("t1\nt2\n"));
  buf_add(&b, S("t1\nt2\n"));
  double t0 = now_s();
  *got = udiff_of(a.p, a.len, b.p, b.len);
  fprintf(stderr, "edit distance %d: %.3f s\n", 2 * k, now_s() - t0);
  assert_applies(&a, &b, got);
  free(a.p);
  free(b.p);
  return changed_lines(got);
}

/* Up to GXC_UDIFF_MAX_EDIT the diff is minimal (the common lines stay);
 * past it, the differing middle is one replacement between the common
 * head and tail, with its context: still a valid diff. */
static void edit_bound_falls_back(void **state) {
  buf got;
  (void)state;
  assert_int_equal(GXC_UDIFF_MAX_EDIT, 20000);
  assert_int_equal(replaced_middle(10000, &got), 20000);
  free(got.p);
  /* 10001 lines each way and the 100 common lines among them (the
   * first common line is part of the common head). */
  assert_int_equal(replaced_middle(10001, &got), 2 * (10001 + 100));
  const char *hunk = "--- a\n+++ b\n@@ -3,10106 +3,10106 @@\n h3\n h4\n"
                     " common 0\n-a0\n";
  assert_memory_equal(got.p, hunk, strlen(hunk));
  free(got.p);
}

/* Past GXC_UDIFF_MAX_LINES: one hunk, all of a out, all of b in. */
static void size_bound_falls_back(void **state) {
  buf a = {0}, b = {0};
  (void)state;
  numbered(&a, GXC_UDIFF_MAX_LINES + 1, 0, "");
  buf_add(&b, S("line 0\nnew\n"));
  buf got = udiff_of(a.p, a.len, b.p, b.len);
  const char *head = "--- a\n+++ b\n@@ -1,1000001 +1,2 @@\n-line 0\n";
  assert_memory_equal(got.p, head, strlen(head));
  assert_int_equal(changed_lines(&got), GXC_UDIFF_MAX_LINES + 1 + 2);
  assert_applies(&a, &b, &got);
  free(got.p);
  /* Past GXC_UDIFF_MAX_BYTES: one line of 16 MiB + 1 without '\n'. */
  a.len = 0;
  for (size_t i = 0; i <= GXC_UDIFF_MAX_BYTES; i += 4096) {
    char x[4096];
    memset(x, 'x', sizeof x);
    buf_add(&a, x, i + sizeof x > GXC_UDIFF_MAX_BYTES + 1
                       ? GXC_UDIFF_MAX_BYTES + 1 - i
                       : sizeof x);
  }
  assert_int_equal(a.len, GXC_UDIFF_MAX_BYTES + 1);
  got = udiff_of(a.p, a.len, b.p, b.len);
  head = "--- a\n+++ b\n@@ -1 +1,2 @@\n-xxx";
  assert_memory_equal(got.p, head, strlen(head));
  assert_int_equal(got.len, strlen("--- a\n+++ b\n@@ -1 +1,2 @@\n-") +
                                GXC_UDIFF_MAX_BYTES + 1 +
                                strlen("\n\\ No newline at end of file\n") +
                                strlen("+line 0\n+new\n"));
  assert_applies(&a, &b, &got);
  free(got.p);
  free(a.p);
  free(b.p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(inserts),
      cmocka_unit_test(deletes_and_changes),
      cmocka_unit_test(hunks_merge_within_context),
      cmocka_unit_test(no_newline_at_end),
      cmocka_unit_test(identical_writes_nothing),
      cmocka_unit_test(labels),
      cmocka_unit_test(table_same_as_gnu),
      cmocka_unit_test(listing_same_as_gnu),
      cmocka_unit_test(random_pairs),
      cmocka_unit_test(sink_failure_stops),
      cmocka_unit_test(large_input_is_fast),
      cmocka_unit_test(many_changes_are_bounded),
      cmocka_unit_test(edit_bound_falls_back),
      cmocka_unit_test(size_bound_falls_back),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
