#include "lib/gx_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *why, size_t len, const char *fmt, const char *arg) {
  snprintf(why, len, fmt, arg);
  return -1;
}

static int parse_unix(const char *path, gx_addr *a, char *why, size_t len) {
  a->kind = GX_ADDR_UNIX;
  if (path[0] != '/')
    return fail(why, len, "unix socket path '%s' must be absolute", path);
  if ((size_t)snprintf(a->path, sizeof a->path, "%s", path) >= sizeof a->path)
    return fail(why, len, "unix socket path '%s' is longer than 107 bytes",
                path);
  return 0;
}

static int loopback_host(const char *host) {
  struct in_addr v4;
  struct in6_addr v6;
  if (strcmp(host, "localhost") == 0) return 1;
  if (inet_pton(AF_INET, host, &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, host, &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return 0;
}

static int parse_port(const char *p, int *port) {
  char *end;
  /* digits only: strtol would also take blanks and a sign */
  if (*p < '0' || *p > '9') return -1;
  long v = strtol(p, &end, 10);
  if (*end || v < 0 || v > 65535) return -1;
  *port = (int)v;
  return 0;
}

static int parse_tcp(const char *s, gx_addr *a, char *why, size_t len) {
  const char *colon, *given = s;
  size_t hlen;
  a->kind = GX_ADDR_TCP;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':')
      return fail(why, len, "address '%s': expected [v6-address]:port", s);
    hlen = (size_t)(close - s - 1);
    colon = close + 1;
    s++;
  } else {
    colon = strrchr(s, ':');
    if (!colon)
      return fail(why, len,
                  "address '%s': expected host:port or unix:/path", s);
    hlen = (size_t)(colon - s);
  }
  if (hlen == 0 || hlen >= sizeof a->host)
    return fail(why, len, "address '%s': bad host part", given);
  memcpy(a->host, s, hlen);
  a->host[hlen] = '\0';
  if (parse_port(colon + 1, &a->port) != 0)
    return fail(why, len, "address '%s': port must be 0..65535", given);
  a->is_loopback = loopback_host(a->host);
  return 0;
}

int gx_addr_parse(const char *s, gx_addr *out, char *why, size_t why_len) {
  memset(out, 0, sizeof *out);
  if (strncmp(s, "unix://", 7) == 0)
    return parse_unix(s + 7, out, why, why_len);
  if (strncmp(s, "unix:", 5) == 0) return parse_unix(s + 5, out, why, why_len);
  return parse_tcp(s, out, why, why_len);
}

/* A TCP host with no port: not unix:, not empty, no ':' outside
 * brackets, and a bracketed literal that ends at its ']'. */
static int lacks_port(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || strncmp(s, "unix:", 5) == 0) return 0;
  if (s[0] == '[') return s[n - 1] == ']';
  return strchr(s, ':') == NULL;
}

int gx_addr_with_default_port(const char *s, char *buf, size_t len) {
  int n = lacks_port(s) ? snprintf(buf, len, "%s:%d", s, GX_ADDR_DEFAULT_PORT)
                        : snprintf(buf, len, "%s", s);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

int gx_addr_default_for(const char *xdg_runtime_dir, char *buf, size_t len) {
  const char *dir = GX_ADDR_DEFAULT_RUN_DIR;
  int n;
  if (xdg_runtime_dir && xdg_runtime_dir[0] == '/') dir = xdg_runtime_dir;
  n = snprintf(buf, len, "unix:%s" GX_ADDR_DEFAULT_SUBPATH, dir);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

int gx_addr_default(char *buf, size_t len) {
  return gx_addr_default_for(getenv("XDG_RUNTIME_DIR"), buf, len);
}
