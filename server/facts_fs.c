/* Facts of mounted filesystems: /proc/self/mountinfo (proc(5)) and
 * statvfs(3). A line:
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw
 *   id parent dev root mount-point options [optional...] - type source super
 * Mount points and sources escape space, tab, newline and backslash as
 * \040 \011 \012 \134. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "server/facts_read.h"

static const char *const pseudo_types[] = {
    "proc",       "sysfs",     "cgroup",    "cgroup2",     "tmpfs",
    "devtmpfs",   "devpts",    "mqueue",    "debugfs",     "tracefs",
    "securityfs", "pstore",    "bpf",       "configfs",    "fusectl",
    "hugetlbfs",  "autofs",    "binfmt_misc", "efivarfs",  "nsfs",
    "ramfs",      "rpc_pipefs", "selinuxfs", "overlay",    "squashfs",
    NULL};

int gxd_facts_fs_pseudo(const char *type) {
  for (const char *const *p = pseudo_types; *p; p++)
    if (strcmp(*p, type) == 0) return 1;
  return 0;
}

/* Undoes the \ooo escapes of @p s in place. */
static void unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
        r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

/* Whether the comma-separated @p opts has the option "ro". */
static int has_ro(const char *opts) {
  size_t n = strlen(opts);
  for (const char *p = opts; p < opts + n; p += strcspn(p, ",") + 1)
    if (strncmp(p, "ro", 2) == 0 && (p[2] == ',' || p[2] == '\0')) return 1;
  return 0;
}

typedef struct {
  char *mount_point, *options, *type, *source;
} mount_line;

/* Splits one mountinfo line in place; 0 if it has every field. */
static int split_line(char *line, mount_line *m) {
  char *f[6], *save = NULL;
  int n = 0;
  while (n < 6 && (f[n] = strtok_r(n ? NULL : line, " ", &save))) n++;
  if (n < 6) return -1;
  m->mount_point = f[4];
  m->options = f[5];
  char *t;
  while ((t = strtok_r(NULL, " ", &save)) && strcmp(t, "-") != 0) {
  }
  m->type = t ? strtok_r(NULL, " ", &save) : NULL;
  m->source = m->type ? strtok_r(NULL, " ", &save) : NULL;
  if (!m->source) return -1;
  unescape(m->mount_point);
  unescape(m->source);
  return 0;
}

/* The sizes of the filesystem at @p path (of type @p type); left unset
 * when statvfs fails or, for a type that may hang, does not answer in
 * GXD_FACTS_STATVFS_MS (facts_statvfs.c). */
static void sizes(Gexec__V1__FactsFilesystem *fs, const char *path,
                  const char *type) {
  struct statvfs v;
  int rc = gxd_facts_fs_may_hang(type)
               ? gxd_facts_statvfs_bounded(path, &v, GXD_FACTS_STATVFS_MS,
                                           statvfs)
               : statvfs(path, &v);
  if (rc != 0) return;
  uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
  fs->size_bytes = (uint64_t)v.f_blocks * unit;
  fs->free_bytes = (uint64_t)v.f_bfree * unit;
  fs->available_bytes = (uint64_t)v.f_bavail * unit;
}

static Gexec__V1__FactsFilesystem *new_fs(const mount_line *m, int live) {
  Gexec__V1__FactsFilesystem *fs = malloc(sizeof *fs);
  if (!fs) return NULL;
  gexec__v1__facts_filesystem__init(fs);
  if (gxd_facts_set(&fs->mount_point, m->mount_point) != 0 ||
      gxd_facts_set(&fs->type, m->type) != 0 ||
      gxd_facts_set(&fs->device, m->source) != 0) {
    gexec__v1__facts_filesystem__free_unpacked(fs, NULL);
    return NULL;
  }
  fs->read_only = has_ro(m->options);
  if (live) sizes(fs, m->mount_point, m->type);
  return fs;
}

/* Adds the filesystem of @p line to @p r unless it is left out. */
static int add_line(char *line, int pseudo, int live,
                    Gexec__V1__FactsResponse *r) {
  mount_line m;
  if (split_line(line, &m) != 0) return 0;
  if ((!pseudo && gxd_facts_fs_pseudo(m.type)) ||
      r->n_filesystems >= GXD_FACTS_FS_MAX)
    return 0;
  Gexec__V1__FactsFilesystem *fs = new_fs(&m, live);
  if (!fs) return -1;
  r->filesystems[r->n_filesystems++] = fs;
  return 0;
}

int gxd_facts_filesystems(const char *root, int pseudo, int live,
                          Gexec__V1__FactsResponse *r) {
  char *t, *save = NULL;
  long n = gxd_facts_read_file(root, "/proc/self/mountinfo",
                               GXD_FACTS_FILE_MAX, &t);
  if (n < 0) return -1;
  size_t lines = 1;
  for (const char *p = t; (p = strchr(p, '\n')); p++) lines++;
  if (lines > GXD_FACTS_FS_MAX) lines = GXD_FACTS_FS_MAX;
  r->filesystems = calloc(lines, sizeof *r->filesystems);
  int rc = r->filesystems ? 0 : -1;
  for (char *l = rc ? NULL : strtok_r(t, "\n", &save); l && rc == 0;
       l = strtok_r(NULL, "\n", &save))
    rc = add_line(l, pseudo, live, r);
  free(t);
  return rc;
}
