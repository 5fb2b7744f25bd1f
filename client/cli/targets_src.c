/* Targets from elsewhere than the command line: ^FILE (one target or
 * pattern per line), @GROUP (the groups file, ClusterShell's format) and
 * dns:NAME (every address of a name).
 *
 * Files are read whole, bounded (GXC_TARGETS_FILE_MAX, lines of at most
 * GXC_TARGETS_LINE_MAX). ^FILE and @GROUP may use each other; the items
 * open are kept on a stack, so a cycle is named and refused, and the
 * nesting is bounded (GXC_TARGETS_DEPTH_MAX). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/cli/targets_int.h"

/* ------------------------------------------------------------ files */

/* Grows @p buf (of @p cap bytes) to hold more, up to @p max + 2. */
static int grow(char **buf, size_t *cap, size_t max) {
  size_t want = *cap * 2 > max + 2 ? max + 2 : *cap * 2;
  char *p = realloc(*buf, want);
  if (!p) return errno = ENOMEM, -1;
  *buf = p;
  *cap = want;
  return 0;
}

/* Reads @p path whole into a NUL-terminated malloc'd @p text (NULs
 * inside kept, @p n its length); on error @p why is the reason alone. */
static int read_all(const char *path, char **text, size_t *n, char *why,
                    size_t len) {
  const size_t max = GXC_TARGETS_FILE_MAX;
  size_t cap = 4096;
  char *buf = malloc(cap);
  int fd = buf ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1;
  ssize_t r = 1;
  *n = 0;
  while (fd >= 0 && r > 0 && *n <= max) {
    if (*n + 1 == cap && grow(&buf, &cap, max) != 0) break;
    r = read(fd, buf + *n, cap - 1 - *n);
    if (r < 0 && errno == EINTR) r = 1;
    else if (r > 0) *n += (size_t)r;
  }
  if (fd < 0 || r != 0)
    snprintf(why, len, "%s", *n > max ? "larger than 16 MiB"
                                      : strerror(buf ? errno : ENOMEM));
  if (fd >= 0) close(fd);
  if (fd < 0 || r != 0) return free(buf), -1;
  buf[*n] = '\0';
  *text = buf;
  return 0;
}

/* The next line of @p text (from @p *at), cut at '#' and trimmed, into
 * @p line; returns 1, 0 at the end, -1 with @p why for a line too long
 * or holding a NUL. */
static int next_line(const char *text, size_t n, size_t *at, char *line,
                     char *why, size_t len) {
  const char *s = text + *at, *nl;
  size_t l, b = 0;
  if (*at >= n) return 0;
  nl = memchr(s, '\n', n - *at);
  l = nl ? (size_t)(nl - s) : n - *at;
  *at += l + 1;
  if (l > GXC_TARGETS_LINE_MAX)
    return snprintf(why, len, "line longer than %d bytes",
                    GXC_TARGETS_LINE_MAX), -1;
  if (memchr(s, '\0', l)) return snprintf(why, len, "NUL byte"), -1;
  if (memchr(s, '#', l)) l = (size_t)((const char *)memchr(s, '#', l) - s);
  while (l && strchr(" \t\r", s[l - 1])) l--;
  while (b < l && strchr(" \t", s[b])) b++;
  memmove(line, s + b, l - b); /* index_groups: in place */
  line[l - b] = '\0';
  return 1;
}

/* ---------------------------------------------------------- nesting */

/* Opens @p item on the stack: refused if already open (a cycle) or too
 * deep. */
static int nest(gxc__tparse *st, const char *item, char *why, size_t len) {
  for (int i = 0; i < st->depth; i++) {
    if (strcmp(st->stack[i], item) != 0) continue;
    size_t o = (size_t)snprintf(why, len, "cycle: ");
    for (int j = i; j < st->depth && o < len; j++)
      o += (size_t)snprintf(why + o, len - o, "%s -> ", st->stack[j]);
    if (o < len) snprintf(why + o, len - o, "%s", item);
    return st->final = 1, -1;
  }
  if (st->depth == GXC_TARGETS_DEPTH_MAX) {
    char q[512];
    gxc_nodeset_quote(item, q, sizeof q);
    snprintf(why, len, "'%s': nested deeper than %d", q,
             GXC_TARGETS_DEPTH_MAX);
    return st->final = 1, -1;
  }
  st->stack[st->depth++] = item;
  return 0;
}

/* Parses @p spec from line @p line of @p path: an error gets the prefix
 * "PATH:LINE: " unless it is final. */
