#include "server/tiers.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/launch_wire.h"
#include "server/log.h"

static const char *const names[3] = {"host", "baseline", "restricted"};

const char *gxd_tiers_name(int index) { return names[index]; }

int gxd_tiers_index(const char *name) {
  for (int i = 0; i < 3; i++)
    if (strcmp(names[i], name) == 0) return i;
  return -1;
}

/* The reason the launcher gave on its report fd, if any (one record). */
static void read_reason(int fd, char *why, size_t len) {
  gxl_reader rd;
  gxl_record rec;
  char buf[GXL_LINE_MAX];
  ssize_t n;
  gxl_reader_init(&rd);
  why[0] = '\0';
  while ((n = read(fd, buf, sizeof buf)) > 0 &&
         gxl_reader_push(&rd, buf, (size_t)n) == 0)
    while (gxl_reader_next(&rd, &rec) == 1)
      if (rec.kind == GXL_REC_ERROR)
        snprintf(why, len, "%.399s", rec.reason);
}

/* Runs `launcher --profile P --without... [--pids N --cgroup C] --
 * /bin/true` in "/" with an empty environment. Returns 0 if it ran, else
 * -1 with the launcher's reason in @p why. */
static int try_tier(const char *launcher, const char *profile,
                    const char *const *without, int n, const char *cgroup,
                    char *why, size_t len) {
  static char *const empty_env[] = {NULL};
  const char *argv[2 * GXD_MAX_WITHOUT + 14];
  int k = 0, rep[2];
  argv[k++] = launcher;
  argv[k++] = "--profile";
  argv[k++] = profile;
  for (int i = 0; i < n; i++) {
    argv[k++] = "--without";
    argv[k++] = without[i];
  }
  if (cgroup) {
    argv[k++] = "--pids";
    argv[k++] = "4096";
    argv[k++] = "--cgroup";
    argv[k++] = cgroup;
  }
  argv[k++] = "--report-fd";
  argv[k++] = "3";
  argv[k++] = "--";
  argv[k++] = "/bin/true";
  argv[k] = NULL;
  snprintf(why, len, "the launcher could not be started");
  if (pipe2(rep, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, rep[1], 3);
  posix_spawn_file_actions_addchdir_np(&fa, "/");
  pid_t pid;
  int st = -1;
  int rc = posix_spawn(&pid, launcher, &fa, NULL, (char **)argv, empty_env);
  posix_spawn_file_actions_destroy(&fa);
  close(rep[1]);
  if (rc == 0) read_reason(rep[0], why, len);
  close(rep[0]);
  if (rc != 0) return -1;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  if (!why[0]) snprintf(why, len, "/bin/true did not exit 0 (status %d)", st);
  return -1;
}

static int disabled_has(const char *const *d, int n, const char *m) {
  for (int i = 0; i < n; i++)
    if (strcmp(d[i], m) == 0) return 1;
  return 0;
}

static void add_without(gxd_tier *t, const char *m) {
  for (int i = 0; i < t->nwithout; i++)
    if (strcmp(t->without[i], m) == 0) return;
  if (t->nwithout < GXD_MAX_WITHOUT) t->without[t->nwithout++] = m;
}

/* Applies the --without list to the profile copy (as gexec-launch does). */
static void apply_without(gxd_tier *t) {
  for (int i = 0; i < t->nwithout; i++)
    if (gxi_profile_without(&t->eff, t->without[i]) == 1)
      t->cgroup_version = 0;
}

static void describe(gxd_tier *t, const char *name) {
  const gxi_profile *p = &t->eff;
  char ns[96] = "";
  const char *flags[] = {p->pid_ns ? "pid" : NULL, p->ipc_ns ? "ipc" : NULL,
                         p->uts_ns ? "uts" : NULL, p->mount_ns ? "mount" : NULL,
                         p->user_ns ? "user" : NULL, p->net_ns ? "net" : NULL};
  for (size_t i = 0; i < 6; i++)
    if (flags[i])
      snprintf(ns + strlen(ns), sizeof ns - strlen(ns), "%s%s",
               ns[0] ? "+" : "", flags[i]);
  snprintf(t->desc, sizeof t->desc,
           "%s: namespaces %s; cgroup %s; seccomp %s; %s%s%s", name,
           ns[0] ? ns : "none",
           t->cgroup_version == 2 ? "v2" : t->cgroup_version == 1 ? "v1" : "none",
           p->seccomp ? "on" : "off", p->ro_root ? "read-only root; " : "",
           p->drop_caps   ? "uid 1000, no capabilities"
           : p->root_caps ? "uid 0, container capabilities"
                          : "uid 0",
           t->full ? " (full)" : " (REDUCED)");
}

/* Removal steps, strongest tier first; each adds to the previous. */
static const char *const steps[][4] = {
    {NULL}, {"cgroup", NULL}, {"user", "net", NULL}, {"seccomp", NULL},
    {"pid", "ipc", "uts", "mount"},
};

/* Whether mechanism @p m is part of profile @p p's full tier. */
static int uses(const gxi_profile *p, const char *m) {
  if (!strcmp(m, "user")) return p->user_ns;
  if (!strcmp(m, "net")) return p->net_ns;
  if (!strcmp(m, "pid")) return p->pid_ns;
  if (!strcmp(m, "ipc")) return p->ipc_ns;
  if (!strcmp(m, "uts")) return p->uts_ns;
  if (!strcmp(m, "mount")) return p->mount_ns;
  if (!strcmp(m, "seccomp")) return p->seccomp;
  return p->needs_cgroup; /* cgroup: only where its limits are defaults */
}

/* Lists what the full tier of @p base lacks in t->missing. */
static void note_missing(gxd_tier *t, const gxi_profile *base) {
  t->missing[0] = '\0';
  for (int i = 0; i < t->nwithout; i++) {
    if (!uses(base, t->without[i])) continue;
    size_t n = strlen(t->missing);
    snprintf(t->missing + n, sizeof t->missing - n, "%s%s%s",
             n ? ", " : "", t->without[i],
             strcmp(t->without[i], "seccomp") && strcmp(t->without[i], "cgroup")
                 ? " namespace" : "");
  }
}

static void probe_one(const char *launcher, int idx,
                      const gxi_cgroup_caps *caps, const char *cgroup,
                      const char *const *dis, int ndis, gxd_tier *t) {
  int cg_version = caps->has_memory || caps->has_pids ? caps->version : 0;
  const gxi_profile *base = gxi_profile_find(names[idx]);
  static const char *const all[] = {"user", "net", "pid", "ipc", "uts",
                                    "mount", "seccomp", "cgroup"};
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (disabled_has(dis, ndis, all[i])) add_without(t, all[i]);
  /* restricted's default limits need both controllers */
  if (cg_version == 0 ||
      (base->needs_cgroup && !(caps->has_memory && caps->has_pids)))
    add_without(t, "cgroup");
  for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
    int before = t->nwithout;
    for (int j = 0; j < 4 && steps[s][j]; j++) /* cgroup: always optional */
      if (uses(base, steps[s][j]) || !strcmp(steps[s][j], "cgroup"))
        add_without(t, steps[s][j]);
    if (s > 0 && t->nwithout == before) continue; /* nothing new to try */
    int cg = !disabled_has(t->without, t->nwithout, "cgroup");
    char why[400];
    gxi_cgroup left;
    int rc = try_tier(launcher, names[idx], t->without, t->nwithout,
                      cg ? cgroup : NULL, why, sizeof why);
    /* a launcher that failed leaves its cgroup: the next try makes it */
    if (cg && gxi_cgroup_open(caps, cgroup, &left) == 0)
      gxi_cgroup_destroy(&left);
    if (rc == 0) {
      t->usable = 1;
      break;
    }
    gxd_log(GXD_LOG_WARN, "isolation %s: a tier failed, trying one with "
            "fewer mechanisms: %s", names[idx], why);
  }
  t->full = t->usable;
  for (int i = 0; i < t->nwithout; i++)
    if (uses(base, t->without[i])) t->full = 0;
  t->eff = *base;
  t->cgroup_version = cg_version;
  apply_without(t);
  if (!t->full) note_missing(t, base);
  describe(t, names[idx]);
}

