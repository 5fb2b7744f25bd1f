/* Cutting the connection a server call came on (gx_rpc_call_cut_connection,
 * see rpc.h). gRPC 1.51 has no call for it, but it reacts to its socket
 * being shut down: the transport sees end-of-file, fails every call on it
 * and closes the descriptor itself. So the socket is found and shut down
 * (shutdown(2), never close(2): gRPC owns the descriptor and closes it).
 *
 * Unix listeners of ours (rpc_unix.c): the socket is the one recorded at
 * accept. It is open under that number as long as the call exists (see
 * rpc_conn.c for why), and its identity is checked again before the
 * shutdown.
 *
 * TCP listeners (gRPC accepts those, with or without TLS): the call only
 * tells its peer address, as gRPC formats it ("ipv4:10.0.0.2:4711",
 * "ipv6:%5B::1%5D:4711"). The socket is found among this process's
 * descriptors (/proc/self/fd) as one whose peer is that address and whose
 * local port is one this server listens on. Races, with gRPC's threads
 * opening and closing descriptors while we look:
 *  - The call's own socket cannot go away meanwhile: the call holds its
 *    transport, which holds the socket open (rpc_conn.c).
 *  - Another descriptor can be closed and its number reused between our
 *    getpeername and our shutdown; it is shut down only if it matched,
 *    and a matching socket is the call's (below), which stays open.
 *  - Only one socket of this process can match: an established TCP
 *    socket is unique by its local and peer address and port, and the
 *    kernel gives no new connection the addresses of one that is still
 *    open. The exception is one peer address and port connected to two
 *    of our local addresses that share a port (the call does not tell
 *    which local address it came to): both are cut, both being that one
 *    peer's.
 *  - A client socket of this process (a channel) matches only if the
 *    server it connects to has exactly the call's peer address and port
 *    and its own local port is one of our listening ports: it is then
 *    bound to another local address than our listener's, with a source
 *    port equal to our listening port. Not a case that arises by chance. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

/* Longest peer string considered (an IPv6 address with a scope, percent
 * encoded, and a port, fit easily). */
#define PEER_MAX 128

/* An IPv4 or IPv6 address and port, as compared here. */
typedef struct {
  int family; /* AF_INET or AF_INET6 */
  uint8_t addr[16];
  uint16_t port;
} ip_peer;

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Undoes gRPC's percent-encoding of an address ("%5B::1%5D:80"). */
static int decode(const char *in, char *out, size_t len) {
  size_t n = 0;
  while (*in) {
    int c = (unsigned char)*in++;
    if (c == '%') {
      int h = hex(in[0]), l = h < 0 ? -1 : hex(in[1]);
      if (l < 0) return -1;
      c = h * 16 + l;
      in += 2;
    }
    if (n + 1 >= len) return -1;
    out[n++] = (char)c;
  }
  out[n] = '\0';
  return 0;
}

/* "65535" -> 65535; anything else -> -1. */
static int parse_port(const char *s) {
  long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
    if (v > 65535) return -1;
  }
  return (int)v;
}

/* "a.b.c.d:port" or "[v6%scope]:port" (decoded) into @p p. The scope is
 * not compared: a peer's address and port are unique on their own. */
static int parse_host_port(char *s, int v6, ip_peer *p) {
  char *colon = strrchr(s, ':');
  if (!colon) return -1;
  *colon = '\0';
  int port = parse_port(colon + 1);
  if (v6) {
    size_t n = strlen(s);
    if (n < 2 || s[0] != '[' || s[n - 1] != ']') return -1;
    s[n - 1] = '\0';
    s++;
    char *pct = strchr(s, '%');
    if (pct) *pct = '\0';
  }
  p->family = v6 ? AF_INET6 : AF_INET;
  p->port = (uint16_t)port;
  return port >= 0 && inet_pton(p->family, s, p->addr) == 1 ? 0 : -1;
}

/* gRPC's peer string of a TCP call into @p p. */
static int parse_peer(const char *peer, ip_peer *p) {
  char buf[PEER_MAX];
  int v6 = strncmp(peer, "ipv6:", 5) == 0;
  if (!v6 && strncmp(peer, "ipv4:", 5) != 0) return -1;
  if (strlen(peer) >= sizeof buf || decode(peer + 5, buf, sizeof buf) != 0)
    return -1;
  memset(p, 0, sizeof *p);
  return parse_host_port(buf, v6, p);
}

/* A socket address as gRPC reports it: IPv4-mapped IPv6 addresses as
 * IPv4. Returns -1 for other families. */
static int from_sockaddr(const struct sockaddr_storage *ss, ip_peer *p) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  memset(p, 0, sizeof *p);
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    p->family = AF_INET;
    memcpy(p->addr, &in->sin_addr, 4);
    p->port = ntohs(in->sin_port);
    return 0;
  }
  if (ss->ss_family != AF_INET6) return -1;
  const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
  int v4 = memcmp(in6->sin6_addr.s6_addr, mapped, sizeof mapped) == 0;
  p->family = v4 ? AF_INET : AF_INET6;
  memcpy(p->addr, in6->sin6_addr.s6_addr + (v4 ? 12 : 0), v4 ? 4 : 16);
  p->port = ntohs(in6->sin6_port);
  return 0;
}

static int same(const ip_peer *a, const ip_peer *b) {
  return a->family == b->family && a->port == b->port &&
         memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

/* Whether @p fd is a TCP socket on one of @p ports connected to @p want. */
static int matches(int fd, const ip_peer *want, const int *ports, int n) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  ip_peer local, remote;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
      from_sockaddr(&ss, &local) != 0)
    return 0;
  int ours = 0;
  for (int i = 0; i < n; i++) ours |= ports[i] == local.port;
  len = sizeof ss;
  return ours && getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
         from_sockaddr(&ss, &remote) == 0 && same(&remote, want);
}

/* Shuts down every socket of ours connected to @p want; returns how
 * many, or -1 if this process's descriptors cannot be listed. */
static int cut_tcp(const rpc_conns *cs, const ip_peer *want) {
  int n, cut = 0;
  const int *ports = rpc_conns_tcp_ports(cs, &n);
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name || fd == dirfd(d) || fd < 0 || fd > 0x7fffffff)
      continue;
    if (matches((int)fd, want, ports, n) && shutdown((int)fd, SHUT_RDWR) == 0)
      cut++;
  }
  closedir(d);
  return cut;
}

static int cut_unix(const gx_rpc_call *c) {
  if (!rpc_conns_current(c->conns, &c->cred)) return GX_ECLOSED;
  return shutdown(c->cred.fd, SHUT_RDWR) == 0 ? GX_OK : GX_ECLOSED;
}

int rpc_cut_tcp_peer(const rpc_conns *cs, const char *peer) {
  ip_peer want;
  if (!peer || parse_peer(peer, &want) != 0) return GX_EINVAL;
  int n = cut_tcp(cs, &want);
  if (n < 0) return GX_ESYS;
  return n > 0 ? GX_OK : GX_ECLOSED;
}

int gx_rpc_call_cut_connection(gx_rpc_call *c) {
  if (!c->is_server) return GX_EINVAL;
  if (c->cred.conn_id) return cut_unix(c);
  return rpc_cut_tcp_peer(c->conns, c->peer);
}
