/* gexecd's TLS material: loading and checking the files, reload, and the
 * per-certificate revocation check with its cache. See tls.h. */
#include "server/tls.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/gx_err.h"

/* One complete set of material, as read from the files. */
typedef struct {
  char *cert, *key, *ca; /* PEM text handed to gRPC (ca NULL: no mTLS) */
  X509_STORE *store;     /* client CAs + CRLs; NULL without --tls-crl-dir */
} tls_set;

/* What the revocation check said about one certificate and chain. */
typedef struct {
  unsigned char key[32];  /* SHA-256 of its PEM and its chain's */
  unsigned char leaf[32]; /* SHA-256 of its PEM alone */
  char *chain;  /* the chain it came with, for its resumed sessions
                 * (owned; NULL: none, or longer than GXD_TLS_CHAIN_KEEP) */
  int used;     /* the entry holds a certificate */
  int checked;  /* ... and a verdict on it under the set in force */
  int refused;
  char reason[512];
} verdict;

struct gxd_tls {
  gxd_tls_files files; /* absolute paths, owned */
  gx_rpc_tls_source *src;
  gx_rpc_creds *creds;
  tls_set set;
  verdict cache[GXD_TLS_CACHE];
  size_t next; /* the cache entry replaced next */
  uint64_t verifications;
};

/* ------------------------------------------------------------- helpers */

/* OpenSSL's reason for the last failure (its error queue is emptied). */
static const char *ssl_reason(void) {
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  ERR_clear_error();
  return r ? r : "not valid";
}

/* Reads @p path (at most @p max bytes, a regular file) into a new
 * NUL-terminated buffer. */
static char *read_file(const char *path, size_t max, size_t *len_out,
                       char *why, size_t len) {
  struct stat sb;
  char *buf = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &sb) != 0) {
    snprintf(why, len, "%s", strerror(errno));
    goto out;
  }
  if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
    snprintf(why, len, S_ISREG(sb.st_mode) ? "larger than %zu bytes"
                                           : "not a regular file", max);
    goto out;
  }
  buf = malloc((size_t)sb.st_size + 1);
  size_t got = 0;
  while (buf && got < (size_t)sb.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  if (!buf || got != (size_t)sb.st_size) {
    snprintf(why, len, "%s", buf ? "short read" : "out of memory");
    free(buf);
    buf = NULL;
    goto out;
  }
  buf[got] = '\0';
  if (len_out) *len_out = got;
out:
  if (fd >= 0) close(fd);
  return buf;
}

/* The RFC 2253 form of @p name ("CN=gexec CA,O=Example") into @p out. */
static const char *name_str(const X509_NAME *name, char *out, size_t len) {
  BIO *b = BIO_new(BIO_s_mem());
  int n = b ? X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) : -1;
  if (n >= 0) n = BIO_read(b, out, (int)len - 1);
  out[n > 0 ? n : 0] = '\0';
  BIO_free(b);
  return out;
}

/* @p t as text ("Jan  2 00:00:00 2020 GMT") into @p out. */
static const char *time_str(const ASN1_TIME *t, char *out, size_t len) {
  BIO *b = BIO_new(BIO_s_mem());
  int n = b && ASN1_TIME_print(b, t) == 1 ? BIO_read(b, out, (int)len - 1) : 0;
  out[n > 0 ? n : 0] = '\0';
  BIO_free(b);
  return out;
}

/* Whether OpenSSL's last error is the end of PEM input, not a bad
 * block. */