static int spec_at(gxc__tparse *st, const char *spec, const char *path,
                   size_t line, char *why, size_t len) {
  char inner[1024], q[512];
  if (gxc__targets_spec(st, spec, inner, sizeof inner) == 0) return 0;
  gxc_nodeset_quote(path, q, sizeof q);
  if (st->final)
    snprintf(why, len, "%s", inner);
  else
    snprintf(why, len, "%s:%zu: %s", q, line, inner);
  return -1;
}

/* ------------------------------------------------------------ ^FILE */

static int file_lines(gxc__tparse *st, const char *path, const char *text,
                      size_t n, char *why, size_t len) {
  char line[GXC_TARGETS_LINE_MAX + 1], r[64], q[512];
  size_t at = 0, no = 0;
  int rc;
  while ((rc = next_line(text, n, &at, line, r, sizeof r)) != 0) {
    no++;
    if (rc < 0) {
      gxc_nodeset_quote(path, q, sizeof q);
      return snprintf(why, len, "%s:%zu: %s", q, no, r), -1;
    }
    if (line[0] && spec_at(st, line, path, no, why, len) != 0) return -1;
  }
  return 0;
}

int gxc__targets_file(gxc__tparse *st, const char *item, char *why,
                      size_t len) {
  char *text = NULL, r[128], q[512];
  size_t n;
  int rc;
  if (!item[1])
    return gxc_nodeset_error(why, len, item, 2, "empty file name");
  if (nest(st, item, why, len) != 0) return -1;
  if (read_all(item + 1, &text, &n, r, sizeof r) != 0) {
    gxc_nodeset_quote(item, q, sizeof q);
    snprintf(why, len, "'%s': %s", q, r);
    rc = -1;
  } else {
    rc = file_lines(st, item + 1, text, n, why, len);
  }
  free(text);
  st->depth--;
  return rc;
}

/* ----------------------------------------------------------- groups */

static int group_name_ok(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789._-", s[i]) || !s[i])
      return 0;
  return n > 0;
}

/* Checks and records one non-empty line "name: value" (@p line is
 * rewritten in place: the name and the value NUL-terminated). */
static int group_line(gxc__tparse *st, char *line, size_t no, char *why,
                      size_t len) {
  char *colon = strchr(line, ':'), *v, q[300];
  size_t n;
  if (!colon)
    return snprintf(why, len, "expected 'name: pattern[,pattern...]'"), -1;
  for (n = (size_t)(colon - line); n && strchr(" \t", line[n - 1]);) n--;
  line[n] = '\0';
  if (!group_name_ok(line, n)) {
    gxc_nodeset_quote(line, q, sizeof q);
    return snprintf(why, len, "bad group name '%s'", q), -1;
  }
  for (size_t i = 0; i < st->ngroups; i++)
    if (strcmp(st->groups[i].name, line) == 0)
      return snprintf(why, len, "group '%s' defined twice (first on line "
                      "%zu)", line, st->groups[i].line), -1;
  for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
  }
  st->groups[st->ngroups++] = (gxc__group){line, v, no};
  return 0;
}

/* Cuts the loaded groups file into its lines (in place) and checks
 * each; on error @p why is "PATH:LINE: ...". */
static int index_groups(gxc__tparse *st, const char *path, size_t n,
                        char *why, size_t len) {
  char *text = st->groups_text, r[512], q[512];
  size_t at = 0, no = 0, lines = 1, w = 0;
  int rc;
  for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
  st->groups = calloc(lines, sizeof *st->groups);
  if (!st->groups) return snprintf(why, len, "out of memory"), -1;
  /* next_line copies into place: the write cursor stays behind */
  while ((rc = next_line(text, n, &at, text + w, r, sizeof r)) != 0) {
    char *line = text + w;
    no++;
    if (rc > 0) w += strlen(line) + 1;
    if (rc > 0 && (!line[0] || group_line(st, line, no, r, sizeof r) == 0))
      continue;
    gxc_nodeset_quote(path, q, sizeof q);
    return snprintf(why, len, "%s:%zu: %s", q, no, r), -1;
  }
  return 0;
}

static int load_groups(gxc__tparse *st, const char *item, char *why,
                       size_t len) {
  const char *path = st->ctx->groups_file ? st->ctx->groups_file
                                          : GXC_GROUPS_FILE;
  char r[128], q[512], qi[512];
  size_t n;
  if (st->groups_loaded) return 0;
  if (read_all(path, &st->groups_text, &n, r, sizeof r) != 0) {
    gxc_nodeset_quote(path, q, sizeof q);
    gxc_nodeset_quote(item, qi, sizeof qi);
    return snprintf(why, len, "'%s': %s: %s", qi, q, r), -1;
  }
  if (index_groups(st, path, n, why, len) != 0) return -1;
  st->groups_loaded = 1;
  return 0;
}

