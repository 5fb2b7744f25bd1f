/* libgexec's TLS options without a server: the setters' checks (and that
 * a refused call changes nothing), and gexec_connect's reading of the
 * files, each unusable one refused with GEXEC_EINVAL and a message naming
 * the file and the problem, before anything connects. Certificates are
 * made with openssl(1) in group setup. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/internal.h"

extern char **environ;

static char dir[512]; /* the test's files */

/* The path of file @p name in dir (one of 4 rotating buffers). */
static const char *at(const char *name) {
  static char bufs[4][640];
  static int i;
  char *b = bufs[i++ % 4];
  snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
  return b;
}

/* Runs openssl with @p args (NULL-terminated, after "openssl"), output
 * discarded; fails the test unless it exits 0. */
static void openssl(const char *first, ...) {
  const char *argv[32] = {"openssl", first};
  int n = 2, status = 0;
  va_list ap;
  va_start(ap, first);
  while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL) n++;
  va_end(ap);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  assert_int_equal(posix_spawnp(&pid, "openssl", &fa, NULL,
                                (char *const *)argv, environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void write_file(const char *name, const void *data, size_t len) {
  FILE *f = fopen(at(name), "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* Concatenates files @p a and @p b into @p out (a CA bundle). */
static void cat2(const char *a, const char *b, const char *out) {
  char buf[8192];
  size_t n = 0;
  const char *in[2] = {a, b};
  for (int i = 0; i < 2; i++) {
    FILE *f = fopen(at(in[i]), "rb");
    assert_non_null(f);
    n += fread(buf + n, 1, sizeof buf - n, f);
    fclose(f);
  }
  write_file(out, buf, n);
}

#define EC "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"

static int group_setup(void **state) {
  (void)state;
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof dir, "%s/tls", tmp ? tmp : "/tmp");
  mkdir(dir, 0700);
  openssl("req", "-x509", EC, "-keyout", at("ca.key"), "-out", at("ca.pem"),
          "-days", "30", "-subj", "/CN=test CA", NULL);
  openssl("req", "-x509", EC, "-keyout", at("ca2.key"), "-out",
          at("ca2.pem"), "-days", "30", "-subj", "/CN=test CA 2", NULL);
  openssl("req", "-new", EC, "-keyout", at("client.key"), "-out",
          at("client.csr"), "-subj", "/CN=alice", NULL);
  openssl("x509", "-req", "-in", at("client.csr"), "-CA", at("ca.pem"),
          "-CAkey", at("ca.key"), "-CAcreateserial", "-days", "30", "-out",
          at("client.pem"), NULL);
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
          "ec_paramgen_curve:P-256", "-out", at("other.key"), NULL);
  openssl("pkey", "-in", at("client.key"), "-aes256", "-passout",
          "pass:secret", "-out", at("enc.key"), NULL);
  openssl("x509", "-in", at("ca.pem"), "-outform", "der", "-out",
          at("ca.der"), NULL);
  cat2("ca.pem", "ca2.pem", "bundle.pem");
  static const char text[] = "not a certificate\n";
  write_file("text.txt", text, sizeof text - 1);
  static const char broken[] =
      "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
  write_file("broken.pem", broken, sizeof broken - 1);
  char *big = malloc(GEXEC__TLS_FILE_MAX + 1);
  memset(big, 'A', GEXEC__TLS_FILE_MAX + 1);
  write_file("big.pem", big, GEXEC__TLS_FILE_MAX + 1);
  free(big);
  return 0;
}

/* -------------------------------------------------------------- setters */

static gexec_conn_opts *new_opts(void) {
  gexec_conn_opts *o = NULL;
  assert_int_equal(gexec_conn_opts_new(&o), GEXEC_OK);
  return o;
}

static void set_tls_checks_arguments(void **state) {
  (void)state;
  gexec_conn_opts *o = new_opts();
  char longp[4098];
  memset(longp, 'a', sizeof longp - 1);
  longp[0] = '/';
  longp[4097] = '\0'; /* 4097 bytes */
  assert_int_equal(gexec_conn_opts_set_tls(o, "/ca", "/c", "/k"), GEXEC_OK);
  const int e = GEXEC_EINVAL;
  assert_int_equal(gexec_conn_opts_set_tls(NULL, "/ca", NULL, NULL), e);
  assert_int_equal(gexec_conn_opts_set_tls(o, NULL, "/c2", "/k2"), e);
  assert_int_equal(gexec_conn_opts_set_tls(o, "/ca2", "/c2", NULL), e);
  assert_int_equal(gexec_conn_opts_set_tls(o, "/ca2", NULL, "/k2"), e);
  assert_int_equal(gexec_conn_opts_set_tls(o, "", NULL, NULL), e);
  assert_int_equal(gexec_conn_opts_set_tls(o, "/ca2", "", "/k2"), e);
  assert_int_equal(gexec_conn_opts_set_tls(o, longp, NULL, NULL), e);
  /* nothing changed */
  assert_string_equal(o->ca_file, "/ca");
  assert_string_equal(o->cert_file, "/c");
  assert_string_equal(o->key_file, "/k");
  longp[4096] = '\0'; /* 4096 bytes: accepted */
  assert_int_equal(gexec_conn_opts_set_tls(o, longp, NULL, NULL), GEXEC_OK);
  assert_int_equal(strlen(o->ca_file), 4096);
  assert_null(o->cert_file);
  assert_null(o->key_file);
  assert_int_equal(gexec_conn_opts_set_tls(o, NULL, NULL, NULL), GEXEC_OK);
  assert_null(o->ca_file);
  gexec_conn_opts_free(o);
}

static void set_server_name_checks_length(void **state) {
  (void)state;
  gexec_conn_opts *o = new_opts();
  char name[255];
  memset(name, 'a', sizeof name - 1);
  name[254] = '\0';
  assert_int_equal(gexec_conn_opts_set_tls_server_name(o, "d.example"),
                   GEXEC_OK);
  assert_int_equal(gexec_conn_opts_set_tls_server_name(o, name),
                   GEXEC_EINVAL);
  assert_int_equal(gexec_conn_opts_set_tls_server_name(o, ""), GEXEC_EINVAL);
  assert_int_equal(gexec_conn_opts_set_tls_server_name(NULL, "x"),
                   GEXEC_EINVAL);
  assert_string_equal(o->server_name, "d.example");
  name[253] = '\0';
  assert_int_equal(gexec_conn_opts_set_tls_server_name(o, name), GEXEC_OK);
  assert_int_equal(strlen(o->server_name), 253);
  assert_int_equal(gexec_conn_opts_set_tls_server_name(o, NULL), GEXEC_OK);
  assert_null(o->server_name);
  gexec_conn_opts_free(o);
}

static void set_keepalive_checks_ranges(void **state) {
  (void)state;
  gexec_conn_opts *o = new_opts();
  const int e = GEXEC_EINVAL;
  assert_int_equal(gexec_conn_opts_set_keepalive(o, 30000, 5000), GEXEC_OK);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, 9999, 0), e);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, 1, 0), e);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, 0, 999), e);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, 0, -1), e);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, 2147483648LL, 0), e);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, 0, 2147483648LL), e);
  assert_int_equal(gexec_conn_opts_set_keepalive(NULL, 0, 0), e);
  assert_int_equal(o->keepalive_time_ms, 30000);
  assert_int_equal(o->keepalive_timeout_ms, 5000);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, GEXEC_KEEPALIVE_MIN_MS,
                                                 1000), GEXEC_OK);
  assert_int_equal(o->keepalive_time_ms, 10000);
  assert_int_equal(gexec_conn_opts_set_keepalive(o, -5, 0), GEXEC_OK);
  assert_int_equal(o->keepalive_time_ms, -1); /* off */
  assert_int_equal(o->keepalive_timeout_ms, 0);
  gexec_conn_opts_free(o);
}