static int pem_at_end(void) {
  unsigned long e = ERR_peek_last_error();
  return ERR_GET_LIB(e) == ERR_LIB_PEM &&
         ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* Every certificate in @p pem, in order, at most @p max of them; NULL
 * (reason in @p why) if one does not parse, there is none, or there are
 * more. */
static STACK_OF(X509) *parse_certs(const char *pem, int max, char *why,
                                   size_t len) {
  STACK_OF(X509) *sk = sk_X509_new_null();
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = NULL;
  while (sk && b && sk_X509_num(sk) <= max &&
         (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
    if (!sk_X509_push(sk, x)) X509_free(x);
  int at_end = !x && pem_at_end(), n = sk ? sk_X509_num(sk) : 0;
  if (!sk || !b || !at_end || n == 0 || n > max) {
    if (n > max)
      snprintf(why, len, "more than %d certificates", max);
    else
      snprintf(why, len, "%s",
               at_end  ? "no PEM certificate in it"
               : n > 0 ? "a certificate after the first does not parse"
                       : "no certificate parses in it");
    sk_X509_pop_free(sk, X509_free);
    sk = NULL;
  }
  ERR_clear_error();
  BIO_free(b);
  return sk;
}

/* ------------------------------------------------------------- loading */

/* Writes "<flag> <file>: <reason>" into @p why; returns -1. */
static int fail_at(char *why, size_t len, const char *flag, const char *file,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail_at(char *why, size_t len, const char *flag, const char *file,
                   const char *fmt, ...) {
  va_list ap;
  int n = snprintf(why, len, "%s %s: ", flag, file);
  if (n >= 0 && (size_t)n < len) {
    va_start(ap, fmt);
    vsnprintf(why + n, len - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Reads the file of @p flag into *pem. */
static int read_pem(const char *flag, const char *path, char **pem, char *why,
                    size_t len) {
  char r[256];
  *pem = read_file(path, GXD_TLS_FILE_MAX, NULL, r, sizeof r);
  if (!*pem) fail_at(why, len, flag, path, "%s", r);
  return *pem ? 0 : -1;
}

/* The server certificate: parses, and is valid now. */
static int check_cert(const char *path, const char *pem, X509 **leaf,
                      char *why, size_t len) {
  char r[256], when[64];
  STACK_OF(X509) *sk = parse_certs(pem, INT_MAX, r, sizeof r);
  if (!sk) return fail_at(why, len, "--tls-cert", path, "%s", r);
  *leaf = sk_X509_shift(sk);
  sk_X509_pop_free(sk, X509_free);
  if (X509_cmp_current_time(X509_get0_notAfter(*leaf)) < 0)
    return fail_at(why, len, "--tls-cert", path,
                   "the certificate expired on %s",
                   time_str(X509_get0_notAfter(*leaf), when, sizeof when));
  if (X509_cmp_current_time(X509_get0_notBefore(*leaf)) > 0)
    return fail_at(why, len, "--tls-cert", path,
                   "the certificate is not valid before %s",
                   time_str(X509_get0_notBefore(*leaf), when, sizeof when));
  return 0;
}

/* Never asks for a pass phrase: encrypted keys are refused. */
static int no_passphrase(char *buf, int size, int rw, void *u) {
  (void)buf, (void)size, (void)rw, (void)u;
  return -1;
}

/* The key: unencrypted PEM, and the server certificate's. */
static int check_key(const gxd_tls_files *f, const char *pem, X509 *leaf,
                     char *why, size_t len) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)
                  : NULL;
  int rc = -1;
  BIO_free(b);
  if (!k)
    fail_at(why, len, "--tls-key", f->key,
         "no unencrypted PEM private key in it (%s)", ssl_reason());
  else if (X509_check_private_key(leaf, k) != 1)
    fail_at(why, len, "--tls-key", f->key,
         "does not match the certificate of --tls-cert %s", f->cert);
  else
    rc = 0;
  ERR_clear_error();
  EVP_PKEY_free(k);
  return rc;
}

/* The client CAs: parse, each a CA. */
static STACK_OF(X509) *check_cas(const char *path, const char *pem,
                                 char *why, size_t len) {
  char r[256];
  STACK_OF(X509) *sk = parse_certs(pem, INT_MAX, r, sizeof r);
  if (!sk) {
    fail_at(why, len, "--tls-client-ca", path, "%s", r);
    return NULL;
  }
  for (int i = 0; i < sk_X509_num(sk); i++) {
    X509 *x = sk_X509_value(sk, i);
    if (X509_check_ca(x) != 0) continue;
    fail_at(why, len, "--tls-client-ca", path,
         "certificate %d (%s) is not a CA certificate", i + 1,
         name_str(X509_get_subject_name(x), r, sizeof r));
    sk_X509_pop_free(sk, X509_free);
    return NULL;
  }
  return sk;
}

/* A CRL whose issuer is a client CA must be signed by that CA. A CRL of
 * another issuer is an intermediate CA's: the daemon meets intermediates
 * only in clients' chains, so its signature is checked then, against the
 * intermediate the chain presents, at every verification (a CRL that
 * does not verify refuses that CA's clients). */
static int crl_acceptable(X509_CRL *crl, STACK_OF(X509) *cas) {
  int named = 0;
  for (int i = 0; i < sk_X509_num(cas); i++) {
    X509 *ca = sk_X509_value(cas, i);
    if (X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)))
      continue;
    named = 1;
    if (X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1) return 1;
  }
  ERR_clear_error();
  return !named;
}

/* One CRL into @p store, if acceptable. */
static int add_crl(X509_CRL *crl, STACK_OF(X509) *cas, X509_STORE *store,
                   char *why, size_t len) {
  char r[256];
  if (!crl_acceptable(crl, cas))
    return snprintf(why, len, "the CRL of %s is not signed by the "
                    "--tls-client-ca certificate of that name",
                    name_str(X509_CRL_get_issuer(crl), r, sizeof r)), -1;
  if (X509_STORE_add_crl(store, crl) != 1)
    return snprintf(why, len, "cannot add its CRL: %s", ssl_reason()), -1;
  return 0;
}

/* The CRLs of one file (PEM, several allowed, each must parse; or one
 * DER) into @p store: the number added (> 0), or -1 with the reason
 * (without the file's name). */
static int add_crls(const char *data, size_t size, STACK_OF(X509) *cas,
                    X509_STORE *store, char *why, size_t len) {
  int pem = strstr(data, "-----BEGIN") != NULL, n = 0;
  BIO *b = BIO_new_mem_buf(data, (int)size);
  X509_CRL *crl;
  while (b && (crl = pem ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)
                         : d2i_X509_CRL_bio(b, NULL)) != NULL) {
    int rc = add_crl(crl, cas, store, why, len);
    X509_CRL_free(crl);
    if (rc != 0) {
      n = -1;
      break;
    }
    n++;
    if (!pem) break;
  }
  if (n > 0 && pem && !pem_at_end()) {
    snprintf(why, len, "CRL %d does not parse", n + 1);
    n = -1;
  }
  ERR_clear_error();
  BIO_free(b);
  if (n == 0) snprintf(why, len, "not a CRL (PEM or DER)");
  return n > 0 ? n : -1;
}

/* One file of the CRL directory; 0 for anything but a regular file. */
static int load_crl_file(const char *dir, const char *name,
                         STACK_OF(X509) *cas, X509_STORE *store, char *why,
                         size_t len) {
  char path[4096], r[256];
  struct stat sb;
  size_t size;
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
    return fail_at(why, len, "--tls-crl-dir", dir, "%s: name too long",
                   name);
  if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
  char *data = read_file(path, GXD_TLS_CRL_FILE_MAX, &size, r, sizeof r);
  int n = data ? add_crls(data, size, cas, store, r, sizeof r) : -1;
  free(data);
  if (n < 0) fail_at(why, len, "--tls-crl-dir", dir, "%s: %s", name, r);
  return n;
}

/* Every CRL of the directory into @p store; at least one. */
static int load_crls(const char *dir, STACK_OF(X509) *cas, X509_STORE *store,
                     char *why, size_t len) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int files = 0, crls = 0, rc = 0;
  if (!d) return fail_at(why, len, "--tls-crl-dir", dir, "%s", strerror(errno));
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (++files > GXD_TLS_CRL_FILES_MAX) {
      fail_at(why, len, "--tls-crl-dir", dir, "more than %d files",
           GXD_TLS_CRL_FILES_MAX);
      rc = -1;
      break;
    }
    int n = load_crl_file(dir, e->d_name, cas, store, why, len);
    if (n < 0) rc = -1;
    crls += n > 0 ? n : 0;
  }
  closedir(d);
  if (rc == 0 && crls == 0)
    fail_at(why, len, "--tls-crl-dir", dir, "no CRL in it");
  return rc == 0 && crls > 0 ? 0 : -1;
}

