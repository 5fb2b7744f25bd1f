/* The TARGETS syntax: splitting a -w/-x value into items, the items
 * written on the command line (host patterns, [v6], unix:), the list,
 * exclusion and file stems. ^FILE, @GROUP and dns: are in targets_src.c.
 *
 * A parse appends to the caller's list and, on any error, cuts it back
 * to what it held: a half-parsed -w never reaches the driver. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/targets_int.h"

/* ------------------------------------------------------------- list */

static void truncate_list(gxc_target_list *l, size_t n) {
  while (l->n > n) {
    l->n--;
    free(l->v[l->n].name);
    free(l->v[l->n].address);
  }
}

void gxc_targets_free(gxc_target_list *l) {
  truncate_list(l, 0);
  free(l->v);
  l->v = NULL;
  l->cap = 0;
}

static int push(gxc_target_list *l, const char *name, const char *address) {
  gxc_target t = {strdup(name), strdup(address)};
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    gxc_target *v = realloc(l->v, cap * sizeof *v);
    if (v) l->v = v, l->cap = cap;
  }
  if (!t.name || !t.address || l->n == l->cap) {
    free(t.name);
    free(t.address);
    return -1;
  }
  l->v[l->n++] = t;
  return 0;
}

int gxc__targets_add(gxc__tparse *st, const char *name, const char *address,
                     const char *item, char *why, size_t len) {
  if (gxc__strset_has(&st->seen, address)) return 0;
  if (st->out->n >= GXC_TARGETS_MAX) {
    char q[512];
    gxc_nodeset_quote(item, q, sizeof q);
    snprintf(why, len, "'%s': more than %d targets", q, GXC_TARGETS_MAX);
    return -1;
  }
  if (push(st->out, name, address) != 0 ||
      gxc__strset_add(&st->seen, st->out->v[st->out->n - 1].address) < 0) {
    st->final = 1;
    return snprintf(why, len, "out of memory"), -1;
  }
  return 0;
}

void gxc__targets_names(const char *host, int port, char *name,
                        char *address, size_t cap) {
  if (port == GXC_DEFAULT_PORT)
    snprintf(name, cap, "%s", host);
  else
    snprintf(name, cap, "%s:%d", host, port);
  snprintf(address, cap, "%s:%d", host, port);
}

/* --------------------------------------------------- checking text */

static int host_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/* "character 'x'" or "byte \xNN" for a refused byte. */
void gxc__targets_describe(char c, char *out, size_t cap) {
  if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
    snprintf(out, cap, "character '%c'", c);
  else
    snprintf(out, cap, "byte \\x%02x", (unsigned char)c);
}

int gxc__targets_host(const char *item, size_t from, size_t to, int ranges,
                      char *why, size_t len) {
  int depth = 0;
  char d[32];
  if (from == to)
    return gxc_nodeset_error(why, len, item, from + 1, "empty host name");
  if (item[from] == '-')
    return gxc_nodeset_error(why, len, item, from + 1,
                             "host name starts with '-'");
  for (size_t i = from; i < to; i++) {
    char c = item[i];
    if (ranges && c == '[') {
      depth++;
      continue;
    }
    if (ranges && c == ']') {
      depth -= depth > 0; /* a stray ']': gxc_nodeset_expand says so */
      continue;
    }
    if (depth > 0 || host_byte(c)) continue; /* ranges: expand checks */
    gxc__targets_describe(c, d, sizeof d);
    return gxc_nodeset_error(why, len, item, i + 1,
                             "%s not allowed in a host name", d);
  }
  return 0;
}

int gxc__targets_port(const char *item, size_t at, int *port, char *why,
                      size_t len) {
  const char *p = item + at;
  size_t n = strspn(p, "0123456789");
  long v = n && n <= 5 ? strtol(p, NULL, 10) : 0;
  if (!*p) return gxc_nodeset_error(why, len, item, at + 1, "empty port");
  if (p[n] || v < 1 || v > 65535)
    return gxc_nodeset_error(why, len, item, at + 1,
                             "port must be 1..65535");
  *port = (int)v;
  return 0;
}

/* ------------------------------------------------------ item kinds */

