/* A connection's TLS material: the files of gexec_conn_opts_set_tls read
 * and checked with OpenSSL before gRPC sees them (so that a bad file is
 * named with its problem instead of failing every handshake), the
 * gx_rpc_creds made from them, and the words for a failed connection
 * (what gRPC says, made precise with tls_probe.c where it can be). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "client/internal.h"
#include "lib/gx_err.h"

struct gexec__tls {
  char *ca_pem, *cert_pem, *key_pem; /* NUL-terminated file contents */
  char *ca_file;                     /* the path, for messages */
  char *server_name;                 /* NULL: the target's host */
  int has_cert;
  time_t cert_not_before, cert_not_after; /* ours; 0: unknown */
};

/* One file being read: its role in messages ("CA file") and path. */
typedef struct {
  const char *role, *path;
} tls_file;

static int file_fail(gexec_error *err, const tls_file *f, const char *why) {
  return gexec__fail(err, GEXEC_EINVAL, 0, "%s %s: %s", f->role, f->path,
                     why);
}

/* Reads up to @p cap bytes of @p fd into *@p out (NUL-terminated).
 * Returns 0, -1 with errno set, or 1 if the file is larger. */
static int read_capped(int fd, size_t cap, char **out, size_t *len) {
  char *buf = malloc(cap + 2);
  size_t n = 0;
  if (!buf) return errno = ENOMEM, -1;
  while (n <= cap) {
    ssize_t r = read(fd, buf + n, cap + 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      return errno = e, -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  if (n > cap) {
    free(buf);
    return 1;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

/* Reads file @p f whole: text, at most GEXEC__TLS_FILE_MAX bytes. */
static int read_file(const tls_file *f, char **out, gexec_error *err) {
  size_t len = 0;
  int fd = open(f->path, O_RDONLY | O_CLOEXEC);
  int rc = fd < 0 ? -1 : read_capped(fd, GEXEC__TLS_FILE_MAX, out, &len);
  int e = errno;
  if (fd >= 0) close(fd);
  if (rc < 0 && e == ENOMEM) return gexec__fail(err, GEXEC_ENOMEM, 0,
                                                "out of memory");
  if (rc < 0) return file_fail(err, f, strerror(e));
  if (rc > 0) return file_fail(err, f, "larger than 1 MiB");
  if (memchr(*out, '\0', len)) { /* PEM is text; a NUL would cut it */
    free(*out);
    *out = NULL;
    return file_fail(err, f, "binary data, not PEM (a DER file?)");
  }
  return GEXEC_OK;
}

/* OpenSSL's reason for the last failure, for a message. */
static const char *ssl_reason(void) {
  const char *r = ERR_reason_error_string(ERR_peek_last_error());
  return r ? r : "unknown error";
}

/* Whether the last PEM read failed only because no block was left. */
static int pem_at_end(void) {
  unsigned long e = ERR_peek_last_error();
  return ERR_GET_LIB(e) == ERR_LIB_PEM &&
         ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* Checks that @p pem holds one or more certificates and nothing broken;
 * *first (if not NULL) gets the first one. */
static int check_certs(const tls_file *f, const char *pem, X509 **first,
                       gexec_error *err) {
  char why[160];
  int n = 0, rc = GEXEC_OK;
  ERR_clear_error(); /* pem_at_end reads the queue */
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x;
  if (!b) return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
    if (n++ == 0 && first) *first = x;
    else X509_free(x);
  }
  if (n == 0 && pem_at_end()) {
    rc = file_fail(err, f, "no PEM certificate in it");
  } else if (!pem_at_end()) {
    snprintf(why, sizeof why, "certificate %d is not valid PEM (%s)", n + 1,
             ssl_reason());
    rc = file_fail(err, f, why);
  }
  if (rc != GEXEC_OK && n > 0 && first) {
    X509_free(*first);
    *first = NULL;
  }
  BIO_free(b);
  ERR_clear_error();
  return rc;
}

/* The passphrase callback: there is none to give; records the ask. */
static int no_passphrase(char *buf, int size, int rwflag, void *asked) {
  (void)buf;
  (void)size;
  (void)rwflag;
  *(int *)asked = 1;
  return -1;
}

/* Checks that @p pem holds a usable private key matching @p cert. */
static int check_key(const tls_file *f, const char *pem, X509 *cert,
                     const tls_file *cert_file, gexec_error *err) {
  char why[600];
  int asked = 0, rc = GEXEC_OK;
  BIO *b = BIO_new_mem_buf(pem, -1);
  if (!b) return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  /* OpenSSL 3 tries other blocks as keys too ("unsupported"): look for
   * the label first ("PRIVATE KEY", "EC PRIVATE KEY", ...). */
  EVP_PKEY *k = strstr(pem, "PRIVATE KEY-----")
                    ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, &asked)
                    : NULL;
  if (!strstr(pem, "PRIVATE KEY-----")) {
    rc = file_fail(err, f, "no PEM private key in it");
  } else if (!k && asked) {
    rc = file_fail(err, f,
                   "encrypted (a passphrase-protected key is not supported)");
  } else if (!k) {
    snprintf(why, sizeof why, "not a valid PEM private key (%s)",
             ssl_reason());
    rc = file_fail(err, f, why);
  } else if (X509_check_private_key(cert, k) != 1) {
    snprintf(why, sizeof why, "does not match the certificate in %.500s",
             cert_file->path);
    rc = file_fail(err, f, why);
  }
  EVP_PKEY_free(k);
  BIO_free(b);
  ERR_clear_error();
  return rc;
}

static char *dup_or_null(const char *s, int *failed) {
  char *d = s ? strdup(s) : NULL;
  if (s && !d) *failed = 1;
  return d;
}

/* The contents of the last files that passed the checks, so that
 * connections made with unchanged files (a fleet: one per host) skip
 * OpenSSL's parsing, ~1 ms of CPU per connection with OpenSSL 3.0. The
 * files are still read by every gexec_connect: a renewed file differs and
 * is checked. Guarded by checked_mu; the key copy is wiped on change. */
static pthread_mutex_t checked_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char *ca_pem, *cert_pem, *key_pem; /* NULL: no such file */
  time_t not_before, not_after;
} checked;

static int same(const char *a, const char *b) {
  return (!a && !b) || (a && b && !strcmp(a, b));
}

static void wipe(char **s) {
  if (*s) explicit_bzero(*s, strlen(*s));
  free(*s);
  *s = NULL;
}

/* Whether @p t's contents passed the checks last time; fills its dates. */
static int checked_before(gexec__tls *t) {
  pthread_mutex_lock(&checked_mu);
  int hit = checked.ca_pem && same(checked.ca_pem, t->ca_pem) &&
            same(checked.cert_pem, t->cert_pem) &&
            same(checked.key_pem, t->key_pem);
  if (hit) {
    t->cert_not_before = checked.not_before;
    t->cert_not_after = checked.not_after;
  }
  pthread_mutex_unlock(&checked_mu);
  return hit;
}

/* Remembers @p t's contents as checked (best effort: no memory, no
 * cache). */
static void remember(const gexec__tls *t) {
  int oom = 0;
  pthread_mutex_lock(&checked_mu);
  wipe(&checked.ca_pem);
  wipe(&checked.cert_pem);
  wipe(&checked.key_pem);
  checked.ca_pem = dup_or_null(t->ca_pem, &oom);
  checked.cert_pem = dup_or_null(t->cert_pem, &oom);
  checked.key_pem = dup_or_null(t->key_pem, &oom);
  checked.not_before = t->cert_not_before;
  checked.not_after = t->cert_not_after;
  if (oom) wipe(&checked.ca_pem); /* an entry never matches then */
  pthread_mutex_unlock(&checked_mu);
}

/* Checks the CA, certificate and key read into @p t. */
static int check_all(gexec__tls *t, const gexec_conn_opts *o,
                     gexec_error *err) {
  tls_file caf = {"CA file", o->ca_file};
  tls_file cf = {"certificate file", o->cert_file};
  tls_file kf = {"key file", o->key_file};
  X509 *cert = NULL;
  int rc = check_certs(&caf, t->ca_pem, NULL, err);
  if (rc == GEXEC_OK && t->cert_pem)
    rc = check_certs(&cf, t->cert_pem, &cert, err);
  if (rc == GEXEC_OK && t->cert_pem)
    rc = check_key(&kf, t->key_pem, cert, &cf, err);
  if (rc == GEXEC_OK && cert) {
    t->cert_not_before = gexec__asn1_epoch(X509_get0_notBefore(cert));
    t->cert_not_after = gexec__asn1_epoch(X509_get0_notAfter(cert));
  }
  X509_free(cert);
  return rc;
}

int gexec__tls_load(const gexec_conn_opts *o, gexec__tls **out,
                    gexec_error *err) {
  tls_file caf = {"CA file", o->ca_file};
  tls_file cf = {"certificate file", o->cert_file};
  tls_file kf = {"key file", o->key_file};
  int oom = 0;
  gexec__tls *t = calloc(1, sizeof *t);
  if (!t) return gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory");
  t->ca_file = dup_or_null(o->ca_file, &oom);
  t->server_name = dup_or_null(o->server_name, &oom);
  int rc = oom ? gexec__fail(err, GEXEC_ENOMEM, 0, "out of memory")
               : read_file(&caf, &t->ca_pem, err);
  if (rc == GEXEC_OK && o->cert_file) rc = read_file(&cf, &t->cert_pem, err);
  if (rc == GEXEC_OK && o->cert_file) rc = read_file(&kf, &t->key_pem, err);
  if (rc == GEXEC_OK && !checked_before(t)) {
    rc = check_all(t, o, err);
    if (rc == GEXEC_OK) remember(t);
  }
  if (rc != GEXEC_OK) {
    gexec__tls_free(t);
    return rc;
  }
  t->has_cert = o->cert_file != NULL;
  *out = t;
  return GEXEC_OK;
}

void gexec__tls_free(gexec__tls *t) {
  if (!t) return;
  if (t->key_pem) explicit_bzero(t->key_pem, strlen(t->key_pem));
  free(t->key_pem);
  free(t->cert_pem);
  free(t->ca_pem);
  free(t->ca_file);
  free(t->server_name);
  free(t);
}

int gexec__tls_creds(const gexec__tls *t, gx_rpc_creds **out) {
  return gx_rpc_creds_tls_client(t->ca_pem, t->cert_pem, t->key_pem,
                                 t->server_name, out);
}

/* ------------------------------------------------------------- reasons */

/* Formats @p when as "2020-01-02 00:00:00 UTC" into @p buf. */
static const char *utc(time_t when, char *buf, size_t len) {
  struct tm tm;
  if (!gmtime_r(&when, &tm) ||
      strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    snprintf(buf, len, "an unknown date");
  return buf;
}

/* The handshake was closed by the server: what we know of why. */
static const char *refused(const gexec__tls *t, char *buf, size_t len) {
  char date[40];
  time_t now = time(NULL);
  if (!t->has_cert)
    snprintf(buf, len, "the server refused the TLS connection (it requires "
             "a client certificate, and we have none)");
  else if (t->cert_not_after && now > t->cert_not_after)
    snprintf(buf, len, "the server refused our certificate (ours expired "
             "on %s)", utc(t->cert_not_after, date, sizeof date));
  else if (t->cert_not_before && now < t->cert_not_before)
    snprintf(buf, len, "the server refused our certificate (ours is not "
             "valid before %s)", utc(t->cert_not_before, date, sizeof date));
  else
    snprintf(buf, len, "the server refused our certificate (missing, "
             "expired, revoked or from another CA)");
  return buf;
}

/* gRPC's "certificate verify failed", made precise by a probe. */
static const char *unverified(const gexec__tls *t, const char *target,
                              int probe_ms, char *buf, size_t len) {
  static const char head[] = "the server's certificate failed verification";
  char date[40];
  gexec__tls_peer peer;
  if (probe_ms <= 0 ||
      gexec__tls_probe(target, t->ca_pem, t->server_name, probe_ms,
                       &peer) != 0)
    snprintf(buf, len, "%s", head);
  else if (peer.verify == GEXEC__TLS_UNTRUSTED)
    snprintf(buf, len, "%s: not issued by a CA in %s", head, t->ca_file);
  else if (peer.verify == GEXEC__TLS_EXPIRED)
    snprintf(buf, len, "%s: it expired on %s", head,
             utc(peer.not_after, date, sizeof date));
  else if (peer.verify == GEXEC__TLS_NOT_YET_VALID)
    snprintf(buf, len, "%s: it is not valid before %s", head,
             utc(peer.not_before, date, sizeof date));
  else if (peer.verify != 0)
    snprintf(buf, len, "%s: %s", head, peer.why);
  else
    snprintf(buf, len, "%s", head);
  return buf;
}

/* gRPC's "Peer name NAME is not in peer certificate": which names the
 * certificate has instead, if a probe can tell. */
static const char *misnamed(const gexec__tls *t, const char *target,
                            const char *msg, int probe_ms, char *buf,
                            size_t len) {
  const char *name = strstr(msg, "Peer name ") + strlen("Peer name ");
  int n = (int)(strstr(name, " is not in peer certificate") - name);
  gexec__tls_peer peer;
  if (probe_ms > 0 &&
      gexec__tls_probe(target, t->ca_pem, t->server_name, probe_ms,
                       &peer) == 0 && peer.names[0])
    snprintf(buf, len, "the server's certificate failed verification: it "
             "names %s, not %.*s", peer.names, n > 0 ? n : 0, name);
  else
    snprintf(buf, len, "the server's certificate failed verification: it "
             "does not name %.*s", n > 0 ? n : 0, name);
  return buf;
}

/* TLS alerts a server sends when it rejects a client certificate
 * (OpenSSL's words, in gRPC's message). */
static int cert_alert(const char *msg) {
  static const char *const alerts[] = {
      "alert bad certificate",     "alert certificate required",
      "alert unknown ca",          "alert certificate expired",
      "alert certificate revoked", "alert certificate unknown",
      "alert access denied",       "alert handshake failure"};
  for (size_t i = 0; i < sizeof alerts / sizeof *alerts; i++)
    if (strstr(msg, alerts[i])) return 1;
  return 0;
}

const char *gexec__tls_reason(const gexec__tls *t, const char *target,
                              const char *msg, int probe_ms, char *buf,
                              size_t len) {
  if (!msg) return NULL;
  if (!t)
    return strstr(msg, "Socket closed")
               ? "the server closed the connection during setup (if it "
                 "is a TLS listener, connect with its CA)"
               : NULL;
  if (strstr(msg, "certificate verify failed"))
    return unverified(t, target, probe_ms, buf, len);
  if (strstr(msg, "Peer name ") && strstr(msg, " is not in peer certificate"))
    return misnamed(t, target, msg, probe_ms, buf, len);
  if (strstr(msg, "wrong version number"))
    return "the server does not speak TLS (a plaintext listener?)";
  if (strstr(msg, "Socket closed") || cert_alert(msg))
    return refused(t, buf, len);
  return NULL;
}