/* The store of client CAs and CRLs, for --tls-crl-dir. */
static X509_STORE *make_store(const gxd_tls_files *f, STACK_OF(X509) *cas,
                              char *why, size_t len) {
  X509_STORE *store = X509_STORE_new();
  if (!store) {
    fail_at(why, len, "--tls-crl-dir", f->crl_dir, "out of memory");
    return NULL;
  }
  for (int i = 0; i < sk_X509_num(cas); i++)
    X509_STORE_add_cert(store, sk_X509_value(cas, i));
  X509_STORE_set_flags(store,
                       X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  ERR_clear_error();
  if (load_crls(f->crl_dir, cas, store, why, len) == 0) return store;
  X509_STORE_free(store);
  return NULL;
}

static void set_free(tls_set *s) {
  free(s->cert);
  free(s->key);
  free(s->ca);
  X509_STORE_free(s->store);
  memset(s, 0, sizeof *s);
}

/* Reads and checks every file into @p s. */
static int load_set(const gxd_tls_files *f, tls_set *s, char *why,
                    size_t len) {
  X509 *leaf = NULL;
  STACK_OF(X509) *cas = NULL;
  int rc = -1;
  memset(s, 0, sizeof *s);
  if (read_pem("--tls-cert", f->cert, &s->cert, why, len) != 0 ||
      read_pem("--tls-key", f->key, &s->key, why, len) != 0 ||
      check_cert(f->cert, s->cert, &leaf, why, len) != 0 ||
      check_key(f, s->key, leaf, why, len) != 0)
    goto out;
  if (f->client_ca &&
      (read_pem("--tls-client-ca", f->client_ca, &s->ca, why, len) != 0 ||
       !(cas = check_cas(f->client_ca, s->ca, why, len))))
    goto out;
  if (f->crl_dir && !(s->store = make_store(f, cas, why, len))) goto out;
  rc = 0;
out:
  X509_free(leaf);
  sk_X509_pop_free(cas, X509_free);
  if (rc != 0) set_free(s);
  return rc;
}

/* ---------------------------------------------------------- public API */

/* @p path made absolute against the working directory (NULL stays
 * NULL); *ok is cleared when it cannot be. */
static const char *absolute(const char *path, int *ok) {
  char cwd[4096], *abs = NULL;
  if (!path) return NULL;
  if (path[0] == '/')
    abs = strdup(path);
  else if (getcwd(cwd, sizeof cwd) && asprintf(&abs, "%s/%s", cwd, path) < 0)
    abs = NULL;
  if (!abs) *ok = 0;
  return abs;
}

static int copy_files(const gxd_tls_files *in, gxd_tls_files *out) {
  int ok = 1;
  out->cert = absolute(in->cert, &ok);
  out->key = absolute(in->key, &ok);
  out->client_ca = absolute(in->client_ca, &ok);
  out->crl_dir = absolute(in->crl_dir, &ok);
  return ok ? 0 : -1;
}

static void free_files(gxd_tls_files *f) {
  free((char *)f->cert);
  free((char *)f->key);
  free((char *)f->client_ca);
  free((char *)f->crl_dir);
}

int gxd_tls_open(const gxd_tls_files *files, gxd_tls **out, char *why,
                 size_t why_len) {
  if (!files->cert || !files->key || (files->crl_dir && !files->client_ca)) {
    snprintf(why, why_len, "%s", !files->cert || !files->key
             ? "TLS needs both --tls-cert and --tls-key"
             : "--tls-crl-dir needs --tls-client-ca");
    return -1;
  }
  gxd_tls *t = calloc(1, sizeof *t);
  if (!t) return snprintf(why, why_len, "out of memory"), -1;
  if (copy_files(files, &t->files) != 0) {
    snprintf(why, why_len, "TLS: cannot make the file names absolute: %s",
             strerror(errno));
    goto fail;
  }
  if (load_set(&t->files, &t->set, why, why_len) != 0) goto fail;
  int rc = gx_rpc_tls_source_new(files->client_ca != NULL, &t->src);
  if (rc == GX_OK)
    rc = gx_rpc_tls_source_set(t->src, t->set.cert, t->set.key, t->set.ca);
  if (rc == GX_OK) rc = gx_rpc_creds_tls_server(t->src, &t->creds);
  if (rc != GX_OK) {
    snprintf(why, why_len, "TLS: %s", gx_strerror(rc));
    goto fail;
  }
  *out = t;
  return 0;
fail:
  gxd_tls_free(t);
  return -1;
}

const gx_rpc_creds *gxd_tls_creds(const gxd_tls *t) { return t->creds; }

int gxd_tls_mtls(const gxd_tls *t) { return t->files.client_ca != NULL; }

int gxd_tls_reload(gxd_tls *t, char *why, size_t why_len) {
  tls_set s;
  if (load_set(&t->files, &s, why, why_len) != 0) return -1;
  int rc = gx_rpc_tls_source_set(t->src, s.cert, s.key, s.ca);
  if (rc != GX_OK) {
    snprintf(why, why_len, "TLS: %s", gx_strerror(rc));
    set_free(&s);
    return -1;
  }
  set_free(&t->set);
  t->set = s;
  for (size_t i = 0; i < GXD_TLS_CACHE; i++) /* chains are kept */
    t->cache[i].checked = 0;
  return 0;
}

uint64_t gxd_tls_generation(const gxd_tls *t) {
  return gx_rpc_tls_source_generation(t->src);
}

uint64_t gxd_tls_verifications(const gxd_tls *t) { return t->verifications; }

void gxd_tls_free(gxd_tls *t) {
  if (!t) return;
  gx_rpc_creds_free(t->creds);
  gx_rpc_tls_source_free(t->src);
  set_free(&t->set);
  free_files(&t->files);
  for (size_t i = 0; i < GXD_TLS_CACHE; i++) free(t->cache[i].chain);
  free(t);
}

/* ---------------------------------------------------------- revocation */

/* "0x1005": @p x's serial, into @p out. */
static const char *serial_str(X509 *x, char *out, size_t len) {
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  snprintf(out, len, "0x%s", hex ? hex : "?");
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

/* Why X509_verify_cert refused the chain of @p leaf, about the
 * certificate at fault: the leaf (depth 0) or a CA of its chain. */
static void explain(X509_STORE_CTX *ctx, X509 *leaf, char *why, size_t len) {
  int err = X509_STORE_CTX_get_error(ctx);
  int depth = X509_STORE_CTX_get_error_depth(ctx);
  X509 *x = X509_STORE_CTX_get_current_cert(ctx);
  char issuer[160], subject[160], serial[80];
  if (!x || depth <= 0) {
    x = leaf;
    depth = 0;
  }
  name_str(X509_get_issuer_name(x), issuer, sizeof issuer);
  name_str(X509_get_subject_name(x), subject, sizeof subject);
  serial_str(x, serial, sizeof serial);
  if (err == X509_V_ERR_CERT_REVOKED && depth == 0)
    snprintf(why, len, "client certificate serial %s is revoked (CRL of %s)",
             serial, issuer);
  else if (err == X509_V_ERR_CERT_REVOKED)
    snprintf(why, len, "CA certificate %s (serial %s) in the client's chain "
             "is revoked (CRL of %s)", subject, serial, issuer);
  else if (err == X509_V_ERR_UNABLE_TO_GET_CRL)
    snprintf(why, len, "no CRL of %s in --tls-crl-dir: its client "
             "certificates are refused", issuer);
  else if (depth == 0)
    snprintf(why, len, "client certificate refused: %s (issuer %s)",
             X509_verify_cert_error_string(err), issuer);
  else
    snprintf(why, len, "client certificate refused: %s (CA %s in its "
             "chain, issuer %s)", X509_verify_cert_error_string(err),
             subject, issuer);
}

/* @p leaf's chain to a client CA, through @p untrusted (the CAs the
 * client presented; may be NULL), and the CRL of every CA on it. */
static int verify_chain(X509_STORE *store, X509 *leaf,
                        STACK_OF(X509) *untrusted, char *why, size_t len) {
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  int rc = -1;
  if (!ctx || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1 ||
      X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1)
    snprintf(why, len, "the client certificate cannot be checked (out of "
             "memory)");
  else if (X509_verify_cert(ctx) == 1)
    rc = 0;
  else
    explain(ctx, leaf, why, len);
  X509_STORE_CTX_free(ctx);
  return rc;
}

/* The full check of @p pem with the chain presented with it (@p chain,
 * NULL: none). */
static int verify(gxd_tls *t, const char *pem, const char *chain, char *why,
                  size_t len) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  STACK_OF(X509) *untrusted = NULL;
  char r[128];
  int rc = -1;
  t->verifications++;
  if (!x)
    snprintf(why, len, "the client certificate cannot be checked (it does "
             "not parse)");
  else if (chain && !(untrusted = parse_certs(chain, GXD_TLS_CHAIN_MAX, r,
                                              sizeof r)))
    snprintf(why, len, "the client's certificate chain cannot be checked "
             "(%s)", r);
  else
    rc = verify_chain(t->set.store, x, untrusted, why, len);
  ERR_clear_error();
  sk_X509_pop_free(untrusted, X509_free);
  X509_free(x);
  BIO_free(b);
  return rc;
}

/* SHA-256 of @p pem, then (after a NUL, which PEM text never holds) of
 * @p chain (NULL: the certificate alone). */
static int digest(const char *pem, const char *chain, unsigned char *h) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(md, pem, strlen(pem)) == 1 &&
           (!chain || (EVP_DigestUpdate(md, "", 1) == 1 &&
                       EVP_DigestUpdate(md, chain, strlen(chain)) == 1)) &&
           EVP_DigestFinal_ex(md, h, NULL) == 1;
  EVP_MD_CTX_free(md);
  return ok ? 0 : -1;
}

