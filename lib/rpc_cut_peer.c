/* Ending one TCP connection of the server by its peer address
 * (gx_rpc_server_cut_peer, see rpc.h).
 *
 * gRPC 1.51 has no call to close one connection, but its transport
 * reacts to its socket being shut down: the next read sees end-of-file,
 * every call on the connection fails, and gRPC closes the descriptor
 * itself. gRPC accepts TCP connections itself and tells only the peer
 * address ("ipv4:127.0.0.1:4711", "ipv6:%5B::1%5D:4711"), so the socket
 * is looked for among the process's descriptors: a socket whose peer is
 * that address and whose local port is one the server listens on. Only
 * such sockets are shut down (shutdown(2), never close(2): the
 * descriptor stays gRPC's). An established TCP socket is unique by its
 * two addresses and ports; two matches are possible only when the peer
 * reached two of our local addresses sharing a port from the same
 * address and port, both then being that peer's. A descriptor closed and
 * reused while we look is shut down only if it matches, i.e. if it is
 * such a socket. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

#define PEER_MAX 128

typedef struct {
  int family; /* AF_INET or AF_INET6 */
  uint8_t addr[16];
  int port;
} ip_port;

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Undoes gRPC's percent-encoding ("%5B::1%5D:80") into @p out. */
static int unescape(const char *in, char *out, size_t len) {
  size_t n = 0;
  for (; *in; in++) {
    int c = (unsigned char)*in;
    if (c == '%') {
      int h = hexval(in[1]), l = h < 0 ? -1 : hexval(in[2]);
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

/* "a.b.c.d:port" or "[v6%scope]:port" into @p p (the scope is not
 * compared). */
static int parse_host_port(char *s, int v6, ip_port *p) {
  char *colon = strrchr(s, ':'), *end;
  if (!colon || !colon[1]) return -1;
  *colon = '\0';
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535) return -1;
  if (v6) {
    size_t n = strlen(s);
    if (n < 2 || s[0] != '[' || s[n - 1] != ']') return -1;
    s[n - 1] = '\0';
    s++;
    char *pct = strchr(s, '%');
    if (pct) *pct = '\0';
  }
  memset(p, 0, sizeof *p);
  p->family = v6 ? AF_INET6 : AF_INET;
  p->port = (int)port;
  return inet_pton(p->family, s, p->addr) == 1 ? 0 : -1;
}

static int parse_peer(const char *peer, ip_port *p) {
  char buf[PEER_MAX];
  int v6 = strncmp(peer, "ipv6:", 5) == 0;
  if (!v6 && strncmp(peer, "ipv4:", 5) != 0) return -1;
  if (unescape(peer + 5, buf, sizeof buf) != 0) return -1;
  return parse_host_port(buf, v6, p);
}

/* A socket address as gRPC names it: IPv4-mapped IPv6 as IPv4. */
static int from_sockaddr(const struct sockaddr_storage *ss, ip_port *p) {
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

/* Whether @p fd is a TCP socket on one of @p ports connected to @p want. */
static int matches(int fd, const ip_port *want, const int *ports, int n) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  ip_port local, remote;
  int ours = 0;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
      from_sockaddr(&ss, &local) != 0)
    return 0;
  for (int i = 0; i < n; i++) ours |= ports[i] == local.port;
  len = sizeof ss;
  return ours && getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
         from_sockaddr(&ss, &remote) == 0 && remote.family == want->family &&
         remote.port == want->port &&
         memcmp(remote.addr, want->addr, sizeof want->addr) == 0;
}

int rpc_cut_tcp_peer(const int *ports, int nports, const char *peer) {
  ip_port want;
  int cut = 0;
  if (nports == 0 || strlen(peer) >= PEER_MAX || parse_peer(peer, &want))
    return GX_EINVAL;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return GX_ESYS;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name || fd < 0 || fd > 0x7fffffff ||
        fd == dirfd(d))
      continue;
    if (matches((int)fd, &want, ports, nports) &&
        shutdown((int)fd, SHUT_RDWR) == 0)
      cut++;
  }
  closedir(d);
  return cut ? GX_OK : GX_ECLOSED;
}
