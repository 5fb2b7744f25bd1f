#include "server/tiers.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/gx_log.h"
#include "server/isolation/cgroup.h"

static const char *const names[3] = {"host", "baseline", "restricted"};

int gxd_tiers_index(const char *name) {
  for (int i = 0; i < 3; i++)
    if (strcmp(names[i], name) == 0) return i;
  return -1;
}

/* Runs `launcher --profile P --without...  [--pids N] -- /bin/true`. */
static int try_tier(const char *launcher, const char *profile,
                    const char *const *without, int n, int with_cgroup) {
  const char *argv[2 * GXD_MAX_WITHOUT + 12];
  int k = 0;
  argv[k++] = launcher;
  argv[k++] = "--profile";
  argv[k++] = profile;
  for (int i = 0; i < n; i++) {
    argv[k++] = "--without";
    argv[k++] = without[i];
  }
  if (with_cgroup) {
    argv[k++] = "--pids";
    argv[k++] = "4096";
  }
  argv[k++] = "--";
  argv[k++] = "/bin/true";
  argv[k] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int st = -1;
  int rc = posix_spawn(&pid, launcher, &fa, NULL, (char **)argv, NULL);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
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
           p->drop_caps ? "uid 1000, no capabilities" : "uid 0",
           t->full ? " (full)" : " (REDUCED)");
}

/* Removal steps, strongest tier first; each adds to the previous. */
static const char *const steps[][4] = {
    {NULL}, {"cgroup", NULL}, {"user", "net", NULL}, {"seccomp", NULL},
    {"pid", "ipc", "uts", "mount"},
};

/* Whether profile @p p uses mechanism @p m at all. */
static int uses(const gxi_profile *p, const char *m) {
  if (!strcmp(m, "user")) return p->user_ns;
  if (!strcmp(m, "net")) return p->net_ns;
  if (!strcmp(m, "pid")) return p->pid_ns;
  if (!strcmp(m, "ipc")) return p->ipc_ns;
  if (!strcmp(m, "uts")) return p->uts_ns;
  if (!strcmp(m, "mount")) return p->mount_ns;
  if (!strcmp(m, "seccomp")) return p->seccomp;
  return 1; /* cgroup: every profile uses it for limits */
}

static void probe_one(const char *launcher, int idx, int cg_version,
                      const char *const *dis, int ndis, gxd_tier *t) {
  const gxi_profile *base = gxi_profile_find(names[idx]);
  static const char *const all[] = {"user", "net", "pid", "ipc", "uts",
                                    "mount", "seccomp", "cgroup"};
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (disabled_has(dis, ndis, all[i])) add_without(t, all[i]);
  if (cg_version == 0) add_without(t, "cgroup");
  int forced = 0;
  for (int i = 0; i < t->nwithout; i++) forced += uses(base, t->without[i]);
  for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
    for (int j = 0; j < 4 && steps[s][j]; j++)
      if (uses(base, steps[s][j])) add_without(t, steps[s][j]);
    if (s > 0 && t->nwithout == 0) continue;
    int cg = !disabled_has(t->without, t->nwithout, "cgroup");
    if (try_tier(launcher, names[idx], t->without, t->nwithout, cg) == 0) {
      t->usable = 1;
      t->full = s == 0 && forced == 0;
      break;
    }
  }
  t->eff = *base;
  t->cgroup_version = cg_version;
  apply_without(t);
  describe(t, names[idx]);
}

int gxd_tiers_probe(const char *launcher, const char *const *disabled,
                    int ndisabled, const char *const *required,
                    int nrequired, gxd_tiers *out, char *why, size_t len) {
  gxi_cgroup_caps caps;
  int cg = 0;
  if (access(launcher, X_OK) != 0) {
    snprintf(why, len, "launcher %s is not executable", launcher);
    return -1;
  }
  if (gxi_cgroup_probe(&caps) == 0 && (caps.has_memory || caps.has_pids))
    cg = caps.version;
  for (int i = 0; i < 3; i++) {
    probe_one(launcher, i, cg, disabled, ndisabled, &out->t[i]);
    gx_log(out->t[i].full ? GX_LOG_INFO : GX_LOG_WARN, "isolation %s",
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