static verdict *cache_find(gxd_tls *t, const unsigned char *key) {
  for (size_t i = 0; i < GXD_TLS_CACHE; i++)
    if (t->cache[i].used && memcmp(t->cache[i].key, key, 32) == 0)
      return &t->cache[i];
  return NULL;
}

/* The chain last seen with the certificate @p leaf (a hash), or NULL. A
 * resumed TLS session carries no chain; the intermediates this
 * certificate came with before still find its path (they are only
 * untrusted path material: the verification trusts client CAs alone). */
static const char *chain_seen(const gxd_tls *t, const unsigned char *leaf) {
  for (size_t n = 1; n <= GXD_TLS_CACHE; n++) { /* the newest first */
    const verdict *v =
        &t->cache[(t->next + GXD_TLS_CACHE - n) % GXD_TLS_CACHE];
    if (v->used && v->chain && memcmp(v->leaf, leaf, 32) == 0)
      return v->chain;
  }
  return NULL;
}

/* A new entry (the oldest replaced) for @p key, unchecked. */
static verdict *cache_add(gxd_tls *t, const unsigned char *key,
                          const unsigned char *leaf, const char *chain) {
  verdict *v = &t->cache[t->next];
  /* NULL without memory: then not remembered */
  char *copy = chain && strlen(chain) <= GXD_TLS_CHAIN_KEEP ? strdup(chain)
                                                            : NULL;
  t->next = (t->next + 1) % GXD_TLS_CACHE;
  free(v->chain);
  memset(v, 0, sizeof *v);
  memcpy(v->key, key, sizeof v->key);
  memcpy(v->leaf, leaf, sizeof v->leaf);
  v->chain = copy;
  v->used = 1;
  return v;
}

int gxd_tls_check_peer(gxd_tls *t, const char *pem_cert,
                       const char *pem_chain, char *why, size_t why_len) {
  unsigned char leaf[32], key[32];
  if (!t->set.store) return 0;
  if (!pem_cert || digest(pem_cert, NULL, leaf) != 0) {
    snprintf(why, why_len, "%s", pem_cert
             ? "the client certificate cannot be checked (out of memory)"
             : "no client certificate to check for revocation");
    return -1;
  }
  if (!pem_chain || !*pem_chain) pem_chain = chain_seen(t, leaf);
  if (digest(pem_cert, pem_chain, key) != 0) {
    snprintf(why, why_len, "the client certificate cannot be checked (out "
             "of memory)");
    return -1;
  }
  verdict *v = cache_find(t, key);
  if (!v) v = cache_add(t, key, leaf, pem_chain);
  if (!v->checked)
    v->refused =
        verify(t, pem_cert, pem_chain, v->reason, sizeof v->reason) != 0;
  v->checked = 1;
  if (v->refused) snprintf(why, why_len, "%s", v->reason);
  return v->refused ? -1 : 0;
}