/* "unix:/path" or "unix:///path": name and address as written. */
static int parse_unix(gxc__tparse *st, const char *item, char *why,
                      size_t len) {
  size_t at = strncmp(item, "unix://", 7) == 0 ? 7 : 5;
  char d[32];
  if (item[at] != '/')
    return gxc_nodeset_error(why, len, item, at + 1,
                             "unix socket path must be absolute");
  if (strlen(item + at) > 107)
    return gxc_nodeset_error(why, len, item, at + 1,
                             "unix socket path longer than 107 bytes");
  for (size_t i = at; item[i]; i++) {
    if ((unsigned char)item[i] >= 0x20 && item[i] != 0x7f) continue;
    gxc__targets_describe(item[i], d, sizeof d);
    return gxc_nodeset_error(why, len, item, i + 1,
                             "%s not allowed in a socket path", d);
  }
  return gxc__targets_add(st, item, item, item, why, len);
}

/* "[v6]" or "[v6]:port"; the address in canonical text. */
static int parse_v6(gxc__tparse *st, const char *item, char *why,
                    size_t len) {
  const char *close = strchr(item, ']');
  char lit[64], canon[INET6_ADDRSTRLEN], host[80];
  char name[128], addr[128], spare[128];
  struct in6_addr a;
  int port = GXC_DEFAULT_PORT;
  size_t n = close ? (size_t)(close - item - 1) : 0;
  if (!close) return gxc_nodeset_error(why, len, item, 1, "unclosed '['");
  snprintf(lit, sizeof lit, "%.*s", (int)(n < 63 ? n : 63), item + 1);
  if (n >= sizeof lit || inet_pton(AF_INET6, lit, &a) != 1)
    return gxc_nodeset_error(why, len, item, 2, "not an IPv6 address");
  if (close[1] && close[1] != ':')
    return gxc_nodeset_error(why, len, item, (size_t)(close - item) + 2,
                             "expected ':PORT' after ']'");
  if (close[1] &&
      gxc__targets_port(item, (size_t)(close - item) + 2, &port, why, len))
    return -1;
  inet_ntop(AF_INET6, &a, canon, sizeof canon);
  snprintf(host, sizeof host, "[%s]", canon);
  gxc__targets_names(host, port, spare, addr, sizeof addr);
  snprintf(host, sizeof host, "[%s]", lit);
  gxc__targets_names(host, port, name, spare, sizeof name);
  return gxc__targets_add(st, name, addr, item, why, len);
}

/* One past the index of the port's ':' (outside brackets), 0 if none,
 * -1 when there are two (a bare IPv6 address). */
static long port_colon(const char *item) {
  long at = 0;
  int depth = 0;
  for (long i = 0; item[i]; i++) {
    if (item[i] == '[') depth++;
    if (item[i] == ']') depth--;
    if (item[i] != ':' || depth > 0) continue;
    if (at) return -1;
    at = i + 1;
  }
  return at;
}

/* host[:port] with ranges: the whole item is expanded (the port has no
 * brackets, so the positions of expansion errors are the item's). */
static int parse_host(gxc__tparse *st, const char *item, char *why,
                      size_t len) {
  long colon = port_colon(item);
  size_t end = colon > 0 ? (size_t)colon - 1 : strlen(item);
  gxc_names names = {0};
  int port = GXC_DEFAULT_PORT, rc = -1;
  if (colon < 0)
    return gxc_nodeset_error(why, len, item, strcspn(item, ":") + 1,
                             "more than one ':' (an IPv6 address goes in "
                             "brackets)");
  if (gxc__targets_host(item, 0, end, 1, why, len) != 0 ||
      (colon > 0 && gxc__targets_port(item, end + 1, &port, why, len) != 0) ||
      gxc_nodeset_expand(item, &names, why, len) != 0)
    goto out;
  for (size_t i = 0; i < names.n; i++) {
    char name[300], addr[300];
    names.v[i][end + strlen(names.v[i]) - strlen(item)] = '\0';
    gxc__targets_names(names.v[i], port, name, addr, sizeof addr);
    if (gxc__targets_add(st, name, addr, item, why, len) != 0) goto out;
  }
  rc = 0;
out:
  gxc_names_free(&names);
  return rc;
}

/* A bracket first that holds a ':' is an IPv6 address, else a range. */
static int is_v6(const char *item) {
  size_t n = strcspn(item, "]");
  return item[0] == '[' && memchr(item, ':', n) != NULL;
}

static int parse_item(gxc__tparse *st, const char *item, char *why,
                      size_t len) {
  if (strncmp(item, "unix:", 5) == 0) return parse_unix(st, item, why, len);
  if (strncmp(item, "dns:", 4) == 0)
    return gxc__targets_dns(st, item, why, len);
  if (item[0] == '^') return gxc__targets_file(st, item, why, len);
  if (item[0] == '@') return gxc__targets_group(st, item, why, len);
  if (is_v6(item)) return parse_v6(st, item, why, len);
  return parse_host(st, item, why, len);
}

