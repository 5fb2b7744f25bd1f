/* Finding the connections of a server that carry an HTTP/2 rapid reset
 * (gx_rpc_server_cut_flooders, see rpc.h).
 *
 * A connection the stream gate refuses for its rate cannot always be
 * found by its address: gRPC names every connection of its unix
 * listeners "unix:", and a TCP connection's address is known only once
 * one of its calls reached the loop. What can be seen is the input:
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
#include <dirent.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "lib/gx_err.h"
#include "lib/rpc_internal.h"

#define SNIFF_PEEK (64 * 1024)
#define SNIFF_MIN_INPUT 4096  /* less unread input is no flood */
#define SNIFF_MIN_RESETS 32
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

/* Whether the local address @p ss (of length @p len) is one of @p l's
 * listeners: a unix socket path, or a TCP port. */
static int on_listener(const struct sockaddr_storage *ss, socklen_t len,
                       const rpc_listeners *l) {
  if (ss->ss_family == AF_UNIX) {
    const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t plen = len > off ? strnlen(un->sun_path, len - off) : 0;
    for (int i = 0; i < l->npaths; i++)
      if (plen && plen == strlen(l->paths[i]) &&
          memcmp(un->sun_path, l->paths[i], plen) == 0)
        return 1;
    return 0;
  }
  int port = ss->ss_family == AF_INET
                 ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
             : ss->ss_family == AF_INET6
                 ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
                 : -1;
  for (int i = 0; i < l->nports; i++)
    if (port == l->ports[i]) return 1;
  return 0;
}

/* Whether @p fd is a connection accepted on one of @p l's listeners: a
 * connected stream socket whose local address is the listener's. */
static int accepted_on(int fd, const rpc_listeners *l) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int type = 0;
  socklen_t tl = sizeof type;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
      !on_listener(&ss, len, l))
    return 0;
  len = sizeof ss;
  return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
         type == SOCK_STREAM &&
         getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/* Peeks at @p fd's unread input; 1 if it is a rapid reset. A socket
 * shut down for reading (by an earlier cut: gRPC closes it later) is
 * not one any more. */
static int flooding(int fd, uint8_t *buf) {
  int queued = 0;
  struct pollfd pfd = {.fd = fd, .events = POLLRDHUP};
  if (poll(&pfd, 1, 0) != 0 || ioctl(fd, FIONREAD, &queued) != 0 ||
      queued < SNIFF_MIN_INPUT)
    return 0;
  ssize_t n = recv(fd, buf, SNIFF_PEEK, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 && rpc_rapid_reset_evidence(buf, (size_t)n);
}

int rpc_cut_flooders(const rpc_listeners *l) {
  int cut = 0;
  if (l->npaths == 0 && l->nports == 0) return 0;
  uint8_t *buf = malloc(SNIFF_PEEK);
  DIR *d = buf ? opendir("/proc/self/fd") : NULL;
  if (!d) {
    free(buf);
    return GX_ESYS;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name || fd < 0 || fd > 0x7fffffff ||
        fd == dirfd(d))
      continue;
    if (accepted_on((int)fd, l) && flooding((int)fd, buf) &&
        shutdown((int)fd, SHUT_RDWR) == 0)
      cut++;
  }
  closedir(d);
  free(buf);
  return cut;
}
