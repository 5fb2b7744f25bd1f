/* Facts of the system: os-release, machine-id, boot-id, hostname, FQDN,
 * kernel. */
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include "server/facts_read.h"

/* ---------------------------------------------------------- os-release */

/* Unquotes an os-release value in place (os-release(5): shell-like; in
 * double quotes \" \\ \$ \` are escapes, in single quotes nothing is).
 * Returns @p v. */
static char *unquote(char *v) {
  size_t n = strlen(v);
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
    v[--n] = '\0';
  char q = (v[0] == '"' || v[0] == '\'') ? v[0] : 0;
  char *r = v + (q ? 1 : 0), *w = v;
  for (; *r && *r != q; r++) {
    if (*r == '\\' && q != '\'' && r[1] && strchr("\"\\$`", r[1])) r++;
    *w++ = *r;
  }
  *w = '\0';
  return v;
}

typedef struct {
  const char *key;
  size_t offset;
} os_key;

#define OS_FIELD(k, f) {k, offsetof(Gexec__V1__FactsOs, f)}
static const os_key os_keys[] = {
    OS_FIELD("ID", id),
    OS_FIELD("NAME", name),
    OS_FIELD("VERSION", version),
    OS_FIELD("VERSION_ID", version_id),
    OS_FIELD("VERSION_CODENAME", codename),
    OS_FIELD("PRETTY_NAME", pretty_name),
};

static int os_line(char *line, Gexec__V1__FactsOs *out) {
  char *eq = strchr(line, '=');
  if (line[0] == '#' || !eq) return 0;
  *eq = '\0';
  for (size_t i = 0; i < sizeof os_keys / sizeof *os_keys; i++)
    if (strcmp(line, os_keys[i].key) == 0) {
      char **field = (char **)((char *)out + os_keys[i].offset);
      return gxd_facts_set(field, unquote(eq + 1));
    }
  return 0;
}

int gxd_facts_os_parse(const char *text, Gexec__V1__FactsOs *out) {
  char *copy = strdup(text), *save = NULL;
  int rc = copy ? 0 : -1;
  for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l && rc == 0;
       l = strtok_r(NULL, "\n", &save))
    rc = os_line(l, out);
  free(copy);
  return rc;
}

int gxd_facts_os(const char *root, Gexec__V1__FactsOs *out) {
  char *t;
  if (gxd_facts_read_file(root, "/etc/os-release", GXD_FACTS_SMALL_MAX, &t) <
          0 &&
      gxd_facts_read_file(root, "/usr/lib/os-release", GXD_FACTS_SMALL_MAX,
                          &t) < 0)
    return -1;
  int rc = gxd_facts_os_parse(t, out);
  free(t);
  return rc;
}

/* ---------------------------------------------------- names and ids */

/* Moves @p s (malloc'd, may be NULL) into the string *@p field. */
static void take(char **field, char *s) {
  if (s) *field = s;
}

/* The canonical name of @p host (getaddrinfo AI_CANONNAME: /etc/hosts,
 * DNS), or a copy of @p host. */
static char *canonical(const char *host) {
  struct addrinfo hints = {.ai_flags = AI_CANONNAME, .ai_family = AF_UNSPEC,
                           .ai_socktype = SOCK_STREAM};
  struct addrinfo *ai = NULL;
  char *s = NULL;
  if (getaddrinfo(host, NULL, &hints, &ai) == 0 && ai && ai->ai_canonname)
    s = gxd_facts_strndup(ai->ai_canonname, strlen(ai->ai_canonname));
  if (ai) freeaddrinfo(ai);
  return s ? s : gxd_facts_strndup(host, strlen(host));
}

int gxd_facts_system(const char *root, int live,
                     Gexec__V1__FactsResponse *r) {
  take(&r->hostname, gxd_facts_read_line(root, "/proc/sys/kernel/hostname"));
  if (r->hostname[0])
    take(&r->fqdn, live ? canonical(r->hostname)
                        : gxd_facts_strndup(r->hostname,
                                            strlen(r->hostname)));
  take(&r->machine_id, gxd_facts_read_line(root, "/etc/machine-id"));
  take(&r->boot_id,
       gxd_facts_read_line(root, "/proc/sys/kernel/random/boot_id"));
  return 0;
}

int gxd_facts_kernel(const char *root, Gexec__V1__FactsKernel *out) {
  struct utsname u;
  take(&out->release, gxd_facts_read_line(root, "/proc/sys/kernel/osrelease"));
  take(&out->version, gxd_facts_read_line(root, "/proc/sys/kernel/version"));
  if (uname(&u) == 0) return gxd_facts_set(&out->arch, u.machine);
  return 0;
}