int gxc__targets_spec(gxc__tparse *st, const char *spec, char *why,
                      size_t len) {
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0;; i++) {
    char c = spec[i];
    if (c == '[') depth++;
    if (c == ']' && depth > 0) depth--;
    if (c && (c != ',' || depth > 0)) continue;
    if (i == start)
      return gxc_nodeset_error(why, len, spec, start + 1, "empty target");
    char *item = strndup(spec + start, i - start);
    int rc = item ? parse_item(st, item, why, len) : -1;
    if (!item) st->final = 1, snprintf(why, len, "out of memory");
    free(item);
    if (rc != 0) return -1;
    if (!c) return 0;
    start = i + 1;
  }
}

int gxc_targets_parse(const char *spec, const gxc_targets_ctx *ctx,
                      gxc_target_list *out, char *why, size_t why_len) {
  static const gxc_targets_ctx defaults = {0};
  gxc__tparse st = {.ctx = ctx ? ctx : &defaults, .out = out};
  size_t had = out->n;
  int rc = 0;
  for (size_t i = 0; i < out->n && rc == 0; i++)
    if (gxc__strset_add(&st.seen, out->v[i].address) < 0) rc = -1;
  if (rc != 0)
    snprintf(why, why_len, "out of memory");
  else
    rc = gxc__targets_spec(&st, spec, why, why_len);
  if (rc != 0) truncate_list(out, had);
  gxc__strset_free(&st.seen);
  free(st.groups_text);
  free(st.groups);
  return rc;
}

/* -------------------------------------------------------- exclusion */

static int excluded(const gxc_target *t, const gxc__strset *set,
                    const gxc_target_list *excl) {
  if (set) return gxc__strset_has(set, t->name) ||
                  gxc__strset_has(set, t->address);
  for (size_t j = 0; j < excl->n; j++)
    if (!strcmp(t->name, excl->v[j].name) ||
        !strcmp(t->name, excl->v[j].address) ||
        !strcmp(t->address, excl->v[j].name) ||
        !strcmp(t->address, excl->v[j].address))
      return 1;
  return 0;
}

void gxc_targets_exclude(gxc_target_list *l, const gxc_target_list *excl) {
  gxc__strset set = {0};
  int indexed = 1;
  size_t kept = 0;
  for (size_t j = 0; j < excl->n && indexed; j++)
    indexed = gxc__strset_add(&set, excl->v[j].name) >= 0 &&
              gxc__strset_add(&set, excl->v[j].address) >= 0;
  for (size_t i = 0; i < l->n; i++) {
    if (excluded(&l->v[i], indexed ? &set : NULL, excl)) {
      free(l->v[i].name);
      free(l->v[i].address);
    } else {
      l->v[kept++] = l->v[i];
    }
  }
  l->n = kept;
  gxc__strset_free(&set);
}

/* ------------------------------------------------------------ stems */

void gxc_target_file_stem(const char *name, char *out, size_t cap) {
  size_t n = 0, dots = 0;
  if (cap == 0) return;
  for (; name[n] && n + 1 < cap; n++) {
    out[n] = host_byte(name[n]) ? name[n] : '_';
    dots += name[n] == '.';
  }
  out[n] = '\0';
  if (n == 0)
    snprintf(out, cap, "_");
  else if (dots == n)
    memset(out, '_', n);
}

/* The stem of every target of @p l (malloc'd array of GXC_STEM_MAX-byte
 * strings), or NULL. */
#define GXC_STEM_MAX 256
static char (*all_stems(const gxc_target_list *l))[GXC_STEM_MAX] {
  char (*stems)[GXC_STEM_MAX] = calloc(l->n ? l->n : 1, GXC_STEM_MAX);
  for (size_t i = 0; stems && i < l->n; i++)
    gxc_target_file_stem(l->v[i].name, stems[i], GXC_STEM_MAX);
  return stems;
}

int gxc_targets_stem_clash(const gxc_target_list *l, size_t *a, size_t *b) {
  gxc__strset set = {0};
  char (*stems)[GXC_STEM_MAX] = all_stems(l);
  int rc = stems ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < l->n; i++) {
    int added = gxc__strset_add(&set, stems[i]);
    if (added < 0) rc = -1;
    if (added != 0) continue;
    *b = i;
    for (*a = 0; strcmp(stems[*a], stems[i]) != 0;) (*a)++;
    rc = 1;
  }
  gxc__strset_free(&set);
  free(stems);
  return rc;
}