/* ---------------------------------------------------------------- files */

/* gexec_connect to a TCP target with these files (names in dir, NULL:
 * none) must fail with GEXEC_EINVAL and exactly @p want (a prefix when
 * @p prefix), before connecting. */
static void refused(const char *ca, const char *cert, const char *key,
                    const char *want, int prefix) {
  gexec_conn_opts *o = new_opts();
  gexec_conn *c = NULL;
  gexec_error err = {0};
  char cab[640], certb[640], keyb[640];
  snprintf(cab, sizeof cab, "%s", ca[0] == '/' ? ca : at(ca));
  if (cert) snprintf(certb, sizeof certb, "%s", at(cert));
  if (key) snprintf(keyb, sizeof keyb, "%s", at(key));
  assert_int_equal(gexec_conn_opts_set_tls(o, cab, cert ? certb : NULL,
                                           key ? keyb : NULL), GEXEC_OK);
  assert_int_equal(gexec_connect("127.0.0.1:1", o, &c, &err), GEXEC_EINVAL);
  assert_null(c);
  assert_int_equal(err.code, GEXEC_EINVAL);
  if (prefix)
    assert_int_equal(strncmp(err.message, want, strlen(want)), 0);
  else
    assert_string_equal(err.message, want);
  gexec_conn_opts_free(o);
}