int gxd_tiers_probe(const char *launcher, const gxi_cgroup_caps *caps,
                    const char *cgroup_dir, const char *const *disabled,
                    int ndisabled, const char *const *required,
                    int nrequired, gxd_tiers *out, char *why, size_t len) {
  char cgroup[GXI_CGROUP_NAME_MAX + 1];
  if (access(launcher, X_OK) != 0) {
    snprintf(why, len, "launcher %s is not executable", launcher);
    return -1;
  }
  snprintf(cgroup, sizeof cgroup, "%s/probe", cgroup_dir);
  for (int i = 0; i < 3; i++) {
    probe_one(launcher, i, caps, cgroup, disabled, ndisabled, &out->t[i]);
    gxd_log(out->t[i].full ? GXD_LOG_INFO : GXD_LOG_WARN, "isolation %s",
            out->t[i].desc);
  }
  for (int i = 0; i < nrequired; i++) {
    int k = gxd_tiers_index(required[i]);
    if (k < 0) {
      snprintf(why, len, "--require-isolation %s: no such profile",
               required[i]);
      return -1;
    }
    if (!out->t[k].full) {
      snprintf(why, len,
               "--require-isolation %s: this host cannot provide it in full "
               "(%s)", required[i], out->t[k].desc);
      return -1;
    }
  }
  return 0;
}