int gxc__targets_group(gxc__tparse *st, const char *item, char *why,
                       size_t len) {
  const char *path = st->ctx->groups_file ? st->ctx->groups_file
                                          : GXC_GROUPS_FILE;
  size_t bad = strspn(item + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                                "OPQRSTUVWXYZ0123456789._-");
  char q[512];
  int rc = -1;
  if (!item[1])
    return gxc_nodeset_error(why, len, item, 2, "empty group name");
  if (item[1 + bad]) {
    gxc__targets_describe(item[1 + bad], q, sizeof q);
    return gxc_nodeset_error(why, len, item, bad + 2,
                             "%s not allowed in a group name", q);
  }
  if (load_groups(st, item, why, len) != 0) return -1;
  for (size_t i = 0; i < st->ngroups; i++) {
    if (strcmp(st->groups[i].name, item + 1) != 0) continue;
    if (!st->groups[i].value[0]) return 0;
    if (nest(st, item, why, len) != 0) return -1;
    rc = spec_at(st, st->groups[i].value, path, st->groups[i].line, why,
                 len);
    st->depth--;
    return rc;
  }
  gxc_nodeset_quote(path, q, sizeof q);
  snprintf(why, len, "unknown group '%s' in %s", item + 1, q);
  return -1;
}

/* -------------------------------------------------------------- dns */

int gxc_targets_resolve_default(void *ud, const char *name,
                                gxc_names *addrs, char *why,
                                size_t why_len) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = SOCK_STREAM}, *res = NULL;
  int rc = getaddrinfo(name, NULL, &hints, &res);
  (void)ud;
  if (rc != 0) {
    snprintf(why, why_len, "%s", gai_strerror(rc));
    return -1;
  }
  for (struct addrinfo *a = res; a && rc == 0; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = "";
    const void *bin =
        a->ai_family == AF_INET
            ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
            : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    inet_ntop(a->ai_family, bin, text, sizeof text);
    int seen = 0;
    for (size_t i = 0; i < addrs->n && !seen; i++)
      seen = strcmp(addrs->v[i], text) == 0;
    if (!seen && gxc_names_add(addrs, text) != 0) rc = -1;
  }
  freeaddrinfo(res);
  if (rc != 0) snprintf(why, why_len, "out of memory");
  return rc;
}

/* Adds one resolved address of @p item (an IPv6 one in brackets). */
static int add_resolved(gxc__tparse *st, const char *item, const char *a,
                        int port, char *why, size_t len) {
  unsigned char bin[sizeof(struct in6_addr)];
  char canon[INET6_ADDRSTRLEN], host[64], name[128], addr[128], q[512];
  int fam = strchr(a, ':') ? AF_INET6 : AF_INET;
  if (strlen(a) >= sizeof canon || inet_pton(fam, a, bin) != 1) {
    gxc_nodeset_quote(item, q, sizeof q);
    snprintf(why, len, "%s: resolver gave '", q);
    gxc_nodeset_quote(a, q, sizeof q);
    size_t o = strlen(why);
    snprintf(why + o, len > o ? len - o : 0, "%s', not an address", q);
    return -1;
  }
  inet_ntop(fam, bin, canon, sizeof canon);
  snprintf(host, sizeof host, fam == AF_INET6 ? "[%s]" : "%s", canon);
  gxc__targets_names(host, port, name, addr, sizeof addr);
  return gxc__targets_add(st, name, addr, item, why, len);
}

int gxc__targets_dns(gxc__tparse *st, const char *item, char *why,
                     size_t len) {
  const char *colon = strchr(item + 4, ':');
  size_t end = colon ? (size_t)(colon - item) : strlen(item);
  int port = GXC_DEFAULT_PORT, rc = -1;
  gxc_names addrs = {0};
  char host[300], r[256] = "", q[512];
  if (gxc__targets_host(item, 4, end, 0, why, len) != 0 ||
      (colon && gxc__targets_port(item, end + 1, &port, why, len) != 0))
    return -1;
  snprintf(host, sizeof host, "%.*s", (int)(end - 4), item + 4);
  if ((st->ctx->resolve ? st->ctx->resolve(st->ctx->resolve_ud, host, &addrs,
                                           r, sizeof r)
                        : gxc_targets_resolve_default(NULL, host, &addrs, r,
                                                      sizeof r)) != 0 ||
      addrs.n == 0) {
    gxc_nodeset_quote(item, q, sizeof q);
    snprintf(why, len, "%s: no address (%s)", q,
             r[0] ? r : "no A or AAAA record");
    goto out;
  }
  rc = 0;
  for (size_t i = 0; i < addrs.n && rc == 0; i++)
    rc = add_resolved(st, item, addrs.v[i], port, why, len);
out:
  gxc_names_free(&addrs);
  return rc;
}
