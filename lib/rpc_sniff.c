/* Finding the connections of a server that carry an HTTP/2 rapid reset
 * (gx_rpc_server_cut_flooders, see rpc.h).
 *
 * A flooding connection is not always known by a call: gRPC hands its
 * calls to the loop one at a time, and while it parses a flood the loop
 * may see none of them (connections of our own unix listeners pass no
 * stream gate either), and a TCP connection's address is known only
 * once one of its calls reached the loop. What can be seen is the input:
 * while a client floods, its socket's receive queue stays full (gRPC
 * parses slower than the client writes), and what waits there is
 * HEADERS, RST_STREAM, HEADERS, RST_STREAM... Each socket accepted on
 * the server's listeners with unread input is peeked at (recv MSG_PEEK:
 * nothing is taken from gRPC), the frames in the peeked bytes are walked
 * from the first RST_STREAM header found, and the socket is shut down
 * when they are that pattern and nothing else: at least SNIFF_MIN_RESETS
 * RST_STREAMs, no DATA (every run carries its start message in DATA: a
 * client starting runs, however many at once, never matches), HEADERS
 * and RST_STREAM all but a few frames. Plaintext only: TLS input does
 * not parse as frames, so it never matches. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

#define SNIFF_MIN_INPUT 2048  /* less unread input is no flood */
#define SNIFF_MIN_RESETS 16
#define FRAME_MAX 16384       /* SETTINGS_MAX_FRAME_SIZE's default */

enum { T_DATA = 0, T_HEADERS = 1, T_RST_STREAM = 3, T_LAST_KNOWN = 9 };

/* Whether an RST_STREAM frame header (length 4, no flags, an odd client
 * stream) starts at @p p. */
static int rst_at(const uint8_t *p) {
  uint32_t sid = (uint32_t)(p[5] & 0x7f) << 24 | (uint32_t)p[6] << 16 |
                 (uint32_t)p[7] << 8 | p[8];
  return p[0] == 0 && p[1] == 0 && p[2] == 4 && p[3] == T_RST_STREAM &&
         p[4] == 0 && !(p[5] & 0x80) && (sid & 1);
}

int rpc_rapid_reset_evidence(const uint8_t *buf, size_t n) {
  size_t i = 0;
  while (i + 9 <= n && !rst_at(buf + i)) i++; /* align on a frame */
  unsigned frames = 0, resets = 0, headers = 0;
  while (i + 9 <= n) {
    size_t len = (size_t)buf[i] << 16 | (size_t)buf[i + 1] << 8 | buf[i + 2];
    uint8_t type = buf[i + 3];
    if (len > FRAME_MAX || type > T_LAST_KNOWN || type == T_DATA) return 0;
    frames++;
    resets += type == T_RST_STREAM;
    headers += type == T_HEADERS;
    i += 9 + len;
  }
  return resets >= SNIFF_MIN_RESETS && headers + resets + 4 >= frames;
}

/* Whether @p fd is a TCP connection accepted on one of @p ports: a
 * connected stream socket whose local port is the listener's. */
static int accepted_tcp(int fd, const int *ports, int nports) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int type = 0, port = -1;
  socklen_t tl = sizeof type;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return 0;
  if (ss.ss_family == AF_INET)
    port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
  else if (ss.ss_family == AF_INET6)
    port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
  int ours = 0;
  for (int i = 0; i < nports; i++) ours |= port == ports[i];
  len = sizeof ss;
  return ours && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
         type == SOCK_STREAM &&
         getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

int rpc_sniff_flooding(int fd, uint8_t *buf) {
  int queued = 0;
  struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
  /* a socket shut down for reading (an earlier cut: gRPC closes it
   * later) floods no more */
  if (poll(&pfd, 1, 0) != 0 || ioctl(fd, FIONREAD, &queued) != 0 ||
      queued < SNIFF_MIN_INPUT)
    return 0;
  ssize_t n = recv(fd, buf, RPC_SNIFF_PEEK, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 && rpc_rapid_reset_evidence(buf, (size_t)n);
}

/* What a pass over the connections needs. */
typedef struct {
  uint8_t *buf;
  int cut;
} sniff_pass;

static int sniff_one(void *ud, int fd) {
  sniff_pass *sp = ud;
  if (rpc_sniff_flooding(fd, sp->buf) && shutdown(fd, SHUT_RDWR) == 0)
    sp->cut++;
  return 0;
}

/* The TCP connections: found among the process's descriptors. */
static int sniff_tcp(const rpc_conns *cs, sniff_pass *sp) {
  int nports;
  const int *ports = rpc_conns_tcp_ports(cs, &nports);
  if (nports == 0) return GX_OK;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return GX_ESYS;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name || fd < 0 || fd > 0x7fffffff ||
        fd == dirfd(d))
      continue;
    if (accepted_tcp((int)fd, ports, nports)) sniff_one(sp, (int)fd);
  }
  closedir(d);
  return GX_OK;
}

int rpc_cut_flooders(rpc_conns *cs, int tcp) {
  sniff_pass sp = {malloc(RPC_SNIFF_PEEK), 0};
  int rc = sp.buf ? GX_OK : GX_ENOMEM;
  if (rc == GX_OK) rpc_conns_each(cs, sniff_one, &sp);
  if (rc == GX_OK && tcp) rc = sniff_tcp(cs, &sp);
  free(sp.buf);
  return rc == GX_OK ? sp.cut : rc;
}
