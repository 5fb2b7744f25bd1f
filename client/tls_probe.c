/* A TLS handshake of our own, made only to explain one of gRPC's that
 * failed: gRPC says "certificate verify failed" without saying why, and
 * "Peer name X is not in peer certificate" without the names that are.
 * The probe connects to the same host and port, verifies the server's
 * certificate against the same CA with OpenSSL (recording the result
 * instead of failing on it) and reads the certificate's names and dates.
 * It never decides anything: gRPC's handshake already refused the server.
 *
 * Bounded: one address, a deadline for connect and handshake together;
 * no application data is sent. SIGPIPE is blocked in the calling thread
 * while OpenSSL writes (the library installs no handler, and the caller's
 * process must not die of a server closing on us). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client/internal.h"
#include "lib/gx_addr.h"

/* Waits for a non-blocking connect on @p fd; returns 0 or -1. */
static int wait_connect(int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int err = 0;
  socklen_t len = sizeof err;
  int n;
  while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (n <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    return -1;
  return err == 0 ? 0 : -1;
}

/* A blocking socket connected to @p a, with send and receive timeouts of
 * @p timeout_ms; -1 on failure. */
static int connect_to(const gx_addr *a, int timeout_ms) {
  char port[8];
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV};
  struct addrinfo *ai = NULL;
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  snprintf(port, sizeof port, "%d", a->port);
  if (getaddrinfo(a->host, port, &hints, &ai) != 0) return -1;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  0);
  if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
      (errno != EINPROGRESS || wait_connect(fd, timeout_ms) != 0)) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  if (fd < 0) return -1;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

/* A client context trusting the certificates of @p ca_pem, verifying
 * nothing by itself (the result is read after the handshake). */
static SSL_CTX *probe_ctx(const char *ca_pem) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  BIO *b = BIO_new_mem_buf(ca_pem, -1);
  X509 *x;
  if (!ctx || !b) goto out_fail;
  while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), x);
    X509_free(x);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2", 3);
  BIO_free(b);
  return ctx;
out_fail:
  BIO_free(b);
  SSL_CTX_free(ctx);
  return NULL;
}

/* Appends one name to the ", "-separated list @p out (bounded). */
static void add_name(char *out, size_t len, const char *name) {
  size_t used = strlen(out);
  if (used + strlen(name) + 3 >= len) return; /* full: keep what fits */
  snprintf(out + used, len - used, "%s%s", used ? ", " : "", name);
}

/* The DNS and IP subject alternative names of @p cert, at most what fits
 * in @p out. */
static void san_names(X509 *cert, char *out, size_t len) {
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
                                          NULL);
  char ip[INET6_ADDRSTRLEN];
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    const ASN1_STRING *v = g->type == GEN_DNS     ? g->d.dNSName
                           : g->type == GEN_IPADD ? g->d.iPAddress
                                                  : NULL;
    const unsigned char *d = v ? ASN1_STRING_get0_data(v) : NULL;
    int n = v ? ASN1_STRING_length(v) : 0;
    if (g->type == GEN_DNS && n > 0 && n < 254 && !memchr(d, '\0', n)) {
      char dns[256];
      snprintf(dns, sizeof dns, "%.*s", n, (const char *)d);
      add_name(out, len, dns);
    } else if (g->type == GEN_IPADD && (n == 4 || n == 16) &&
               inet_ntop(n == 4 ? AF_INET : AF_INET6, d, ip, sizeof ip)) {
      add_name(out, len, ip);
    }
  }
  GENERAL_NAMES_free(names);
}

time_t gexec__asn1_epoch(const ASN1_TIME *t) {
  struct tm tm;
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

/* Sorts OpenSSL's verification result into what we tell people. */
static int classify(long v) {
  switch (v) {
    case X509_V_OK: return 0;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED: return GEXEC__TLS_UNTRUSTED;
    case X509_V_ERR_CERT_HAS_EXPIRED: return GEXEC__TLS_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID: return GEXEC__TLS_NOT_YET_VALID;
    default: return GEXEC__TLS_OTHER;
  }
}

/* Reads what the handshake on @p ssl learnt about the server. */
static int read_peer(SSL *ssl, gexec__tls_peer *out) {
  X509 *cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return -1;
  long v = SSL_get_verify_result(ssl);
  out->verify = classify(v);
  snprintf(out->why, sizeof out->why, "%s",
           X509_verify_cert_error_string(v));
  san_names(cert, out->names, sizeof out->names);
  out->not_before = gexec__asn1_epoch(X509_get0_notBefore(cert));
  out->not_after = gexec__asn1_epoch(X509_get0_notAfter(cert));
  X509_free(cert);
  return 0;
}

/* The handshake itself, on connected socket @p fd. */
static int handshake(int fd, const char *ca_pem, const char *sni,
                     gexec__tls_peer *out) {
  int rc = -1;
  SSL_CTX *ctx = probe_ctx(ca_pem);
  SSL *ssl = ctx ? SSL_new(ctx) : NULL;
  /* The server's certificate is checked when it arrives: its result
   * stands even if the handshake fails later (a TLS 1.2 server that wants
   * a client certificate aborts when we send none). */
  if (ssl && SSL_set_fd(ssl, fd) == 1 &&
      (!sni || SSL_set_tlsext_host_name(ssl, sni) == 1)) {
    (void)SSL_connect(ssl);
    rc = read_peer(ssl, out);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return rc;
}

/* The name sent as SNI: the override, else a host that is not an IP
 * literal (as gRPC does), else none. */
static const char *sni_for(const gx_addr *a, const char *server_name) {
  unsigned char buf[16];
  if (server_name) return server_name;
  if (inet_pton(AF_INET, a->host, buf) == 1 ||
      inet_pton(AF_INET6, a->host, buf) == 1)
    return NULL;
  return a->host;
}

int gexec__tls_probe(const char *target, const char *ca_pem,
                     const char *server_name, int timeout_ms,
                     gexec__tls_peer *out) {
  gx_addr a;
  char why[128];
  sigset_t pipe_set, old, pending;
  memset(out, 0, sizeof *out);
  if (gx_addr_parse(target, &a, why, sizeof why) != 0 ||
      a.kind != GX_ADDR_TCP)
    return -1;
  int fd = connect_to(&a, timeout_ms);
  if (fd < 0) return -1;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  int was_pending = sigpending(&pending) == 0 &&
                    sigismember(&pending, SIGPIPE);
  int rc = handshake(fd, ca_pem, sni_for(&a, server_name), out);
  close(fd);
  /* Consume a SIGPIPE the handshake raised, not one that was there. */
  struct timespec zero = {0, 0};
  if (!was_pending && sigpending(&pending) == 0 &&
      sigismember(&pending, SIGPIPE))
    sigtimedwait(&pipe_set, NULL, &zero);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}