static char want[1024];

static const char *msg(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(want, sizeof want, fmt, ap);
  va_end(ap);
  return want;
}

static void ca_file_errors(void **state) {
  (void)state;
  refused("none.pem", NULL, NULL,
          msg("CA file %s: No such file or directory", at("none.pem")), 0);
  refused(dir, NULL, NULL, msg("CA file %s: Is a directory", dir), 0);
  refused("text.txt", NULL, NULL,
          msg("CA file %s: no PEM certificate in it", at("text.txt")), 0);
  refused("client.key", NULL, NULL,
          msg("CA file %s: no PEM certificate in it", at("client.key")), 0);
  refused("ca.der", NULL, NULL,
          msg("CA file %s: binary data, not PEM (a DER file?)", at("ca.der")),
          0);
  refused("big.pem", NULL, NULL,
          msg("CA file %s: larger than 1 MiB", at("big.pem")), 0);
  refused("broken.pem", NULL, NULL,
          msg("CA file %s: certificate 1 is not valid PEM (",
              at("broken.pem")), 1);
}

static void certificate_and_key_errors(void **state) {
  (void)state;
  refused("ca.pem", "none.pem", "client.key",
          msg("certificate file %s: No such file or directory",
              at("none.pem")), 0);
  refused("ca.pem", "client.key", "client.key",
          msg("certificate file %s: no PEM certificate in it",
              at("client.key")), 0);
  refused("ca.pem", "client.pem", "none.key",
          msg("key file %s: No such file or directory", at("none.key")), 0);
  refused("ca.pem", "client.pem", "client.pem",
          msg("key file %s: no PEM private key in it", at("client.pem")), 0);
  refused("ca.pem", "client.pem", "text.txt",
          msg("key file %s: no PEM private key in it", at("text.txt")), 0);
  refused("ca.pem", "client.pem", "enc.key",
          msg("key file %s: encrypted (a passphrase-protected key is not "
              "supported)", at("enc.key")), 0);
  refused("ca.pem", "client.pem", "other.key",
          msg("key file %s: does not match the certificate in %s",
              at("other.key"), at("client.pem")), 0);
}

/* Usable files pass: a lazy connection is made without connecting. */
static void usable_files_load(void **state) {
  (void)state;
  const char *sets[][3] = {{"ca.pem", NULL, NULL},
                           {"bundle.pem", NULL, NULL},
                           {"ca.pem", "client.pem", "client.key"}};
  for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
    gexec_conn_opts *o = new_opts();
    gexec_conn *c = NULL;
    gexec_error err = {0};
    char ca[640], cert[640], key[640];
    snprintf(ca, sizeof ca, "%s", at(sets[i][0]));
    if (sets[i][1]) snprintf(cert, sizeof cert, "%s", at(sets[i][1]));
    if (sets[i][2]) snprintf(key, sizeof key, "%s", at(sets[i][2]));
    assert_int_equal(gexec_conn_opts_set_tls(o, ca, sets[i][1] ? cert : NULL,
                                             sets[i][2] ? key : NULL),
                     GEXEC_OK);
    assert_int_equal(gexec_conn_opts_set_tls_server_name(o, "d.example"),
                     GEXEC_OK);
    assert_int_equal(gexec_conn_opts_set_lazy(o, 1), GEXEC_OK);
    assert_int_equal(gexec_connect("127.0.0.1:1", o, &c, &err), GEXEC_OK);
    assert_non_null(c->tls);
    gexec_conn_opts_free(o); /* the connection keeps what it read */
    gexec_conn_close(c);
  }
}

/* Contents that passed are not parsed again, but every connect reads the
 * files: a key file rewritten in place with another key after a good
 * load is refused, and the good key loads again after it. */
static void rewritten_files_checked_again(void **state) {
  char key[640];
  (void)state;
  snprintf(key, sizeof key, "%s", at("swap.key"));
  write_file("empty", "", 0);
  cat2("client.key", "empty", "swap.key");
  for (int round = 0; round < 2; round++) {
    gexec_conn_opts *o = new_opts();
    gexec_conn *c = NULL;
    gexec_error err = {0};
    char ca[640], cert[640];
    snprintf(ca, sizeof ca, "%s", at("ca.pem"));
    snprintf(cert, sizeof cert, "%s", at("client.pem"));
    assert_int_equal(gexec_conn_opts_set_tls(o, ca, cert, key), GEXEC_OK);
    assert_int_equal(gexec_conn_opts_set_lazy(o, 1), GEXEC_OK);
    assert_int_equal(gexec_connect("127.0.0.1:1", o, &c, &err), GEXEC_OK);
    gexec_conn_close(c);
    c = NULL;
    cat2("other.key", "empty", "swap.key"); /* renewed: another key */
    assert_int_equal(gexec_connect("127.0.0.1:1", o, &c, &err), GEXEC_EINVAL);
    assert_string_equal(err.message,
                        msg("key file %s: does not match the certificate "
                            "in %s", key, cert));
    cat2("client.key", "empty", "swap.key");
    gexec_conn_opts_free(o);
  }
}

/* A unix: target never reads the files: it fails to connect for want of
 * a socket, not with a file error. */
static void unix_target_ignores_tls(void **state) {
  (void)state;
  gexec_conn_opts *o = new_opts();
  gexec_conn *c = NULL;
  gexec_error err = {0};
  const char *target = "unix:/nonexistent-gexec-test-dir/gexecd.sock";
  assert_int_equal(gexec_conn_opts_set_tls(o, at("none.pem"), at("none.pem"),
                                           at("none.key")), GEXEC_OK);
  assert_int_equal(gexec_connect(target, o, &c, &err), GEXEC_ECONNECT);
  assert_null(c);
  assert_non_null(strstr(err.message, ": no such socket"));
  gexec_conn_opts_free(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(set_tls_checks_arguments),
      cmocka_unit_test(set_server_name_checks_length),
      cmocka_unit_test(set_keepalive_checks_ranges),
      cmocka_unit_test(ca_file_errors),
      cmocka_unit_test(certificate_and_key_errors),
      cmocka_unit_test(usable_files_load),
      cmocka_unit_test(rewritten_files_checked_again),
      cmocka_unit_test(unix_target_ignores_tls),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
